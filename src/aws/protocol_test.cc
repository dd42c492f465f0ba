#include "aws/protocol.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lambent::aws {
namespace {
namespace json = boost::json;

ServiceInfo sqs_like() {
  return {.name = "sqs",
          .protocol = Protocol::kJson,
          .target_prefix = "AmazonSQS.",
          .json_version = "1.0",
          .type_prefix = "com.amazonaws.sqs#",
          .xmlns = "http://queue.amazonaws.com/doc/2012-11-05/"};
}

// SQS's QueueDoesNotExist (query code AWS.SimpleQueueService.NonExistentQueue) in `protocol`.
http::Response no_queue(Protocol protocol, std::string message) {
  ServiceError e(400, "QueueDoesNotExist", std::move(message));
  e.query_code = "AWS.SimpleQueueService.NonExistentQueue";
  return error_response(sqs_like(), protocol, e, "rid-1");
}

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(ErrorShape, RestJsonHasTypeHeaderAndMessageMember) {
  ServiceError e(404, "ResourceNotFoundException", "Function not found: x");
  e.message_member = "Message";
  e.extra.emplace_back("Reason", "Why");
  auto r = error_response(ServiceInfo{}, Protocol::kRestJson, e, "rid");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(header(r, "x-amzn-ErrorType"), "ResourceNotFoundException");
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("Type"), "User");
  EXPECT_EQ(body.at("Message"), "Function not found: x");
  EXPECT_EQ(body.at("Reason"), "Why");
  auto five = error_response(ServiceInfo{}, Protocol::kRestJson, internal_error(), "rid");
  EXPECT_EQ(json::parse(five.body).at("Type"), "Service");
}

TEST(ErrorShape, JsonCarriesTypeAndQueryCompatibleCode) {
  auto r = no_queue(Protocol::kJson, "The specified queue does not exist.");
  EXPECT_EQ(r.content_type, "application/x-amz-json-1.0");
  EXPECT_EQ(header(r, "x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(json::parse(r.body).at("__type"), "com.amazonaws.sqs#QueueDoesNotExist");
}

TEST(ErrorShape, QueryUsesTheQueryCodeAndEscapes) {
  auto r = no_queue(Protocol::kQuery, "a <b> & c");
  EXPECT_EQ(r.content_type, "text/xml");
  EXPECT_NE(r.body.find("<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
                        "<Message>a &lt;b&gt; &amp; c</Message>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<RequestId>rid-1</RequestId>"), std::string::npos);
  EXPECT_NE(r.body.find("xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\""),
            std::string::npos);
  auto five = error_response(sqs_like(), Protocol::kQuery, internal_error(), "r");
  EXPECT_EQ(five.status, 500u);
  EXPECT_NE(five.body.find("<Type>Receiver</Type><Code>InternalFailure</Code>"),
            std::string::npos);
}

TEST(ErrorShape, RestXmlIsS3sErrorDocument) {
  ServiceError e(404, "NoSuchKey", "The specified key does not exist.");
  e.extra.emplace_back("Key", "a&b");
  auto r = error_response(ServiceInfo{}, Protocol::kRestXml, e, "rid");
  EXPECT_EQ(r.content_type, "application/xml");
  EXPECT_NE(r.body.find("<Error><Code>NoSuchKey</Code><Message>The specified key does not "
                        "exist.</Message><Key>a&amp;b</Key><RequestId>rid</RequestId></Error>"),
            std::string::npos)
      << r.body;
}

TEST(QueryForm, MemberListsEntryMapsAndFlattenedLists) {
  auto f = parse_query_form(
      "Action=CreateRole&Version=2010-05-08&Tags.member.1.Key=a&Tags.member.1.Value=1&"
      "Tags.member.2.Key=b&Tags.member.2.Value=2&Attributes.entry.1.key=k&Attributes.entry.1.value="
      "v%20w&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=7&Plain=x%2By");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->action, "CreateRole");
  EXPECT_EQ(f->version, "2010-05-08");
  EXPECT_EQ(f->params.size(), 9u);
  const auto& t = f->tree;
  ASSERT_TRUE(t.at("Tags").is_array());
  EXPECT_EQ(t.at("Tags").as_array().size(), 2u);
  EXPECT_EQ(t.at("Tags").as_array()[1].at("Value"), "2");
  EXPECT_EQ(t.at("Attributes").at("k"), "v w");
  EXPECT_EQ(t.at("Attribute").as_array()[0].at("Name"), "VisibilityTimeout");
  EXPECT_EQ(t.at("Plain"), "x+y");
}

TEST(QueryForm, RefusesBadIndexesAndConflicts) {
  EXPECT_FALSE(parse_query_form("Action=A&List.member.0=x"));
  EXPECT_FALSE(parse_query_form("Action=A&List.member.99999=x"));
  EXPECT_FALSE(parse_query_form("Action=A&X=1&X.Y=2"));
  EXPECT_FALSE(parse_query_form("Action=A&.=1"));
  EXPECT_FALSE(parse_query_form("Action=A&b=%ZZ"));
  EXPECT_TRUE(parse_query_form(""));
  // Found by fuzzing: a top-level "member" list once turned the whole tree into a list (an
  // exception, answered 500). It is a parameter like any other.
  auto top = parse_query_form("member.1.Value=v&Attributes.entry.1.key=k");
  ASSERT_TRUE(top);
  EXPECT_TRUE(top->tree.at("member").is_array());
  EXPECT_EQ(top->tree.at("Attributes").at("k"), "");
}

TEST(CredentialScope, NamesTheService) {
  EXPECT_EQ(credential_scope_service(
                "AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/sqs/aws4_request, "
                "SignedHeaders=host, Signature=abc"),
            "sqs");
  EXPECT_EQ(credential_scope_service("AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1"), "");
  EXPECT_EQ(credential_scope_service(""), "");
}

TEST(QueryWriter, MembersListsAndScalars) {
  json::object r{{"Name", "a<b"},
                 {"List", json::array{"x", "y"}},
                 {"Nested", json::object{{"On", true}, {"N", 3}, {"D", 1.5}}}};
  std::string out;
  write_query_members(out, r);
  EXPECT_EQ(out,
            "<Name>a&lt;b</Name><List><member>x</member><member>y</member></List>"
            "<Nested><On>true</On><N>3</N><D>1.5</D></Nested>");
}

}  // namespace
}  // namespace lambent::aws

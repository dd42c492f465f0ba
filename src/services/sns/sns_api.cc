#include "services/sns/sns_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <regex>
#include <set>

#include "base/codec.h"

namespace lambent::sns {
namespace json = boost::json;
using aws::ServiceError;

namespace {

constexpr const char* kXmlns = "http://sns.amazonaws.com/doc/2010-03-31/";
constexpr size_t kPage = 100;

std::string opt(const json::object& in, std::string_view key) {
  return aws::string_member(in, key);
}

[[noreturn]] void fail(const notify::SnsError& e) {
  if (e.code == "AuthorizationError") throw ServiceError(403, e.code, e.message);
  if (e.code == "ResourceNotFound") throw ServiceError(404, e.code, e.message);
  if (!e.code.empty()) throw ServiceError(400, e.code, e.message);
  switch (e.errc) {
    case Errc::kNotFound:
      throw ServiceError(404, "NotFound", e.message);
    case Errc::kInvalidArgument:
    case Errc::kConflict:
      throw ServiceError(400, "InvalidParameter", e.message);
    default:
      throw ServiceError(500, "InternalError", "An internal error occurred.");
  }
}

template <class T>
T unwrap(notify::SnsResult<T>&& r) {
  if (!r) fail(r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

[[noreturn]] void missing(const std::string& member) {
  throw ServiceError(400, "InvalidParameter",
                     "Invalid parameter: " + member + " Reason: the member is required");
}

std::map<std::string, std::string> string_map(const json::object& in, const char* key) {
  std::map<std::string, std::string> out;
  if (auto* m = in.if_contains(key); m && m->is_object()) {
    for (const auto& [k, v] : m->as_object()) {
      out[std::string(k)] = v.is_string() ? std::string(v.as_string()) : json::serialize(v);
    }
  }
  return out;
}

std::map<std::string, std::string> tag_list(const json::object& in, const char* key) {
  std::map<std::string, std::string> out;
  if (auto* a = in.if_contains(key); a && a->is_array()) {
    for (const auto& t : a->as_array()) {
      if (!t.is_object()) continue;
      out[opt(t.as_object(), "Key")] = opt(t.as_object(), "Value");
    }
  }
  return out;
}

std::vector<std::string> string_list(const json::object& in, const char* key) {
  std::vector<std::string> out;
  if (auto* a = in.if_contains(key); a && a->is_array()) {
    for (const auto& x : a->as_array()) {
      if (x.is_string()) out.emplace_back(x.as_string());
    }
  }
  return out;
}

// Publish's and PublishBatch entries' message: checked as SNS checks it.
notify::PublishInput message_of(const json::object& in) {
  notify::PublishInput m;
  m.message = opt(in, "Message");
  if (in.contains("Subject")) m.subject = opt(in, "Subject");
  std::string structure = opt(in, "MessageStructure");
  if (!structure.empty() && structure != "json") {
    throw ServiceError(400, "InvalidParameter", "Invalid parameter: MessageStructure");
  }
  m.json_structure = structure == "json";
  if (in.contains("MessageGroupId") || in.contains("MessageDeduplicationId")) {
    throw ServiceError(400, "InvalidParameter",
                       "Invalid parameter: The MessageGroupId parameter is required for FIFO "
                       "topics; standard topics do not take MessageGroupId or "
                       "MessageDeduplicationId");
  }
  if (auto* a = in.if_contains("MessageAttributes"); a && a->is_object()) {
    for (const auto& [name, v] : a->as_object()) {
      if (!v.is_object()) continue;
      const auto& o = v.as_object();
      std::string value = opt(o, "StringValue");
      if (value.empty()) value = opt(o, "BinaryValue");
      m.attributes[std::string(name)] = {opt(o, "DataType"), value};
    }
  }
  return m;
}

void write_sns(std::string& out, std::string_view, const json::object& result) {
  for (const auto& [k, v] : result) {
    if (k == "Attributes" && v.is_object()) {
      // A map: <entry><key/><value/></entry>.
      out += "<Attributes>";
      for (const auto& [ak, av] : v.as_object()) {
        out += "<entry><key>" + xml_escape(ak) + "</key><value>" +
               xml_escape(av.is_string() ? std::string_view(av.as_string()) : "") +
               "</value></entry>";
      }
      out += "</Attributes>";
      continue;
    }
    aws::write_query_members(out, json::object{{k, v}});
  }
}

std::string page_token(const std::string& last) { return base64_encode(last); }
std::string after_token(const json::object& in) {
  std::string token = opt(in, "NextToken");
  if (token.empty()) return "";
  auto decoded = base64_decode(token);
  if (!decoded) throw ServiceError(400, "InvalidParameter", "Invalid parameter: NextToken");
  return *decoded;
}

}  // namespace

aws::ServiceInfo SnsApi::info() {
  aws::ServiceInfo i;
  i.name = "sns";
  i.protocol = aws::Protocol::kQuery;
  i.xmlns = kXmlns;
  i.query_writer = write_sns;
  i.access_denied_query_code = "AuthorizationError";
  i.empty_result_ops = {"TagResource", "UntagResource"};
  return i;
}

std::string SnsApi::topic_of(const Call& call, const char* member) const {
  std::string arn = opt(call.input, member);
  if (arn.empty()) missing(member);
  std::string name = topics_.topic_name(arn);
  if (name.empty())
    throw ServiceError(400, "InvalidParameter", std::string("Invalid parameter: ") + member);
  return name;
}

SnsApi::SnsApi(notify::TopicService& topics, boost::asio::thread_pool& pool)
    : topics_(topics), service_(info(), pool) {
  // sns:<Operation> on the topic (a subscription's operations: on its topic).
  service_.set_access([this](const Call& call) -> std::vector<aws::Access> {
    const auto& in = call.input;
    std::string resource = "*";
    if (call.operation == "CreateTopic") {
      resource = topics_.topic_arn(opt(in, "Name"));
    } else if (auto t = opt(in, "TopicArn"); !t.empty()) {
      resource = t;
    } else if (auto r = opt(in, "ResourceArn"); !r.empty()) {
      resource = r;
    } else if (auto target = opt(in, "TargetArn"); !target.empty()) {
      resource = target;
    } else if (auto s = opt(in, "SubscriptionArn"); !s.empty()) {
      resource = s.substr(0, s.rfind(':'));
    }
    return {{"sns:" + call.operation, resource, {}}};
  });
  service_.add("CreateTopic", [this](Call& c) { return create_topic(c); });
  service_.add("DeleteTopic", [this](Call& c) -> Output {
    unwrap(topics_.delete_topic(topic_of(c)));
    return json::object{};
  });
  service_.add("ListTopics", [this](Call& c) { return list_topics(c); });
  service_.add("GetTopicAttributes", [this](Call& c) -> Output {
    auto attributes = unwrap(topics_.topic_attributes(topic_of(c)));
    json::object a;
    for (const auto& [k, v] : attributes) a[k] = v;
    return json::object{{"Attributes", std::move(a)}};
  });
  service_.add("SetTopicAttributes", [this](Call& c) -> Output {
    std::string key = opt(c.input, "AttributeName");
    if (key.empty()) missing("AttributeName");
    unwrap(topics_.set_topic_attribute(topic_of(c), key, opt(c.input, "AttributeValue")));
    return json::object{};
  });
  service_.add("Subscribe", [this](Call& c) { return subscribe(c); });
  service_.add("ConfirmSubscription", [this](Call& c) -> Output {
    std::string token = opt(c.input, "Token");
    if (token.empty()) missing("Token");
    std::string arn = unwrap(
        topics_.confirm(topic_of(c), token, opt(c.input, "AuthenticateOnUnsubscribe") == "true"));
    return json::object{{"SubscriptionArn", arn}};
  });
  service_.add("Unsubscribe", [this](Call& c) -> Output {
    std::string arn = opt(c.input, "SubscriptionArn");
    if (arn.empty()) missing("SubscriptionArn");
    unwrap(topics_.unsubscribe(arn, true));
    return json::object{};
  });
  service_.add("ListSubscriptions", [this](Call& c) { return list_subscriptions(c, false); });
  service_.add("ListSubscriptionsByTopic", [this](Call& c) { return list_subscriptions(c, true); });
  service_.add("GetSubscriptionAttributes", [this](Call& c) -> Output {
    std::string arn = opt(c.input, "SubscriptionArn");
    if (arn.empty()) missing("SubscriptionArn");
    auto attributes = unwrap(topics_.subscription_attributes(arn));
    json::object a;
    for (const auto& [k, v] : attributes) a[k] = v;
    return json::object{{"Attributes", std::move(a)}};
  });
  service_.add("SetSubscriptionAttributes", [this](Call& c) -> Output {
    std::string arn = opt(c.input, "SubscriptionArn");
    std::string key = opt(c.input, "AttributeName");
    if (arn.empty()) missing("SubscriptionArn");
    if (key.empty()) missing("AttributeName");
    unwrap(topics_.set_subscription_attribute(arn, key, opt(c.input, "AttributeValue")));
    return json::object{};
  });
  service_.add("Publish", [this](Call& c) { return publish(c); });
  service_.add("PublishBatch", [this](Call& c) { return publish_batch(c); });
  service_.add("TagResource", [this](Call& c) -> Output {
    unwrap(topics_.tag(opt(c.input, "ResourceArn"), tag_list(c.input, "Tags")));
    return json::object{};
  });
  service_.add("UntagResource", [this](Call& c) -> Output {
    unwrap(topics_.untag(opt(c.input, "ResourceArn"), string_list(c.input, "TagKeys")));
    return json::object{};
  });
  service_.add("ListTagsForResource", [this](Call& c) -> Output {
    auto tags = unwrap(topics_.tags(opt(c.input, "ResourceArn")));
    json::array out;
    for (const auto& [k, v] : tags) out.push_back(json::object{{"Key", k}, {"Value", v}});
    return json::object{{"Tags", std::move(out)}};
  });
  service_.add("AddPermission", [this](Call& c) { return add_permission(c); });
  service_.add("RemovePermission", [this](Call& c) { return remove_permission(c); });
}

SnsApi::Output SnsApi::create_topic(Call& call) {
  std::string name = opt(call.input, "Name");
  if (name.empty()) missing("Name");
  std::string arn = unwrap(topics_.create_topic(name, string_map(call.input, "Attributes"),
                                                tag_list(call.input, "Tags")));
  return json::object{{"TopicArn", arn}};
}

SnsApi::Output SnsApi::list_topics(Call& call) {
  std::string after = after_token(call.input);
  json::array out;
  std::string last;
  bool more = false;
  for (const auto& name : topics_.topic_names()) {
    if (!after.empty() && name <= after) continue;
    if (out.size() == kPage) {
      more = true;
      break;
    }
    out.push_back(json::object{{"TopicArn", topics_.topic_arn(name)}});
    last = name;
  }
  json::object r{{"Topics", std::move(out)}};
  if (more) r["NextToken"] = page_token(last);
  return r;
}

SnsApi::Output SnsApi::subscribe(Call& call) {
  std::string topic = topic_of(call);
  std::string protocol = opt(call.input, "Protocol");
  std::string endpoint = opt(call.input, "Endpoint");
  if (protocol.empty()) missing("Protocol");
  if (endpoint.empty()) {
    throw ServiceError(400, "InvalidParameter", "Invalid parameter: Endpoint");
  }
  auto made =
      unwrap(topics_.subscribe(topic, protocol, endpoint, string_map(call.input, "Attributes")));
  bool return_arn = opt(call.input, "ReturnSubscriptionArn") == "true";
  return json::object{
      {"SubscriptionArn", made.pending && !return_arn ? "pending confirmation" : made.arn}};
}

SnsApi::Output SnsApi::list_subscriptions(Call& call, bool by_topic) {
  std::optional<std::string> topic;
  if (by_topic) {
    topic = topic_of(call);
    if (!topics_.has_topic(*topic)) throw ServiceError(404, "NotFound", "Topic does not exist");
  }
  std::string after = after_token(call.input);
  json::array out;
  std::string last;
  bool more = false;
  for (const auto& s : topics_.subscriptions(topic)) {
    if (!after.empty() && s.record.arn <= after) continue;
    if (out.size() == kPage) {
      more = true;
      break;
    }
    out.push_back(
        json::object{{"SubscriptionArn", s.record.confirmed ? s.record.arn : "PendingConfirmation"},
                     {"Owner", s.record.owner},
                     {"Protocol", s.record.protocol},
                     {"Endpoint", s.record.endpoint},
                     {"TopicArn", s.topic_arn}});
    last = s.record.arn;
  }
  json::object r{{"Subscriptions", std::move(out)}};
  if (more) r["NextToken"] = page_token(last);
  return r;
}

SnsApi::Output SnsApi::publish(Call& call) {
  if (call.input.contains("PhoneNumber")) {
    throw ServiceError(400, "InvalidParameter",
                       "Invalid parameter: PhoneNumber Reason: Lambent does not send SMS");
  }
  const char* member = call.input.contains("TopicArn") ? "TopicArn" : "TargetArn";
  if (!call.input.contains("TopicArn") && !call.input.contains("TargetArn")) {
    missing("TopicArn or TargetArn");
  }
  std::string topic = topic_of(call, member);
  if (!call.input.contains("Message")) missing("Message");
  notify::PublishInput m = message_of(call.input);
  unwrap(topics_.check(m));
  std::string id = unwrap(topics_.publish(topic, m));
  return json::object{{"MessageId", id}};
}

SnsApi::Output SnsApi::publish_batch(Call& call) {
  std::string topic = topic_of(call);
  const json::value* entries = call.input.if_contains("PublishBatchRequestEntries");
  if (!entries || !entries->is_array() || entries->as_array().empty()) {
    throw ServiceError(400, "EmptyBatchRequest", "The batch request doesn't contain any entries.");
  }
  const auto& list = entries->as_array();
  if (list.size() > 10) {
    throw ServiceError(400, "TooManyEntriesInBatchRequest",
                       "The batch request contains more entries than permissible.");
  }
  static const std::regex kId("[A-Za-z0-9_-]{1,80}");
  std::set<std::string> ids;
  size_t total = 0;
  for (const auto& e : list) {
    std::string id = e.is_object() ? opt(e.as_object(), "Id") : "";
    if (!std::regex_match(id, kId)) {
      throw ServiceError(400, "InvalidBatchEntryId",
                         "The Id of a batch entry in a batch request doesn't abide by the "
                         "specification.");
    }
    if (!ids.insert(id).second) {
      throw ServiceError(400, "BatchEntryIdsNotDistinct",
                         "Two or more batch entries in the request have the same Id.");
    }
    total += opt(e.as_object(), "Message").size();
  }
  if (total > 262'144) {
    throw ServiceError(400, "BatchRequestTooLong",
                       "The length of all the messages put together is more than the limit.");
  }
  // Each entry is checked on its own: the valid ones are published together.
  json::array failed;
  std::vector<std::string> ok_ids;
  std::vector<notify::PublishInput> ok;
  for (const auto& e : list) {
    const auto& o = e.as_object();
    std::string id = opt(o, "Id");
    try {
      notify::PublishInput m = message_of(o);
      auto checked = topics_.check(m);
      if (!checked) fail(checked.error());
      ok_ids.push_back(id);
      ok.push_back(std::move(m));
    } catch (const ServiceError& err) {
      failed.push_back(json::object{
          {"Id", id}, {"Code", err.code}, {"Message", err.message}, {"SenderFault", err.sender()}});
    }
  }
  json::array successful;
  if (!ok.empty()) {
    auto message_ids = unwrap(topics_.publish_batch(topic, ok));
    for (size_t i = 0; i < ok_ids.size(); ++i) {
      successful.push_back(json::object{{"Id", ok_ids[i]}, {"MessageId", message_ids[i]}});
    }
  }
  return json::object{{"Successful", std::move(successful)}, {"Failed", std::move(failed)}};
}

SnsApi::Output SnsApi::add_permission(Call& call) {
  std::string topic = topic_of(call);
  std::string label = opt(call.input, "Label");
  auto accounts = string_list(call.input, "AWSAccountId");
  auto actions = string_list(call.input, "ActionName");
  if (label.empty()) missing("Label");
  if (accounts.empty()) missing("AWSAccountId");
  if (actions.empty()) missing("ActionName");
  auto attributes = unwrap(topics_.topic_attributes(topic));
  json::value policy = json::parse(attributes.at("Policy"));
  json::array& statements = policy.as_object()["Statement"].as_array();
  for (const auto& s : statements) {
    if (s.is_object() && opt(s.as_object(), "Sid") == label) {
      throw ServiceError(400, "InvalidParameter", "Invalid parameter: Statement already exists");
    }
  }
  json::array principals, action_list;
  for (const auto& a : accounts) principals.emplace_back("arn:aws:iam::" + a + ":root");
  for (const auto& a : actions) action_list.emplace_back("SNS:" + a);
  statements.push_back(json::object{{"Sid", label},
                                    {"Effect", "Allow"},
                                    {"Principal", json::object{{"AWS", principals}}},
                                    {"Action", action_list},
                                    {"Resource", topics_.topic_arn(topic)}});
  unwrap(topics_.set_topic_attribute(topic, "Policy", json::serialize(policy)));
  return json::object{};
}

SnsApi::Output SnsApi::remove_permission(Call& call) {
  std::string topic = topic_of(call);
  std::string label = opt(call.input, "Label");
  if (label.empty()) missing("Label");
  auto attributes = unwrap(topics_.topic_attributes(topic));
  json::value policy = json::parse(attributes.at("Policy"));
  json::array& statements = policy.as_object()["Statement"].as_array();
  auto before = statements.size();
  for (auto it = statements.begin(); it != statements.end();) {
    it = it->is_object() && opt(it->as_object(), "Sid") == label ? statements.erase(it) : it + 1;
  }
  if (statements.size() == before) {
    throw ServiceError(404, "NotFound", "Statement " + label + " not found");
  }
  unwrap(topics_.set_topic_attribute(topic, "Policy", json::serialize(policy)));
  return json::object{};
}

void SnsApi::add_routes(http::Router& router) {
  auto xml = [](unsigned status, std::string body) {
    http::Response r;
    r.status = status;
    r.content_type = "text/xml";
    r.body = std::move(body);
    return r;
  };
  auto error_xml = [xml](unsigned status, const std::string& code, const std::string& message) {
    return xml(status, fmt::format("<ErrorResponse xmlns=\"{}\"><Error><Type>Sender</Type><Code>{}"
                                   "</Code><Message>{}</Message></Error></ErrorResponse>",
                                   kXmlns, code, xml_escape(message)));
  };
  // SubscribeURL: the token is the proof.
  router.add({.name = "SnsConfirmSubscriptionUrl",
              .method = "GET",
              .pattern = "/",
              .body_limit = 0,
              .handler = [this, xml,
                          error_xml](http::Request& req) -> boost::asio::awaitable<http::Response> {
                std::string name = topics_.topic_name(req.query_param("TopicArn").value_or(""));
                auto r = topics_.confirm(name, req.query_param("Token").value_or(""), false);
                if (!r) {
                  co_return error_xml(
                      r.error().errc == Errc::kNotFound ? 404 : 400,
                      r.error().errc == Errc::kNotFound ? "NotFound" : "InvalidParameter",
                      r.error().message);
                }
                co_return xml(200, fmt::format("<ConfirmSubscriptionResponse xmlns=\"{}\">"
                                               "<ConfirmSubscriptionResult><SubscriptionArn>{}"
                                               "</SubscriptionArn></ConfirmSubscriptionResult>"
                                               "<ResponseMetadata><RequestId>{}</RequestId>"
                                               "</ResponseMetadata></ConfirmSubscriptionResponse>",
                                               kXmlns, xml_escape(*r), req.request_id));
              },
              .query_key = "Action",
              .query_value = "ConfirmSubscription"});
  // UnsubscribeURL: refused for subscriptions confirmed with AuthenticateOnUnsubscribe.
  router.add({.name = "SnsUnsubscribeUrl",
              .method = "GET",
              .pattern = "/",
              .body_limit = 0,
              .handler = [this, xml,
                          error_xml](http::Request& req) -> boost::asio::awaitable<http::Response> {
                auto r =
                    topics_.unsubscribe(req.query_param("SubscriptionArn").value_or(""), false);
                if (!r) {
                  unsigned status = r.error().code == "AuthorizationError" ? 403
                                    : r.error().errc == Errc::kNotFound    ? 404
                                                                           : 400;
                  co_return error_xml(status, r.error().code.empty() ? "NotFound" : r.error().code,
                                      r.error().message);
                }
                co_return xml(200, fmt::format("<UnsubscribeResponse xmlns=\"{}\">"
                                               "<ResponseMetadata><RequestId>{}</RequestId>"
                                               "</ResponseMetadata></UnsubscribeResponse>",
                                               kXmlns, req.request_id));
              },
              .query_key = "Action",
              .query_value = "Unsubscribe"});
  // SigningCertURL.
  std::string cert_path = topics_.signing().cert_path;
  router.add({.name = "SnsSigningCertificate",
              .method = "GET",
              .pattern = cert_path,
              .body_limit = 0,
              .handler = [this](http::Request&) -> boost::asio::awaitable<http::Response> {
                http::Response r;
                r.content_type = "application/x-x509-ca-cert";
                r.body = topics_.signing().cert_pem;
                co_return r;
              }});
}

}  // namespace lambent::sns

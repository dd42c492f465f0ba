// The pattern language as AWS documents it: a table of EventBridge patterns and one of SNS filter
// policies (both scopes), each case a pattern, an input and whether it matches — plus the
// patterns each dialect refuses.
#include "events/pattern.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lambent::events {
namespace {

struct Case {
  const char* pattern;
  const char* event;
  bool match;
};

const char* const kEvent = R"({
  "version": "0", "id": "6a7e8feb", "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2", "account": "111122223333", "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1", "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated", "c-count": 5,
             "d-count": 0.5, "flag": true, "nothing": null, "empty": "",
             "source-ip": "10.0.0.123", "v6": "2001:db8::1", "file": "photos/cat.PNG",
             "tags": ["blue", "green"], "location": {"city": "Lyon", "zip": "69001"},
             "items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 7}]}
})";

const Case kEventBridge[] = {
    // exact values
    {R"({"source": ["aws.ec2"]})", kEvent, true},
    {R"({"source": ["aws.s3"]})", kEvent, false},
    {R"({"source": ["aws.s3", "aws.ec2"]})", kEvent, true},
    {R"({"source": ["AWS.EC2"]})", kEvent, false},
    {R"({"detail": {"state": ["terminated"]}})", kEvent, true},
    {R"({"detail": {"state": ["running"]}})", kEvent, false},
    {R"({"detail": {"c-count": [5]}})", kEvent, true},
    {R"({"detail": {"c-count": [5.0]}})", kEvent, true},
    {R"({"detail": {"c-count": ["5"]}})", kEvent, false},
    {R"({"detail": {"flag": [true]}})", kEvent, true},
    {R"({"detail": {"flag": [false]}})", kEvent, false},
    {R"({"detail": {"nothing": [null]}})", kEvent, true},
    {R"({"detail": {"missing": [null]}})", kEvent, false},
    {R"({"detail": {"empty": [""]}})", kEvent, true},
    {R"({"source": ["aws.ec2"], "detail": {"state": ["running"]}})", kEvent, false},
    {R"({"source": ["aws.ec2"], "detail": {"state": ["terminated"], "c-count": [5]}})", kEvent,
     true},
    // arrays in the event: any element
    {R"({"detail": {"tags": ["green"]}})", kEvent, true},
    {R"({"detail": {"tags": ["red"]}})", kEvent, false},
    {R"({"resources": [{"prefix": "arn:aws:ec2:"}]})", kEvent, true},
    {R"({"detail": {"items": {"sku": ["b-2"]}}})", kEvent, true},
    {R"({"detail": {"items": {"qty": [{"numeric": [">", 5]}]}}})", kEvent, true},
    {R"({"detail": {"items": {"qty": [{"numeric": [">", 10]}]}}})", kEvent, false},
    // nested
    {R"({"detail": {"location": {"city": ["Lyon"]}}})", kEvent, true},
    {R"({"detail": {"location": {"city": ["Paris"]}}})", kEvent, false},
    {R"({"detail": {"location": ["Lyon"]}})", kEvent, false},
    // prefix / suffix / equals-ignore-case
    {R"({"region": [{"prefix": "us-"}]})", kEvent, true},
    {R"({"region": [{"prefix": "eu-"}]})", kEvent, false},
    {R"({"region": [{"prefix": {"equals-ignore-case": "US-"}}]})", kEvent, true},
    {R"({"detail": {"file": [{"suffix": ".png"}]}})", kEvent, false},
    {R"({"detail": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}})", kEvent, true},
    {R"({"detail": {"file": [{"suffix": ".PNG"}]}})", kEvent, true},
    {R"({"source": [{"equals-ignore-case": "AWS.EC2"}]})", kEvent, true},
    {R"({"source": [{"equals-ignore-case": "aws.ec"}]})", kEvent, false},
    // anything-but
    {R"({"detail": {"state": [{"anything-but": "running"}]}})", kEvent, true},
    {R"({"detail": {"state": [{"anything-but": "terminated"}]}})", kEvent, false},
    {R"({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}})", kEvent, false},
    {R"({"detail": {"c-count": [{"anything-but": [1, 2, 3]}]}})", kEvent, true},
    {R"({"detail": {"c-count": [{"anything-but": 5}]}})", kEvent, false},
    {R"({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}})", kEvent, false},
    {R"({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}})", kEvent, true},
    {R"({"detail": {"state": [{"anything-but": {"suffix": "ated"}}]}})", kEvent, false},
    {R"({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["TERMINATED"]}}]}})", kEvent,
     false},
    {R"({"detail": {"state": [{"anything-but": {"wildcard": "term*"}}]}})", kEvent, false},
    {R"({"detail": {"missing": [{"anything-but": "x"}]}})", kEvent, false},
    // numeric
    {R"({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}})", kEvent, true},
    {R"({"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}})", kEvent, false},
    {R"({"detail": {"c-count": [{"numeric": ["=", 5]}]}})", kEvent, true},
    {R"({"detail": {"d-count": [{"numeric": [">=", 0.5]}]}})", kEvent, true},
    {R"({"detail": {"d-count": [{"numeric": ["<", 0.5]}]}})", kEvent, false},
    {R"({"detail": {"state": [{"numeric": [">", 0]}]}})", kEvent, false},
    // exists
    {R"({"detail": {"state": [{"exists": true}]}})", kEvent, true},
    {R"({"detail": {"state": [{"exists": false}]}})", kEvent, false},
    {R"({"detail": {"missing": [{"exists": false}]}})", kEvent, true},
    {R"({"detail": {"missing": [{"exists": true}]}})", kEvent, false},
    {R"({"detail": {"location": [{"exists": true}]}})", kEvent, false},
    // cidr
    {R"({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})", kEvent, true},
    {R"({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}})", kEvent, false},
    {R"({"detail": {"v6": [{"cidr": "2001:db8::/32"}]}})", kEvent, true},
    {R"({"detail": {"state": [{"cidr": "10.0.0.0/8"}]}})", kEvent, false},
    // wildcard
    {R"({"detail": {"file": [{"wildcard": "photos/*.PNG"}]}})", kEvent, true},
    {R"({"detail": {"file": [{"wildcard": "photos/*.png"}]}})", kEvent, false},
    {R"({"detail": {"file": [{"wildcard": "*cat*"}]}})", kEvent, true},
    {R"({"detail": {"file": [{"wildcard": "*/dog.*"}]}})", kEvent, false},
    // $or
    {R"({"$or": [{"source": ["aws.s3"]}, {"detail": {"c-count": [5]}}]})", kEvent, true},
    {R"({"$or": [{"source": ["aws.s3"]}, {"detail": {"c-count": [6]}}]})", kEvent, false},
    {R"({"source": ["aws.ec2"], "$or": [{"region": ["eu-west-1"]}, {"account": ["111122223333"]}]})",
     kEvent, true},
    {R"({"detail": {"$or": [{"state": ["x"]}, {"location": {"zip": [{"prefix": "69"}]}}]}})",
     kEvent, true},
    // several matchers in one field: any
    {R"({"detail": {"state": [{"prefix": "x"}, "terminated"]}})", kEvent, true},
    {R"({"detail": {"state": [{"prefix": "x"}, {"suffix": "y"}]}})", kEvent, false},
};

TEST(EventBridgePattern, Table) {
  EXPECT_GE(std::size(kEventBridge), 50u);
  for (const auto& c : kEventBridge) {
    auto p = Pattern::compile(c.pattern, Dialect::kEventBridge);
    ASSERT_TRUE(p) << c.pattern << ": " << p.error().message;
    EXPECT_EQ(p->matches(boost::json::parse(c.event)), c.match) << c.pattern;
  }
}

TEST(EventBridgePattern, Refusals) {
  for (const char* bad : {
           R"([1])",
           R"("x")",
           R"({"a": "b"})",
           R"({"a": [{"prefx": "b"}]})",
           R"({"a": [{"prefix": 1}]})",
           R"({"a": [{"numeric": [">", "x"]}]})",
           R"({"a": [{"numeric": ["<", 5, ">", 1]}]})",
           R"({"a": [{"numeric": [">", 5, "<", 1]}]})",
           R"({"a": [{"exists": "yes"}]})",
           R"({"a": [{"cidr": "nope"}]})",
           R"({"a": [{"anything-but": []}]})",
           R"({"a": [{"anything-but": [true]}]})",
           R"({"a": [{"wildcard": "a**b"}]})",
           R"({"a": []})",
           R"({"$or": [{"a": ["b"]}]})",
           R"({"a": [{"prefix": "x", "suffix": "y"}]})",
           R"({"a": [[1]]})",
           "{not json",
       }) {
    auto p = Pattern::compile(bad, Dialect::kEventBridge);
    EXPECT_FALSE(p) << bad;
    if (!p) {
      EXPECT_EQ(p.error().code, Errc::kInvalidArgument) << bad;
    }
  }
}

// SNS, MessageAttributes scope: attributes by type.
struct AttributeCase {
  const char* policy;
  bool match;
};

const std::map<std::string, Attribute> kAttributes{
    {"store", {"String", "example_corp"}},
    {"event", {"String", "order_placed"}},
    {"price_usd", {"Number", "210.75"}},
    {"quantity", {"Number", "3"}},
    {"customer_interests", {"String.Array", R"(["soccer", "rugby", "hockey"])"}},
    {"encrypted", {"String", "false"}},
    {"source_ip", {"String", "192.168.1.20"}},
    {"blob", {"Binary", "AAEC"}},
};

const AttributeCase kSnsAttributes[] = {
    {R"({"store": ["example_corp"]})", true},
    {R"({"store": ["other_corp"]})", false},
    {R"({"store": ["example_corp"], "event": ["order_placed"]})", true},
    {R"({"store": ["example_corp"], "event": ["order_cancelled"]})", false},
    {R"({"event": ["order_cancelled", "order_placed"]})", true},
    {R"({"store": [{"prefix": "example"}]})", true},
    {R"({"store": [{"prefix": "Example"}]})", false},
    {R"({"store": [{"suffix": "_corp"}]})", true},
    {R"({"store": [{"suffix": "_inc"}]})", false},
    {R"({"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]})", true},
    {R"({"store": [{"prefix": {"equals-ignore-case": "EXAMPLE"}}]})", true},
    {R"({"store": [{"anything-but": "other_corp"}]})", true},
    {R"({"store": [{"anything-but": ["example_corp", "x"]}]})", false},
    {R"({"store": [{"anything-but": {"prefix": "ex"}}]})", false},
    {R"({"store": [{"anything-but": {"prefix": "zz"}}]})", true},
    {R"({"store": [{"anything-but": {"suffix": "corp"}}]})", false},
    {R"({"price_usd": [{"numeric": [">=", 100]}]})", true},
    {R"({"price_usd": [{"numeric": [">", 210.75]}]})", false},
    {R"({"price_usd": [{"numeric": [">", 100, "<=", 210.75]}]})", true},
    {R"({"price_usd": [{"numeric": ["=", 210.75]}]})", true},
    {R"({"price_usd": [210.75]})", true},
    {R"({"price_usd": ["210.75"]})", false},
    {R"({"quantity": [{"numeric": ["<", 3]}]})", false},
    {R"({"quantity": [{"anything-but": [1, 2]}]})", true},
    {R"({"quantity": [{"anything-but": 3}]})", false},
    {R"({"store": [{"numeric": [">", 0]}]})", false},
    {R"({"customer_interests": ["rugby"]})", true},
    {R"({"customer_interests": ["baseball"]})", false},
    {R"({"customer_interests": ["baseball", "hockey"]})", true},
    {R"({"customer_interests": [{"prefix": "soc"}]})", true},
    {R"({"customer_interests": [{"anything-but": "cricket"}]})", true},
    {R"({"store": [{"exists": true}]})", true},
    {R"({"store": [{"exists": false}]})", false},
    {R"({"missing": [{"exists": false}]})", true},
    {R"({"missing": [{"exists": true}]})", false},
    {R"({"missing": ["x"]})", false},
    {R"({"missing": [{"anything-but": "x"}]})", false},
    {R"({"blob": [{"exists": true}]})", false},
    {R"({"source_ip": [{"cidr": "192.168.1.0/24"}]})", true},
    {R"({"source_ip": [{"cidr": "10.0.0.0/8"}]})", false},
    {R"({"encrypted": ["false"]})", true},
    {R"({"$or": [{"store": ["x"]}, {"quantity": [3]}]})", true},
    {R"({"$or": [{"store": ["x"]}, {"quantity": [4]}]})", false},
    {R"({"event": ["order_placed"], "$or": [{"store": ["x"]}, {"price_usd": [{"numeric": [">", 200]}]}]})",
     true},
    {R"({"store": ["example_corp"], "price_usd": [{"numeric": ["<", 100]}]})", false},
    {R"({"store": [{"prefix": "zz"}, "example_corp"]})", true},
    {R"({"event": [{"suffix": "_placed"}], "quantity": [{"numeric": [">", 1, "<", 5]}]})", true},
    {R"({"event": [{"anything-but": {"equals-ignore-case": ["ORDER_PLACED"]}}]})", false},
};

TEST(SnsFilterPolicy, AttributesTable) {
  EXPECT_GE(std::size(kSnsAttributes), 45u);
  for (const auto& c : kSnsAttributes) {
    auto p = Pattern::compile(c.policy, Dialect::kSnsAttributes);
    ASSERT_TRUE(p) << c.policy << ": " << p.error().message;
    EXPECT_EQ(p->matches_attributes(kAttributes), c.match) << c.policy;
  }
}

const char* const kBody = R"({"order": {"id": 42, "status": "shipped", "total": 99.5,
  "items": [{"sku": "A1"}, {"sku": "B2"}], "gift": false, "note": null},
  "customer": {"tier": "gold", "ip": "203.0.113.7"}})";

const Case kSnsBody[] = {
    {R"({"order": {"status": ["shipped"]}})", kBody, true},
    {R"({"order": {"status": ["pending"]}})", kBody, false},
    {R"({"order": {"id": [42]}})", kBody, true},
    {R"({"order": {"total": [{"numeric": [">", 50]}]}})", kBody, true},
    {R"({"order": {"items": {"sku": ["B2"]}}})", kBody, true},
    {R"({"order": {"items": {"sku": ["C3"]}}})", kBody, false},
    {R"({"order": {"gift": [false]}})", kBody, true},
    {R"({"order": {"note": [null]}})", kBody, true},
    {R"({"customer": {"tier": [{"anything-but": ["silver"]}]}})", kBody, true},
    {R"({"customer": {"ip": [{"cidr": "203.0.113.0/24"}]}})", kBody, true},
    {R"({"customer": {"missing": [{"exists": false}]}})", kBody, true},
    {R"({"$or": [{"order": {"status": ["x"]}}, {"customer": {"tier": ["gold"]}}]})", kBody, true},
};

TEST(SnsFilterPolicy, BodyTable) {
  for (const auto& c : kSnsBody) {
    auto p = Pattern::compile(c.pattern, Dialect::kSnsBody);
    ASSERT_TRUE(p) << c.pattern << ": " << p.error().message;
    EXPECT_EQ(p->matches(boost::json::parse(c.event)), c.match) << c.pattern;
  }
}

TEST(SnsFilterPolicy, Refusals) {
  // Nested keys in the attributes scope; wildcard is EventBridge's; booleans are not attribute
  // values; more than 5 keys; more than 150 combinations.
  EXPECT_FALSE(Pattern::compile(R"({"a": {"b": ["c"]}})", Dialect::kSnsAttributes));
  EXPECT_TRUE(Pattern::compile(R"({"a": {"b": ["c"]}})", Dialect::kSnsBody));
  EXPECT_FALSE(Pattern::compile(R"({"a": [{"wildcard": "x*"}]})", Dialect::kSnsAttributes));
  EXPECT_FALSE(Pattern::compile(R"({"a": [true]})", Dialect::kSnsAttributes));
  EXPECT_FALSE(Pattern::compile(R"({"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]})",
                                Dialect::kSnsAttributes));
  auto many = Pattern::compile(
      R"({"a":["1","2","3","4","5","6"],"b":["1","2","3","4","5","6"],"c":["1","2","3","4","5"]})",
      Dialect::kSnsAttributes);
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().message, "Filter policy is too complex");
}

}  // namespace
}  // namespace lambent::events

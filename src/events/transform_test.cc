#include "events/transform.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lambent::events {
namespace {

const boost::json::value kEvent = boost::json::parse(
    R"({"id":"e1","source":"shop","detail":{"id":42,"name":"A \"quoted\" name",
        "items":[{"sku":"x"},{"sku":"y"}],"ok":true}})");

TEST(Transform, Paths) {
  EXPECT_EQ(boost::json::serialize(*at_path(kEvent, "$.detail.id")), "42");
  EXPECT_EQ(boost::json::serialize(*at_path(kEvent, "$.detail.items[1].sku")), "\"y\"");
  EXPECT_EQ(boost::json::serialize(*at_path(kEvent, "$['detail']['ok']")), "true");
  EXPECT_EQ(at_path(kEvent, "$").value(), kEvent);
  EXPECT_FALSE(at_path(kEvent, "$.detail.missing"));
  EXPECT_FALSE(at_path(kEvent, "$.detail.items[5]"));
  for (const char* bad : {"detail", "$..x", "$.a[", "$.a[x]", "$x", ""}) {
    EXPECT_FALSE(check_path(bad)) << bad;
  }
}

TEST(Transform, TemplatesAsEventBridgeFillsThem) {
  Transformer t{{{"id", "$.detail.id"},
                 {"name", "$.detail.name"},
                 {"items", "$.detail.items"},
                 {"none", "$.detail.missing"}},
                R"({"order": <id>, "label": "Order <id>: <name>", "items": <items>, "x": <none>,)"
                R"( "rule": "<aws.events.rule-name>"})"};
  ASSERT_TRUE(check_transformer(t));
  std::string out = apply_transformer(t, kEvent, "arn:r", "my-rule", "2026-01-01T00:00:00Z");
  auto v = boost::json::parse(out);
  EXPECT_EQ(v.at("order"), 42);
  EXPECT_EQ(v.at("label"), "Order 42: A \"quoted\" name");
  EXPECT_EQ(v.at("items").as_array().size(), 2u);
  EXPECT_TRUE(v.at("x").is_null());
  EXPECT_EQ(v.at("rule"), "my-rule");
  // A plain-text template: the values' text.
  Transformer text{{{"id", "$.detail.id"}}, R"("Order <id> is ready")"};
  EXPECT_EQ(apply_transformer(text, kEvent, "", "", ""), R"("Order 42 is ready")");
  EXPECT_FALSE(check_transformer({{{"id", "$.x"}}, "<other>"}));
  EXPECT_FALSE(check_transformer({{{"bad name", "$.x"}}, "<x>"}));
  EXPECT_FALSE(check_transformer({{{"id", "nope"}}, "<id>"}));
}

}  // namespace
}  // namespace lambent::events

#include "telemetry/filter_pattern.h"

#include <gtest/gtest.h>

namespace lambent::telemetry {
namespace {

bool m(const char* pattern, const char* message) {
  auto p = FilterPattern::parse(pattern);
  EXPECT_TRUE(p) << pattern;
  return p && p->matches(message);
}

TEST(FilterPattern, TermsPhrasesExclusionsAndAlternatives) {
  EXPECT_TRUE(m("", "anything"));
  EXPECT_TRUE(m("ERROR", "[ERROR] disk full"));
  EXPECT_FALSE(m("ERROR", "[error] disk full"));  // case-sensitive
  EXPECT_TRUE(m("ERROR disk", "[ERROR] disk full"));
  EXPECT_FALSE(m("ERROR net", "[ERROR] disk full"));
  EXPECT_TRUE(m("\"disk full\"", "[ERROR] disk full"));
  EXPECT_FALSE(m("\"full disk\"", "[ERROR] disk full"));
  EXPECT_TRUE(m("ERROR -retry", "ERROR giving up"));
  EXPECT_FALSE(m("ERROR -retry", "ERROR will retry"));
  EXPECT_TRUE(m("?ERROR ?WARN", "WARN low memory"));
  EXPECT_FALSE(m("?ERROR ?WARN", "INFO fine"));
}

TEST(FilterPattern, JsonPatterns) {
  const char* ev = R"({"level":"ERROR","latency":120,"user":{"id":"u-42","admin":false},
                       "tags":["a","b"],"gone":null})";
  EXPECT_TRUE(m(R"({ $.level = "ERROR" })", ev));
  EXPECT_FALSE(m(R"({ $.level = "INFO" })", ev));
  EXPECT_TRUE(m(R"({ $.level != "INFO" })", ev));
  EXPECT_TRUE(m(R"({ $.latency > 100 })", ev));
  EXPECT_FALSE(m(R"({ $.latency < 100 })", ev));
  EXPECT_TRUE(m(R"({ $.latency >= 120 && $.level = "ERR*" })", ev));
  EXPECT_TRUE(m(R"({ ($.level = "INFO") || ($.user.id = "u-42") })", ev));
  EXPECT_TRUE(m(R"({ $.tags[1] = "b" })", ev));
  EXPECT_TRUE(m(R"({ $.user.admin IS FALSE })", ev));
  EXPECT_TRUE(m(R"({ $.gone IS NULL })", ev));
  EXPECT_TRUE(m(R"({ $.missing NOT EXISTS })", ev));
  EXPECT_FALSE(m(R"({ $.level NOT EXISTS })", ev));
  EXPECT_FALSE(m(R"({ $.level = "ERROR" })", "ERROR but not JSON"));
}

TEST(FilterPattern, MalformedPatternsAreRefused) {
  for (const char* bad : {"{ $.level = }", "{ level = 1 }", "{ $.a = 1", "\"unclosed",
                          "[ip, user]", "{ $.a < \"x\" }", "{ $.a IS MAYBE }"}) {
    auto p = FilterPattern::parse(bad);
    EXPECT_FALSE(p) << bad;
    if (!p) {
      EXPECT_EQ(p.error().code, Errc::kInvalidArgument);
    }
  }
}

TEST(FilterPattern, NestingIsBoundedNotAStackOverflow) {
  // Found by fuzzing: thousands of "(" recursed until the stack overflowed.
  auto deep = FilterPattern::parse("{ " + std::string(100000, '(') + " $.a = 1 }");
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().message.find("nested deeper than 32"), std::string::npos);
  std::string ok = "{ " + std::string(32, '(') + "$.a = 1" + std::string(32, ')') + " }";
  auto fine = FilterPattern::parse(ok);
  ASSERT_TRUE(fine) << fine.error().message;
  EXPECT_TRUE(fine->matches(R"({"a": 1})"));
}

}  // namespace
}  // namespace lambent::telemetry

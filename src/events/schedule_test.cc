#include "events/schedule.h"

#include <gtest/gtest.h>

#include <ctime>

namespace lambent::events {
namespace {

int64_t at(int y, int mo, int d, int h = 0, int mi = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t next(const char* e, int64_t after) {
  auto s = Schedule::parse(e);
  EXPECT_TRUE(s) << e;
  auto n = s->next_after(after, 0);
  EXPECT_TRUE(n) << e;
  return n.value_or(-1);
}

TEST(Schedule, Rates) {
  auto s = Schedule::parse("rate(5 minutes)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->period_ms(), 300'000);
  const int64_t origin = at(2026, 12, 2, 10, 3) + 17'000;
  EXPECT_EQ(*s->next_after(origin, origin), origin + 300'000);
  EXPECT_EQ(*s->next_after(origin + 300'000, origin), origin + 600'000);
  EXPECT_EQ(*s->next_after(origin + 299'999, origin), origin + 300'000);
  EXPECT_TRUE(Schedule::parse("rate(1 minute)"));
  EXPECT_TRUE(Schedule::parse("rate(2 hours)"));
  EXPECT_TRUE(Schedule::parse("rate(1 day)"));
  for (const char* bad : {"rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)",
                          "rate(-1 minutes)", "rate(5 weeks)", "rate(5)", "rate 5 minutes"}) {
    auto r = Schedule::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().message, "Parameter ScheduleExpression is not valid.");
    }
  }
}

TEST(Schedule, CronFieldsAsAwsDocumentsThem) {
  const int64_t t = at(2026, 12, 2, 10, 3);  // a Wednesday
  EXPECT_EQ(next("cron(0 10 * * ? *)", t), at(2026, 12, 3, 10, 0));
  EXPECT_EQ(next("cron(15 10 * * ? *)", t), at(2026, 12, 2, 10, 15));
  EXPECT_EQ(next("cron(0/15 * * * ? *)", t), at(2026, 12, 2, 10, 15));
  EXPECT_EQ(next("cron(* * * * ? *)", t), at(2026, 12, 2, 10, 4));
  EXPECT_EQ(next("cron(0 18 ? * MON-FRI *)", t), at(2026, 12, 2, 18, 0));
  EXPECT_EQ(next("cron(0 8 1 * ? *)", t), at(2027, 1, 1, 8, 0));
  EXPECT_EQ(next("cron(0 12 ? * SUN *)", t), at(2026, 12, 6, 12, 0));
  EXPECT_EQ(next("cron(0 12 ? * 1 *)", t), at(2026, 12, 6, 12, 0));
  EXPECT_EQ(next("cron(0 0 L * ? *)", t), at(2026, 12, 31, 0, 0));
  EXPECT_EQ(next("cron(0 0 L 2 ? 2028)", t), at(2028, 2, 29, 0, 0));
  // 3W: the weekday nearest the 3rd; January 3rd 2027 is a Sunday → Monday the 4th.
  EXPECT_EQ(next("cron(0 9 3W * ? *)", at(2026, 12, 31)), at(2027, 1, 4, 9, 0));
  // LW: the last weekday; the last day of January 2027 is a Sunday → Friday the 29th.
  EXPECT_EQ(next("cron(0 9 LW * ? *)", at(2027, 1, 2)), at(2027, 1, 29, 9, 0));
  // 6L: the last Friday; 2#1: the first Monday (December 1st 2026 is a Tuesday).
  EXPECT_EQ(next("cron(0 9 ? * 6L *)", t), at(2026, 12, 25, 9, 0));
  EXPECT_EQ(next("cron(0 9 ? * 2#1 *)", t), at(2026, 12, 7, 9, 0));
  EXPECT_EQ(next("cron(0 9 ? * MON#3 *)", t), at(2026, 12, 21, 9, 0));
  EXPECT_EQ(next("cron(30 9 ? JAN,JUL MON 2027)", t), at(2027, 1, 4, 9, 30));
  EXPECT_EQ(next("cron(0 0 1-3 * ? *)", at(2026, 12, 2, 0, 0)), at(2026, 12, 3, 0, 0));
  // Never again.
  auto past = Schedule::parse("cron(0 0 1 1 ? 1999)");
  ASSERT_TRUE(past);
  EXPECT_FALSE(past->next_after(t, 0));
}

TEST(Schedule, CronRefusals) {
  for (const char* bad :
       {"cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(0 10 * *)", "cron(60 10 * * ? *)",
        "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 * 13 ? *)", "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * 2#6 *)", "cron(0 0 * * ? 1969)", "cron(0/0 0 * * ? *)", "cron(a b c d e f)",
        "cron(0 0 5-3 * ? *)", "at(2026-01-01T00:00:00)"}) {
    EXPECT_FALSE(Schedule::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace lambent::events

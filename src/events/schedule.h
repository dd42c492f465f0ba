// EventBridge schedule expressions: rate(value unit) and AWS's six-field cron(minutes hours
// day-of-month month day-of-week year) in UTC, with `*`, `,`, `-`, `/`, `?`, `L`, `W` and `#`, as
// EventBridge documents them (day-of-week 1-7 = SUN-SAT; one of day-of-month and day-of-week must
// be `?`). A schedule answers when it next fires after a given time.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace lambent::events {

class Schedule {
 public:
  // kInvalidArgument ("Parameter ScheduleExpression is not valid.") when malformed.
  static Result<Schedule> parse(std::string_view expression);

  // The first firing strictly after `after_ms` (epoch milliseconds, UTC). A rate fires every
  // period from `origin_ms` (the rule's creation); nullopt when a cron never fires again.
  std::optional<int64_t> next_after(int64_t after_ms, int64_t origin_ms) const;

  bool is_rate() const { return period_ms_ > 0; }
  int64_t period_ms() const { return period_ms_; }

 private:
  struct DayOfMonth {
    std::bitset<32> days;       // 1..31
    bool last = false;          // L
    bool last_weekday = false;  // LW
    int nearest_weekday = 0;    // NW
    bool any = false;           // ?
  };
  struct DayOfWeek {
    std::bitset<8> days;       // 1..7 (SUN..SAT)
    int last_of = 0;           // NL: the last such weekday of the month
    int nth_day = 0, nth = 0;  // D#N
    bool any = false;          // ?
  };
  bool day_matches(int year, int month, int day, int weekday) const;

  int64_t period_ms_ = 0;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<13> months_;   // 1..12
  std::vector<bool> years_;  // 1970..2199
  DayOfMonth dom_;
  DayOfWeek dow_;
};

}  // namespace lambent::events

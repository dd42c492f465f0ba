#include "events/schedule.h"

#include <charconv>
#include <ctime>
#include <regex>

namespace lambent::events {
namespace {

constexpr int kFirstYear = 1970, kLastYear = 2199;

Error invalid() {
  return Error{Errc::kInvalidArgument, "Parameter ScheduleExpression is not valid."};
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t at = 0;
  while (true) {
    size_t next = s.find(sep, at);
    out.emplace_back(
        s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) break;
    at = next + 1;
  }
  return out;
}

std::optional<int> number(std::string_view s) {
  int n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

// A value or a name (JAN..DEC, SUN..SAT).
std::optional<int> value(std::string_view s, const char* const* names, int first) {
  if (auto n = number(s)) return n;
  if (!names) return std::nullopt;
  std::string upper(s);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int i = 0; names[i]; ++i) {
    if (upper == names[i]) return first + i;
  }
  return std::nullopt;
}

const char* const kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",  "JUL",
                               "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
const char* const kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

// `*`, `a`, `a-b`, `*/n`, `a/n`, `a-b/n`, comma-separated: sets bits lo..hi.
template <size_t N>
bool field(std::string_view text, int lo, int hi, const char* const* names, std::bitset<N>& out) {
  for (const auto& part : split(text, ',')) {
    std::string_view p = part;
    int step = 1;
    if (size_t slash = p.find('/'); slash != std::string_view::npos) {
      auto s = number(p.substr(slash + 1));
      if (!s || *s <= 0) return false;
      step = *s;
      p = p.substr(0, slash);
    }
    int a = lo, b = hi;
    if (p == "*") {
    } else if (size_t dash = p.find('-'); dash != std::string_view::npos) {
      auto x = value(p.substr(0, dash), names, lo), y = value(p.substr(dash + 1), names, lo);
      if (!x || !y) return false;
      a = *x;
      b = *y;
    } else {
      auto x = value(p, names, lo);
      if (!x) return false;
      a = *x;
      b = step > 1 || part.find('/') != std::string::npos ? hi : *x;
    }
    if (a < lo || b > hi || a > b) return false;
    for (int v = a; v <= b; v += step) out.set(static_cast<size_t>(v));
  }
  return true;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// 0 = Sunday.
int weekday_of(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = 12;
  time_t t = timegm(&tm);
  std::tm out{};
  gmtime_r(&t, &out);
  return out.tm_wday;
}

}  // namespace

Result<Schedule> Schedule::parse(std::string_view e) {
  Schedule s;
  static const std::regex kRate(R"(rate\((\d+) (minute|minutes|hour|hours|day|days)\))");
  static const std::regex kCron(R"(cron\(([^()]*)\))");
  std::cmatch m;
  if (std::regex_match(e.begin(), e.end(), m, kRate)) {
    auto n = number(std::string_view(m[1].first, m[1].length()));
    std::string unit = m[2].str();
    if (!n || *n <= 0) return invalid();
    // AWS: the singular unit for 1, the plural otherwise.
    if ((*n == 1) != (unit.back() != 's')) return invalid();
    int64_t u = unit.starts_with("minute") ? 60'000
                : unit.starts_with("hour") ? 3'600'000
                                           : 86'400'000;
    s.period_ms_ = *n * u;
    return s;
  }
  if (!std::regex_match(e.begin(), e.end(), m, kCron)) return invalid();
  std::vector<std::string> f;
  for (auto& x : split(m[1].str(), ' ')) {
    if (!x.empty()) f.push_back(x);
  }
  if (f.size() != 6) return invalid();
  if (!field(f[0], 0, 59, nullptr, s.minutes_) || !field(f[1], 0, 23, nullptr, s.hours_) ||
      !field(f[3], 1, 12, kMonths, s.months_)) {
    return invalid();
  }
  {
    std::bitset<kLastYear + 1> absolute;
    if (!field(f[5], kFirstYear, kLastYear, nullptr, absolute)) return invalid();
    s.years_.assign(kLastYear - kFirstYear + 1, false);
    for (int y = kFirstYear; y <= kLastYear; ++y) s.years_[y - kFirstYear] = absolute.test(y);
  }
  // Day of month: ?, L, LW, NW, or a field.
  const std::string& dom = f[2];
  const std::string& dow = f[4];
  if ((dom == "?") == (dow == "?")) return invalid();  // exactly one of them is '?'
  if (dom == "?") {
    s.dom_.any = true;
  } else if (dom == "L") {
    s.dom_.last = true;
  } else if (dom == "LW") {
    s.dom_.last_weekday = true;
  } else if (dom.size() >= 2 && dom.back() == 'W') {
    auto n = number(std::string_view(dom).substr(0, dom.size() - 1));
    if (!n || *n < 1 || *n > 31) return invalid();
    s.dom_.nearest_weekday = *n;
  } else if (!field(dom, 1, 31, nullptr, s.dom_.days)) {
    return invalid();
  }
  // Day of week: ?, L (Saturday), NL, D#N, or a field.
  if (dow == "?") {
    s.dow_.any = true;
  } else if (dow == "L") {
    s.dow_.days.set(7);
  } else if (dow.size() >= 2 && dow.back() == 'L') {
    auto d = value(std::string_view(dow).substr(0, dow.size() - 1), kDays, 1);
    if (!d || *d < 1 || *d > 7) return invalid();
    s.dow_.last_of = *d;
  } else if (size_t hash = dow.find('#'); hash != std::string::npos) {
    auto d = value(std::string_view(dow).substr(0, hash), kDays, 1);
    auto n = number(std::string_view(dow).substr(hash + 1));
    if (!d || *d < 1 || *d > 7 || !n || *n < 1 || *n > 5) return invalid();
    s.dow_.nth_day = *d;
    s.dow_.nth = *n;
  } else if (!field(dow, 1, 7, kDays, s.dow_.days)) {
    return invalid();
  }
  return s;
}

bool Schedule::day_matches(int year, int month, int day, int weekday) const {
  const int last = days_in_month(year, month);
  if (!dom_.any) {
    if (dom_.last) return day == last;
    if (dom_.last_weekday || dom_.nearest_weekday) {
      // The weekday nearest to the target day, within the month.
      int target = dom_.last_weekday ? last : std::min(dom_.nearest_weekday, last);
      int wd = weekday_of(year, month, target);
      int chosen = target;
      if (wd == 6) chosen = target == 1 ? target + 2 : target - 1;     // Saturday
      if (wd == 0) chosen = target == last ? target - 2 : target + 1;  // Sunday
      return day == chosen;
    }
    return dom_.days.test(static_cast<size_t>(day));
  }
  const int dow = weekday + 1;  // 1..7 = SUN..SAT
  if (dow_.last_of) return dow == dow_.last_of && day + 7 > last;
  if (dow_.nth) return dow == dow_.nth_day && (day - 1) / 7 + 1 == dow_.nth;
  return dow_.days.test(static_cast<size_t>(dow));
}

std::optional<int64_t> Schedule::next_after(int64_t after_ms, int64_t origin_ms) const {
  if (period_ms_ > 0) {
    if (after_ms < origin_ms) return origin_ms + period_ms_;
    int64_t k = (after_ms - origin_ms) / period_ms_ + 1;
    return origin_ms + k * period_ms_;
  }
  // The next whole minute after `after_ms`, then day by day.
  int64_t start = (after_ms / 60'000 + 1) * 60'000;
  time_t t = static_cast<time_t>(start / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  int year = tm.tm_year + 1900, month = tm.tm_mon + 1, day = tm.tm_mday;
  int first_minute = tm.tm_hour * 60 + tm.tm_min;
  for (int i = 0; i < 366 * 240 && year <= kLastYear; ++i) {
    if (year >= kFirstYear && years_[year - kFirstYear] && months_.test(month) &&
        day_matches(year, month, day, weekday_of(year, month, day))) {
      for (int minute = first_minute; minute < 24 * 60; ++minute) {
        if (hours_.test(minute / 60) && minutes_.test(minute % 60)) {
          std::tm at{};
          at.tm_year = year - 1900;
          at.tm_mon = month - 1;
          at.tm_mday = day;
          at.tm_hour = minute / 60;
          at.tm_min = minute % 60;
          return static_cast<int64_t>(timegm(&at)) * 1000;
        }
      }
    }
    first_minute = 0;
    if (++day > days_in_month(year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        ++year;
      }
    }
  }
  return std::nullopt;
}

}  // namespace lambent::events

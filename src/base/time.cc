#include "base/time.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace lambent {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_timestamp(int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(epoch_ms % 1000));
}

std::string format_iso8601_seconds(int64_t epoch_ms) {
  return format_timestamp(epoch_ms).substr(0, 19) + "Z";
}

std::string format_iso8601_millis(int64_t epoch_ms) {
  return format_timestamp(epoch_ms).substr(0, 23) + "Z";
}

std::string format_http_date(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  std::tm tm{};
  std::string text(s);
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                          "%a %b %d %H:%M:%S %Y", "%Y-%m-%dT%H:%M:%S"}) {
    tm = {};
    const char* end = ::strptime(text.c_str(), fmt, &tm);
    if (end && (*end == '\0' || *end == 'Z' || *end == '.')) return int64_t{::timegm(&tm)} * 1000;
  }
  return std::nullopt;
}

}  // namespace lambent

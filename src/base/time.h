// Wall-clock helpers and the timestamp format of the Lambda API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lambent {

// Milliseconds since the Unix epoch.
int64_t now_ms();

// Lambda's `Timestamp` string: 2020-04-10T19:06:32.563+0000 (UTC, milliseconds).
std::string format_timestamp(int64_t epoch_ms);
// ISO 8601 to the second, as the CloudWatch query API writes it: 2020-04-10T19:06:32Z.
std::string format_iso8601_seconds(int64_t epoch_ms);
// ISO 8601 with milliseconds, as S3's XML writes it: 2020-04-10T19:06:32.563Z.
std::string format_iso8601_millis(int64_t epoch_ms);
// An HTTP date (RFC 1123): Fri, 10 Apr 2020 19:06:32 GMT.
std::string format_http_date(int64_t epoch_ms);
// An HTTP date in any of RFC 7231's three forms (or ISO 8601 to the second), as epoch
// milliseconds; nullopt when it is none of them.
std::optional<int64_t> parse_http_date(std::string_view s);

}  // namespace lambent

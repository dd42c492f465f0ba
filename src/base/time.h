// Wall-clock helpers and the timestamp format of the Lambda API.
#pragma once

#include <cstdint>
#include <string>

namespace lambent {

// Milliseconds since the Unix epoch.
int64_t now_ms();

// Lambda's `Timestamp` string: 2020-04-10T19:06:32.563+0000 (UTC, milliseconds).
std::string format_timestamp(int64_t epoch_ms);
// ISO 8601 to the second, as the CloudWatch query API writes it: 2020-04-10T19:06:32Z.
std::string format_iso8601_seconds(int64_t epoch_ms);

}  // namespace lambent

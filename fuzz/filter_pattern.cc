// CloudWatch Logs filter patterns (FilterLogEvents, subscription filters): the first line is the
// pattern, the rest a log message it is matched against.
#include <cstdint>
#include <string_view>

#include "telemetry/filter_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view pattern = in.substr(0, nl);
  std::string_view message = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  auto p = lambent::telemetry::FilterPattern::parse(pattern);
  if (p) (void)p->matches(message);
  return 0;
}

#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "base/time.h"

namespace lambent::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
constexpr std::string_view kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view name, Level* out) {
  for (int i = 0; i < 4; ++i) {
    std::string lower(kNames[i]);
    for (auto& c : lower) c = static_cast<char>(std::tolower(c));
    if (name == kNames[i] || name == lower) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view line) {
  std::string out = format_timestamp(now_ms());
  out += ' ';
  out += kNames[static_cast<int>(level)];
  out += ' ';
  out += line;
  out += '\n';
  // One write per line so that lines from different threads never interleave.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

}  // namespace lambent::log

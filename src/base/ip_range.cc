#include "base/ip_range.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace lambent {

std::optional<IpRange> IpRange::parse(std::string_view s) {
  IpRange c;
  std::string addr(s);
  int bits = -1;
  if (size_t slash = addr.find('/'); slash != std::string::npos) {
    const char* first = addr.data() + slash + 1;
    const char* last = addr.data() + addr.size();
    auto [ptr, ec] = std::from_chars(first, last, bits);
    if (ec != std::errc() || ptr != last || first == last || bits < 0) return std::nullopt;
    addr.resize(slash);
  }
  if (inet_pton(AF_INET, addr.c_str(), c.bytes) == 1) {
    c.family = AF_INET;
    c.bits = bits < 0 ? 32 : bits;
    if (c.bits > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, addr.c_str(), c.bytes) == 1) {
    c.family = AF_INET6;
    c.bits = bits < 0 ? 128 : bits;
    if (c.bits > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return c;
}

bool IpRange::contains(const IpRange& ip) const {
  if (family != ip.family) return false;
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(bytes, ip.bytes, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (ip.bytes[full] & mask);
}

}  // namespace lambent

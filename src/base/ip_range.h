// IPv4 and IPv6 addresses and ranges as policies and patterns write them ("10.0.0.0/24",
// "2001:db8::/32", or an address alone): IAM's IpAddress conditions and the cidr matcher of event
// patterns and filter policies.
#pragma once

#include <optional>
#include <string_view>

namespace lambent {

struct IpRange {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {0};
  int bits = 0;  // prefix length (32 or 128 for an address alone)

  static std::optional<IpRange> parse(std::string_view text);
  // `ip`'s address lies in this range (same family).
  bool contains(const IpRange& ip) const;
};

}  // namespace lambent

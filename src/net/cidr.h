// IPv4 addresses and prefixes as the network of environments uses them (host byte order).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lambent::net {

struct Cidr {
  uint32_t base = 0;  // network address, host byte order, host bits zero
  int prefix = 32;

  // "10.213.0.0/16", or an address alone (a /32). Host bits set are refused (ambiguous).
  static std::optional<Cidr> parse(std::string_view text);
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  bool contains(uint32_t addr) const {
    return prefix == 0 || (addr >> (32 - prefix)) == (base >> (32 - prefix));
  }
  uint32_t at(uint64_t offset) const { return base + static_cast<uint32_t>(offset); }
  std::string str() const;
};

std::string format_ipv4(uint32_t addr);  // dotted quad of a host-byte-order address
std::optional<uint32_t> parse_ipv4(std::string_view text);

}  // namespace lambent::net

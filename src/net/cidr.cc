#include "net/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace lambent::net {

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  if (text.size() > 15) return std::nullopt;
  std::string s(text);
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string format_ipv4(uint32_t addr) {
  in_addr a{htonl(addr)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  auto slash = text.find('/');
  auto addr = parse_ipv4(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), c.prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || c.prefix < 0 ||
        c.prefix > 32) {
      return std::nullopt;
    }
  }
  uint32_t mask = c.prefix == 0 ? 0 : ~uint32_t{0} << (32 - c.prefix);
  if ((*addr & ~mask) != 0) return std::nullopt;
  c.base = *addr;
  return c;
}

std::string Cidr::str() const { return format_ipv4(base) + "/" + std::to_string(prefix); }

}  // namespace lambent::net

// Egress policy of an environment (docs/config.md, "Network"): where its connections may go.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/cidr.h"

namespace lambent::net {

enum class EgressMode {
  kNone,      // no interface at all: only the sandbox's loopback (its Runtime API)
  kPlatform,  // Lambent's platform endpoint (APIs on 80/443, DNS on 53) and nothing else
  kInternet,  // also anything beyond the host, through NAT, minus the blocked ranges
};

struct Egress {
  std::optional<EgressMode> mode;  // unset: the node's
  std::vector<Cidr> allow;         // reachable whatever the mode (never the blocked ranges)
  std::vector<Cidr> deny;          // never reachable; wins over allow and the mode
  bool custom() const { return mode.has_value() || !allow.empty() || !deny.empty(); }
};

std::optional<EgressMode> parse_egress_mode(std::string_view text);
const char* egress_mode_name(EgressMode mode);
// CIDRs separated by spaces or commas; `bad` gets the first that does not parse.
std::optional<std::vector<Cidr>> parse_cidr_list(std::string_view text, std::string* bad);

}  // namespace lambent::net

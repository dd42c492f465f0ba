// nftables through libnftables (the nft tool's own library: rules as text, applied in one
// netlink transaction, no process started), and the rule sets of the router namespace
// (node_network.h). Commands act on the network namespace the calling thread is in when they run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "net/cidr.h"
#include "net/egress.h"

struct nft_ctx;

namespace lambent::net {

class Nft final {
 public:
  static Result<Nft> open();
  Nft(Nft&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }
  Nft(const Nft&) = delete;
  ~Nft();
  // Applies `commands` (nft syntax) atomically; the error names nft's complaint.
  Result<void> run(const std::string& commands);

 private:
  explicit Nft(nft_ctx* ctx) : ctx_(ctx) {}
  nft_ctx* ctx_ = nullptr;
};

// What the router's rules are made of.
struct RouterRules {
  Cidr range;                       // the environments' addresses
  uint32_t gateway = 0;             // the platform endpoint's address
  std::vector<uint16_t> tcp_ports;  // served there (HTTP, HTTPS)
  std::vector<Cidr> blocked;        // never reachable through the uplink (host, link-local, ...)
  Egress node;                      // the node's policy (mode always set)
};

inline constexpr const char* kTable = "lambent";
inline constexpr const char* kUplink = "up0";  // the router's end of the uplink

// The whole table of the router namespace (replaces any earlier one).
std::string router_ruleset(const RouterRules& rules);
// One environment's own egress (a chain the egress map jumps to for its address), and its undoing.
std::string env_chain_rules(uint32_t index, uint32_t addr, const Egress& egress);
std::string env_chain_flush(uint32_t index);
std::string env_chain_remove(uint32_t index, uint32_t addr);  // its map entry too
// The host's side of one uplink (a table of its own, named by the uplink's number): NAT for
// what leaves through it, and nothing of the host's own reachable from it (whatever addresses
// the host has now or gets later).
std::string uplink_table_name(uint32_t n);
std::string host_uplink_ruleset(uint32_t n, uint32_t router_addr, const std::string& host_link);

}  // namespace lambent::net

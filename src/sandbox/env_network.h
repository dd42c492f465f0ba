// The spawner's side of the node's network (net/node_network.h): giving a blank sandbox its
// interface, and an environment its egress. Runs in the single-threaded spawner process only.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "net/firewall.h"
#include "net/netlink.h"
#include "net/node_network.h"
#include "sandbox/spec.h"

namespace lambent::sandbox {

// The spawner's hold on the node's network (net/node_network.h): a netlink socket and an
// nftables context used in the router's namespace, the next environment number to try, and
// which numbers have a chain of their own (flushed before the number is used again).
// Environment N has address range.at(N) and, in the router, the link "lbv<N>".
struct RouterAccess {
  net::NetworkPlan plan;
  int self_netns = -1;
  std::optional<net::Netlink> nl;  // opened in the router's namespace
  std::optional<net::Nft> nft;
  uint32_t next = 2;
  std::vector<bool> has_chain;

  uint32_t first() const { return 2; }  // .0 is the network, .1 the gateway
  uint32_t end() const { return static_cast<uint32_t>(plan.range.size() - 1); }
  uint32_t allocate() {
    uint32_t n = next;
    next = next + 1 >= end() ? first() : next + 1;
    return n;
  }
  // nftables commands run from inside the router's namespace (libnftables may open its socket
  // per command, in whatever namespace the thread is then in).
  Result<void> nft_run(const std::string& commands) {
    if (::setns(plan.router_ns_fd, CLONE_NEWNET) != 0) {
      return make_error(Errc::kIo, errno_text("enter the router's namespace"));
    }
    auto r = nft->run(commands);
    if (::setns(self_netns, CLONE_NEWNET) != 0) ::_exit(3);
    return r;
  }
};

std::string link_name(uint32_t n);

// Inside an environment's namespace: eth0 (made by attach_network) up with its /32, the gateway
// on the link, and the default route through it.
bool configure_eth0(uint32_t address, uint32_t gateway, std::string* err);

// Gives the blank (whose process `pid` is in its own, empty network namespace) its interface:
// a veth "lbv<N>" in the router with a route to the blank's address, its peer eth0 in the blank.
// Returns N and the address.
Result<std::pair<uint32_t, uint32_t>> attach_network(RouterAccess& net, int pid);

// The environment's egress (spec over node): none takes its interface away; a policy of its own
// becomes a chain for its address.
Result<void> apply_egress(RouterAccess& net, uint32_t index, uint32_t address,
                          const EnvironmentSpec& spec, bool* has_interface);

}  // namespace lambent::sandbox

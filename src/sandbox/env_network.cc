#include "sandbox/env_network.h"

#include <fcntl.h>

#include "base/fs.h"

namespace lambent::sandbox {

std::string link_name(uint32_t n) { return "lbv" + std::to_string(n); }

// Inside an environment's namespace: eth0 (made by make_blank) up with its /32, the gateway on
// the link, and the default route through it.
bool configure_eth0(uint32_t address, uint32_t gateway, std::string* err) {
  auto nl = net::Netlink::open();
  Result<void> r = nl ? Result<void>() : Result<void>(nl.error());
  if (r) r = nl->set_up("eth0");
  if (r) r = nl->add_address("eth0", address, 32);
  if (r) r = nl->add_route(net::Cidr{gateway, 32}, "eth0");
  if (r) r = nl->add_route(net::Cidr{0, 0}, "eth0", gateway);
  if (!r) *err = "environment network: " + r.error().message;
  return static_cast<bool>(r);
}

// Gives the blank (whose process `pid` is in its own, empty network namespace) its interface:
// a veth "lbv<N>" in the router with a route to the blank's address, its peer eth0 in the blank.
Result<std::pair<uint32_t, uint32_t>> attach_network(RouterAccess& net, int pid) {
  UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return make_error(Errc::kIo, errno_text("open the blank's network namespace"));
  for (int tries = 0; tries < 16; ++tries) {
    uint32_t n = net.allocate();
    std::string name = link_name(n);
    auto made = net.nl->create_veth(name, "eth0", ns.get());
    // Still there: its environment lives on (or its namespace is being torn down). Next one.
    if (!made && made.error().code == Errc::kAlreadyExists) continue;
    if (!made) return made.error();
    uint32_t address = net.plan.range.at(n);
    LAMBENT_TRY_VOID(net.nl->set_up(name));
    LAMBENT_TRY_VOID(net.nl->add_route(net::Cidr{address, 32}, name));
    if (net.has_chain[n]) {
      LAMBENT_TRY_VOID(net.nft_run(net::env_chain_flush(n)));
      net.has_chain[n] = false;
    }
    return std::make_pair(n, address);
  }
  return make_error(Errc::kConflict, "no free address on the node's network");
}

// The environment's egress (spec over node): none takes its interface away; a policy of its own
// becomes a chain for its address.
Result<void> apply_egress(RouterAccess& net, uint32_t index, uint32_t address,
                          const EnvironmentSpec& spec, bool* has_interface) {
  net::Egress e;
  if (!spec.egress_mode.empty()) {
    e.mode = net::parse_egress_mode(spec.egress_mode);
    if (!e.mode) return make_error(Errc::kInvalidArgument, "egress mode " + spec.egress_mode);
  }
  std::string bad;
  auto allow = net::parse_cidr_list(spec.egress_allow, &bad);
  auto deny = net::parse_cidr_list(spec.egress_deny, &bad);
  if (!allow || !deny) return make_error(Errc::kInvalidArgument, "egress CIDR " + bad);
  e.allow = std::move(*allow);
  e.deny = std::move(*deny);
  if (e.mode.value_or(*net.plan.node.mode) == net::EgressMode::kNone) {
    *has_interface = false;
    return net.nl->delete_link(link_name(index));
  }
  if (!e.custom()) return {};
  net.has_chain[index] = true;
  return net.nft_run(net::env_chain_rules(index, address, e));
}

}  // namespace lambent::sandbox

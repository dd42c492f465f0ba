// The node's network for execution environments (docs/architecture.md, "The network of an
// environment"; decision 0010). Made once at server start, before any thread, in a network
// namespace of the server's own -- the router -- which holds:
//   - the gateway address (on its loopback), where the platform endpoint's sockets listen (HTTP,
//     HTTPS, DNS), created here and served by the server's threads;
//   - one veth per environment (`lbv<N>`, made by the spawner with each blank sandbox), a /32
//     route to it, and the environment's end (`eth0`) in the sandbox's own namespace;
//   - the nftables table that filters what environments send and NATs what leaves;
//   - the uplink `up0`, a veth to the host (`lbu<N>` there, a /31 of the uplink range), through
//     which `internet` egress leaves, NATed again by the host.
// Everything lives and dies with the router namespace (it holds only descriptors of this
// process), except the uplink's host end (deleted with the namespace by the kernel) and the
// host's NAT table, which a janitor process removes when the server ends, however it ends (it
// waits for EOF on a pipe only the server holds), and which the next server start on that uplink
// number replaces in any case.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "net/cidr.h"
#include "net/egress.h"

namespace lambent::net {

struct NetworkConfig {
  Cidr range{0x0AD50000, 16};         // 10.213.0.0/16: environments (and the gateway, .1)
  Cidr uplink_range{0x647F0000, 16};  // 100.127.0.0/16: one /31 per server on the host
  Egress node{.mode = EgressMode::kPlatform};
};

// What the spawner and the server need of the node's network.
struct NetworkPlan {
  Cidr range;
  uint32_t gateway = 0;
  int router_ns_fd = -1;  // /proc/<server>/ns/net of the router (owned by NodeNetwork)
  Egress node;            // the node's policy
};

class NodeNetwork final {
 public:
  // Must run while the process has one thread (it enters the new namespace and comes back).
  static Result<NodeNetwork> create(const NetworkConfig& config);
  NodeNetwork(NodeNetwork&&) noexcept = default;

  const NetworkPlan& plan() const { return plan_; }
  // Listening sockets in the router namespace, on the gateway: HTTP (80), HTTPS (443), DNS
  // (UDP 53). Take them once.
  UniqueFd take_http() { return std::move(http_); }
  UniqueFd take_https() { return std::move(https_); }
  UniqueFd take_dns() { return std::move(dns_); }
  std::string uplink_host_link() const { return "lbu" + std::to_string(uplink_n_); }

 private:
  NodeNetwork() = default;
  NetworkPlan plan_;
  UniqueFd router_ns_, http_, https_, dns_, uplink_lock_;
  UniqueFd janitor_pipe_;  // its write end: the janitor cleans the host up at EOF
  uint32_t uplink_n_ = 0;
};

}  // namespace lambent::net

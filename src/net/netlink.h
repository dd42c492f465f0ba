// Links, addresses and routes through rtnetlink, with libnl-route-3 (Debian's libnl). A socket
// belongs to the network namespace it was opened in: open one after setns() to configure another
// namespace; it keeps working there after the thread returns to its own.
// Thread: one socket per thread (the spawner is single-threaded).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "net/cidr.h"

struct nl_sock;

namespace lambent::net {

class Netlink final {
 public:
  static Result<Netlink> open();  // in the calling thread's current network namespace
  Netlink(Netlink&& o) noexcept : sk_(o.sk_) { o.sk_ = nullptr; }
  Netlink& operator=(Netlink&& o) noexcept;
  Netlink(const Netlink&) = delete;
  ~Netlink();

  // A veth pair: `name` here, `peer` in the namespace of `peer_ns_fd` (an open ns/net file).
  Result<void> create_veth(const std::string& name, const std::string& peer, int peer_ns_fd);
  Result<void> delete_link(const std::string& name);  // kNotFound when there is none
  Result<int> ifindex(const std::string& name);
  Result<void> set_up(const std::string& name);
  Result<void> add_address(const std::string& name, uint32_t addr, int prefix);
  // A route to `dst` through link `name`, via `gateway` (0: directly on the link, scope link).
  Result<void> add_route(const Cidr& dst, const std::string& name, uint32_t gateway = 0);

 private:
  explicit Netlink(nl_sock* sk) : sk_(sk) {}
  nl_sock* sk_ = nullptr;
};

}  // namespace lambent::net

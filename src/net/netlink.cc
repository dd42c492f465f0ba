#include "net/netlink.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include <memory>

namespace lambent::net {
namespace {

Error nl_failure(const std::string& what, int err) {
  int code = err < 0 ? -err : err;
  return Error{code == NLE_OBJ_NOTFOUND || code == NLE_NODEV ? Errc::kNotFound
               : code == NLE_EXIST                           ? Errc::kAlreadyExists
                                                             : Errc::kIo,
               what + ": " + nl_geterror(code)};
}

struct LinkDel {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDel {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrDel {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RouteDel {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDel>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDel>;

NlAddrPtr ipv4(uint32_t addr, int prefix) {
  uint32_t be = htonl(addr);
  NlAddrPtr a(nl_addr_build(AF_INET, &be, sizeof be));
  if (a) nl_addr_set_prefixlen(a.get(), prefix);
  return a;
}

}  // namespace

Result<Netlink> Netlink::open() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return make_error(Errc::kIo, "netlink: out of memory");
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sk);
    return nl_failure("netlink connect", err);
  }
  return Netlink(sk);
}

Netlink& Netlink::operator=(Netlink&& o) noexcept {
  if (this != &o) {
    if (sk_) nl_socket_free(sk_);
    sk_ = o.sk_;
    o.sk_ = nullptr;
  }
  return *this;
}

Netlink::~Netlink() {
  if (sk_) nl_socket_free(sk_);
}

Result<void> Netlink::create_veth(const std::string& name, const std::string& peer,
                                  int peer_ns_fd) {
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) return make_error(Errc::kIo, "veth: out of memory");
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link* other = rtnl_link_veth_get_peer(link.get());
  rtnl_link_set_name(other, peer.c_str());
  rtnl_link_set_ns_fd(other, peer_ns_fd);
  rtnl_link_put(other);
  if (int err = rtnl_link_add(sk_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_failure("create veth " + name, err);
  }
  return {};
}

Result<void> Netlink::delete_link(const std::string& name) {
  LinkPtr link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  if (int err = rtnl_link_delete(sk_, link.get()); err < 0) {
    return nl_failure("delete link " + name, err);
  }
  return {};
}

Result<int> Netlink::ifindex(const std::string& name) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &raw); err < 0) {
    return nl_failure("link " + name, err);
  }
  LinkPtr link(raw);
  return rtnl_link_get_ifindex(link.get());
}

Result<void> Netlink::set_up(const std::string& name) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &raw); err < 0) {
    return nl_failure("link " + name, err);
  }
  LinkPtr link(raw);
  LinkPtr change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sk_, link.get(), change.get(), 0); err < 0) {
    return nl_failure("set " + name + " up", err);
  }
  return {};
}

Result<void> Netlink::add_address(const std::string& name, uint32_t addr, int prefix) {
  LAMBENT_TRY(index, ifindex(name));
  std::unique_ptr<rtnl_addr, AddrDel> a(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(a.get(), index);
  rtnl_addr_set_family(a.get(), AF_INET);
  NlAddrPtr local = ipv4(addr, prefix);
  rtnl_addr_set_local(a.get(), local.get());
  if (int err = rtnl_addr_add(sk_, a.get(), 0); err < 0) {
    return nl_failure("address " + format_ipv4(addr) + " on " + name, err);
  }
  return {};
}

Result<void> Netlink::add_route(const Cidr& dst, const std::string& name, uint32_t gateway) {
  LAMBENT_TRY(index, ifindex(name));
  std::unique_ptr<rtnl_route, RouteDel> r(rtnl_route_alloc());
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_STATIC);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  NlAddrPtr d = ipv4(dst.base, dst.prefix);
  rtnl_route_set_dst(r.get(), d.get());
  rtnl_route_set_scope(r.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();  // owned by the route once added to it
  rtnl_route_nh_set_ifindex(nh, index);
  NlAddrPtr gw;
  if (gateway) {
    gw = ipv4(gateway, 32);
    rtnl_route_nh_set_gateway(nh, gw.get());
  }
  rtnl_route_add_nexthop(r.get(), nh);
  if (int err = rtnl_route_add(sk_, r.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_failure("route " + dst.str() + " dev " + name, err);
  }
  return {};
}

}  // namespace lambent::net

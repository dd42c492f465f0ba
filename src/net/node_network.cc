#include "net/node_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "base/log.h"
#include "net/firewall.h"
#include "net/netlink.h"

namespace lambent::net {
namespace {

constexpr const char* kLockDir = "/run/lambent";

Result<void> write_sysctl(const std::string& path, const std::string& value) {
  UniqueFd f(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f || ::write(f.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return make_error(Errc::kIo, errno_text("write " + path));
  }
  return {};
}

std::string read_sysctl(const std::string& path) {
  auto text = read_file(path);
  return text ? *text : std::string();
}

Result<UniqueFd> listen_socket(int type, uint32_t addr, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return make_error(Errc::kIo, errno_text("socket"));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return make_error(Errc::kIo,
                      errno_text("bind " + format_ipv4(addr) + ":" + std::to_string(port)));
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), SOMAXCONN) != 0) {
    return make_error(Errc::kIo, errno_text("listen"));
  }
  return fd;
}

// The host's own IPv4 addresses now (the uplink must never lead to them).
std::vector<Cidr> host_addresses() {
  std::vector<Cidr> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    uint32_t a = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    out.push_back(Cidr{a, 32});
  }
  ::freeifaddrs(list);
  return out;
}

// One uplink number per live server on this host, held by an flock for the server's lifetime.
Result<std::pair<uint32_t, UniqueFd>> claim_uplink(const Cidr& uplink_range) {
  ::mkdir(kLockDir, 0755);
  uint64_t count = uplink_range.size() / 2;
  for (uint32_t n = 0; n < count; ++n) {
    std::string path = std::string(kLockDir) + "/uplink-" + std::to_string(n) + ".lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return make_error(Errc::kIo, errno_text("open " + path));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return std::make_pair(n, std::move(fd));
  }
  return make_error(Errc::kConflict, "every uplink of " + uplink_range.str() + " is in use");
}

// One attempt at removing the host's NAT table of uplink `n`: made if missing, then deleted, in
// one transaction, so it succeeds exactly when no table is left.
Result<void> delete_uplink_table(uint32_t n) {
  LAMBENT_TRY(nft, Nft::open());
  const std::string table = uplink_table_name(n);
  return nft.run("table ip " + table + "\ndelete table ip " + table + "\n");
}

// One attempt at removing the uplink's host link: succeeds when it is gone (also when it was).
Result<void> delete_uplink_link(const std::string& host_link) {
  LAMBENT_TRY(nl, Netlink::open());
  auto done = nl.delete_link(host_link);
  if (!done && done.error().code == Errc::kNotFound) return {};
  return done;
}

// Removes the host's NAT table of uplink `n` and its link, retrying until both are gone: one
// attempt can fail for a moment (another server's nftables transaction, the kernel busy tearing
// namespaces down), and what a failed attempt left would stay until a server takes the number
// again. Runs in the janitor, which has one thread and stderr: it says what it could not remove.
void clean_uplink(uint32_t n, const std::string& host_link) {
  const std::string table = uplink_table_name(n);
  bool table_gone = false;
  bool link_gone = false;
  std::string last_error;
  // About ten minutes in all, at most a second apart.
  for (int attempt = 0, delay_ms = 10; attempt < 620; ++attempt) {
    if (!table_gone) {
      auto done = delete_uplink_table(n);
      table_gone = bool(done);
      if (!done) last_error = done.error().message;
    }
    if (!link_gone) {
      auto done = delete_uplink_link(host_link);
      link_gone = bool(done);
      if (!done) last_error = done.error().message;
    }
    if (table_gone && link_gone) {
      if (attempt > 0) {
        std::string line =
            fmt::format("lambent-netclean: uplink {} removed after {} attempts ({})\n", host_link,
                        attempt + 1, last_error);
        (void)!::write(2, line.data(), line.size());
      }
      return;
    }
    ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
    delay_ms = std::min(delay_ms * 2, 1000);
  }
  std::string line = fmt::format("lambent-netclean: could not remove uplink {} ({}{}): {}\n",
                                 host_link, table_gone ? "" : "table " + table,
                                 link_gone    ? ""
                                 : table_gone ? "link"
                                              : " and link",
                                 last_error);
  (void)!::write(2, line.data(), line.size());
}

// Forks the process that removes the host's NAT table of uplink `n` (and its link, if the
// kernel has not yet) once `*write_end` closes: when this server exits, also by kill -9. It holds
// the uplink's lock until then, so no new server takes the number before it is clean.
Result<void> start_janitor(uint32_t n, const std::string& host_link, int lock_fd,
                           UniqueFd* write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return make_error(Errc::kIo, errno_text("pipe"));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return make_error(Errc::kIo, errno_text("fork the network janitor"));
  }
  if (pid == 0) {
    // Grandchild of nobody: detach from the server's signals and keep only the pipe and lock.
    ::setsid();
    ::prctl(PR_SET_NAME, "lambent-netclean");
    int keep_lock = ::fcntl(lock_fd, F_DUPFD_CLOEXEC, 3);
    int keep_pipe = ::fcntl(p[0], F_DUPFD_CLOEXEC, keep_lock + 1);
    for (int fd = 3; fd < keep_pipe; ++fd) {
      if (fd != keep_lock) ::close(fd);
    }
    ::syscall(SYS_close_range, static_cast<unsigned>(keep_pipe) + 1, ~0U, 0);
    char c;
    while (::read(keep_pipe, &c, 1) < 0 && errno == EINTR) {
    }
    clean_uplink(n, host_link);
    ::_exit(0);
  }
  ::close(p[0]);
  write_end->reset(p[1]);
  // Not waited for: it outlives us by design; init reaps it. (Double fork not needed: the
  // server reaps no unknown children by pid, and a zombie of it would only exist while we run.)
  return {};
}

}  // namespace

Result<NodeNetwork> NodeNetwork::create(const NetworkConfig& config) {
  if (config.range.prefix > 28) {
    return make_error(Errc::kInvalidArgument, "the environments' range " + config.range.str() +
                                                  " is too small (at most /28)");
  }
  if (config.uplink_range.prefix > 31) {
    return make_error(Errc::kInvalidArgument, "the uplink range must be /31 or larger");
  }
  NodeNetwork n;
  n.plan_.range = config.range;
  n.plan_.gateway = config.range.at(1);
  n.plan_.node = config.node;
  if (!n.plan_.node.mode) n.plan_.node.mode = EgressMode::kPlatform;

  LAMBENT_TRY(uplink, claim_uplink(config.uplink_range));
  n.uplink_n_ = uplink.first;
  n.uplink_lock_ = std::move(uplink.second);
  uint32_t host_up = config.uplink_range.at(2 * uint64_t{n.uplink_n_});
  uint32_t router_up = host_up + 1;
  std::string host_link = n.uplink_host_link();

  UniqueFd host_ns(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!host_ns) return make_error(Errc::kIo, errno_text("open own network namespace"));
  // What a server that held this uplink number before us left (it ended without cleaning).
  (void)delete_uplink_link(host_link);
  (void)delete_uplink_table(n.uplink_n_);
  RouterRules rules;
  rules.range = config.range;
  rules.gateway = n.plan_.gateway;
  rules.tcp_ports = {80, 443};
  rules.blocked = host_addresses();
  for (const char* c : {"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/3"}) {
    rules.blocked.push_back(*Cidr::parse(c));
  }
  rules.blocked.push_back(config.range);
  rules.blocked.push_back(config.uplink_range);
  rules.node = n.plan_.node;

  if (::unshare(CLONE_NEWNET) != 0) {
    return make_error(Errc::kIo, errno_text("create the router's network namespace"));
  }
  auto setup = [&]() -> Result<void> {
    n.router_ns_.reset(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!n.router_ns_) return make_error(Errc::kIo, errno_text("open the router's namespace"));
    LAMBENT_TRY(nl, Netlink::open());
    LAMBENT_TRY_VOID(nl.set_up("lo"));
    LAMBENT_TRY_VOID(nl.add_address("lo", n.plan_.gateway, 32));
    LAMBENT_TRY_VOID(write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"));
    // Environments speak IPv4 only: no IPv6 on the router's links.
    (void)write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    LAMBENT_TRY_VOID(nl.create_veth(kUplink, host_link, host_ns.get()));
    LAMBENT_TRY_VOID(nl.add_address(kUplink, router_up, 31));
    LAMBENT_TRY_VOID(nl.set_up(kUplink));
    LAMBENT_TRY_VOID(nl.add_route(Cidr{0, 0}, kUplink, host_up));
    LAMBENT_TRY(http, listen_socket(SOCK_STREAM, n.plan_.gateway, 80));
    LAMBENT_TRY(https, listen_socket(SOCK_STREAM, n.plan_.gateway, 443));
    LAMBENT_TRY(dns, listen_socket(SOCK_DGRAM, n.plan_.gateway, 53));
    n.http_ = std::move(http);
    n.https_ = std::move(https);
    n.dns_ = std::move(dns);
    LAMBENT_TRY(nft, Nft::open());
    LAMBENT_TRY_VOID(nft.run(router_ruleset(rules)));
    return {};
  };
  auto made = setup();
  if (::setns(host_ns.get(), CLONE_NEWNET) != 0) {
    // Serving from the router's namespace would be wrong in every way: stop here.
    log::error("{}", errno_text("return to the host's network namespace"));
    ::_exit(3);
  }
  if (!made) return made.error();
  // The uplink's host end, and the host's NAT for what leaves through it.
  LAMBENT_TRY(nl, Netlink::open());
  LAMBENT_TRY_VOID(nl.add_address(host_link, host_up, 31));
  LAMBENT_TRY_VOID(nl.set_up(host_link));
  LAMBENT_TRY(nft, Nft::open());
  LAMBENT_TRY_VOID(nft.run(host_uplink_ruleset(n.uplink_n_, router_up, host_link)));
  if (read_sysctl("/proc/sys/net/ipv4/ip_forward").rfind('1', 0) != 0) {
    log::info("enabling IPv4 forwarding on the host (net.ipv4.ip_forward=1) for internet egress");
    LAMBENT_TRY_VOID(write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"));
  }
  LAMBENT_TRY_VOID(start_janitor(n.uplink_n_, host_link, n.uplink_lock_.get(), &n.janitor_pipe_));
  n.plan_.router_ns_fd = n.router_ns_.get();
  return n;
}

}  // namespace lambent::net

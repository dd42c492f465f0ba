#include "sandbox/spawner.h"
#include "sandbox/scratch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>

#include <deque>
#include <optional>

#include "base/codec.h"
#include "sandbox/cgroup.h"
#include "sandbox/contain.h"
#include "sandbox/env_network.h"

namespace lambent::sandbox {
namespace json = boost::json;
namespace {

// Specs carry at most 4 KB of user environment plus paths and argv: 256 KB is ample. The
// buffer is reused, never zero-filled per message (that alone cost ~1 ms per spawn at 1 MB).
constexpr size_t kMaxMessage = 256 * 1024;

// --- wire format ------------------------------------------------------------------------------

std::string encode(const EnvironmentSpec& s) {
  json::array argv, env;
  for (const auto& a : s.argv) argv.emplace_back(a);
  for (const auto& e : s.env) env.emplace_back(e);
  return json::serialize(json::object{{"id", s.id},
                                      {"code_dir", s.code_dir},
                                      {"runtime_dir", s.runtime_dir},
                                      {"opt_dir", s.opt_dir},
                                      {"argv", argv},
                                      {"env", env},
                                      {"tmp_mb", s.tmp_mb},
                                      {"tmp_image", s.tmp_image},
                                      {"uid", s.uid},
                                      {"memory_mb", s.memory_mb},
                                      {"egress_mode", s.egress_mode},
                                      {"egress_allow", s.egress_allow},
                                      {"egress_deny", s.egress_deny}});
}

bool decode(std::string_view text, EnvironmentSpec* s) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  try {
    const auto& o = v.as_object();
    s->id = json::value_to<std::string>(o.at("id"));
    s->code_dir = json::value_to<std::string>(o.at("code_dir"));
    s->runtime_dir = json::value_to<std::string>(o.at("runtime_dir"));
    s->opt_dir = json::value_to<std::string>(o.at("opt_dir"));
    s->argv = json::value_to<std::vector<std::string>>(o.at("argv"));
    s->env = json::value_to<std::vector<std::string>>(o.at("env"));
    s->tmp_mb = o.at("tmp_mb").to_number<int64_t>();
    s->tmp_image = json::value_to<std::string>(o.at("tmp_image"));
    s->uid = o.at("uid").to_number<uint32_t>();
    s->memory_mb = o.at("memory_mb").to_number<int64_t>();
    s->egress_mode = json::value_to<std::string>(o.at("egress_mode"));
    s->egress_allow = json::value_to<std::string>(o.at("egress_allow"));
    s->egress_deny = json::value_to<std::string>(o.at("egress_deny"));
  } catch (const std::exception&) {
    return false;
  }
  return !s->argv.empty();
}

bool send_with_fds(int sock, const std::string& msg, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(msg.data()), msg.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  if (!fds.empty()) {
    mh.msg_control = cbuf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(msg.size());
}

ssize_t recv_with_fds(int sock, std::string* msg, std::vector<int>* fds) {
  static thread_local std::vector<char> buffer(kMaxMessage);
  iovec iov{buffer.data(), buffer.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof(cbuf);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return n;
  msg->assign(buffer.data(), static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds->push_back(fd);
      }
    }
  }
  return n;
}

// --- spawner process --------------------------------------------------------------------------

// Creates the Runtime API listener inside the environment's network namespace (after bringing its
// loopback up, and with `address` non-zero its eth0: configure_eth0), then returns to our own
// namespace. The socket stays in the namespace it was made in.
int runtime_socket(int pid, uint16_t port, int self_netns, std::string* err, uint32_t address = 0,
                   uint32_t gateway = 0) {
  UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) {
    *err = errno_text("open netns");
    return -1;
  }
  if (::setns(ns.get(), CLONE_NEWNET) != 0) {
    *err = errno_text("setns");
    return -1;
  }
  int lfd = -1;
  UniqueFd ctl(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (!ctl || ::ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) != 0) {
    *err = errno_text("get lo flags");
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) != 0) {
      *err = errno_text("bring lo up");
    } else if (address != 0 && !configure_eth0(address, gateway, err)) {
      // *err says why
    } else {
      lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      int one = 1;
      if (lfd < 0 || ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
          ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
          ::listen(lfd, 64) != 0) {
        *err = errno_text("runtime api socket");
        if (lfd >= 0) ::close(lfd);
        lfd = -1;
      }
    }
  }
  if (::setns(self_netns, CLONE_NEWNET) != 0) {
    // Staying in an environment's namespace would break every later spawn: give up entirely.
    ::_exit(3);
  }
  return lfd;
}

// Moves `fd` to exactly `target`, close-on-exec or not.
void place_fd(int fd, int target, bool cloexec) {
  if (fd != target) {
    ::dup3(fd, target, cloexec ? O_CLOEXEC : 0);
  } else if (!cloexec) {
    ::fcntl(fd, F_SETFD, 0);
  }
}

// A sandbox made ahead of time: cloned into its namespaces, placed in its cgroup (the expensive
// step on cgroup v1: a task migration waits for an RCU grace period, ~5-15 ms), its Runtime API
// socket created, and its process waiting on the sync pipe for the environment it will become.
struct Blank {
  std::string error;
  int pid = -1;
  int pidfd = -1;
  UniqueFd sync_w, err_r, out_r, listen_fd;
  int64_t tmp_mb = 0;  // size of the disk /tmp the blank mounted (0: none, a tmpfs comes later)
  uint32_t net_index = 0;  // its number on the node's network (0: no interface)
  uint32_t address = 0;
  std::string cgroup_name;
  std::unique_ptr<Cgroup> cgroup;
};

// `memory_mb`: the limits to make the group with, those of the environment last asked for, so
// that assigning the blank to the next one usually writes no limit at all. `net`: the node's
// network (null: the blank gets only its loopback).
Blank make_blank(CgroupBackend& cgroups, const EtcPlan& etc, int self_netns, int64_t memory_mb,
                 ScratchDisks* scratch, RouterAccess* net) {
  Blank b;
  // The default /tmp (512 MB), made ahead with the blank; the blank mounts it before its spec.
  std::string tmp_image;
  if (scratch) {
    auto image = scratch->make_image(kDefaultTmpMb);
    if (!image) {
      b.error = "scratch /tmp: " + image.error().message;
      return b;
    }
    tmp_image = std::move(*image);
    b.tmp_mb = kDefaultTmpMb;
  }
  b.cgroup_name = "env-" + hex_encode(random_bytes(8));
  auto group = cgroups.create(b.cgroup_name, {memory_mb, init_cpu_quota(memory_mb), 1024});
  if (!group) {
    b.error = group.error().message;
    if (!tmp_image.empty()) ::unlink(tmp_image.c_str());
    return b;
  }
  b.cgroup = std::move(*group);
  int sync_p[2], err_p[2], out_p[2];
  if (::pipe2(sync_p, O_CLOEXEC) != 0 || ::pipe2(err_p, O_CLOEXEC) != 0 ||
      ::pipe2(out_p, O_CLOEXEC) != 0) {
    b.error = errno_text("pipe");
    b.cgroup->destroy();
    return b;
  }
  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET |
               CLONE_PARENT | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = 0;  // must be 0 with CLONE_PARENT; the server gets our own exit signal
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    b.error = errno_text("clone3");
    if (!tmp_image.empty()) ::unlink(tmp_image.c_str());
    for (int fd : {sync_p[0], sync_p[1], err_p[0], err_p[1], out_p[0], out_p[1]}) ::close(fd);
    b.cgroup->destroy();
    return b;
  }
  if (pid == 0) {
    // Child: stdin from /dev/null, stdout and stderr into the output pipe, and nothing else open
    // but the two control pipes (moved to 3 and 4).
    int null_fd = ::open("/dev/null", O_RDONLY);
    int sync_fd = ::fcntl(sync_p[0], F_DUPFD_CLOEXEC, 64);
    int err_fd = ::fcntl(err_p[1], F_DUPFD_CLOEXEC, 64);
    ::dup2(null_fd, 0);
    ::dup2(out_p[1], 1);
    ::dup2(out_p[1], 2);
    place_fd(sync_fd, 3, true);
    place_fd(err_fd, 4, true);
    ::syscall(SYS_close_range, 5, ~0U, 0);
    contain(etc, 3, 4, tmp_image);
  }
  ::close(sync_p[0]);
  ::close(err_p[1]);
  ::close(out_p[1]);
  b.pid = static_cast<int>(pid);
  b.pidfd = pidfd;
  b.sync_w.reset(sync_p[1]);
  b.err_r.reset(err_p[0]);
  b.out_r.reset(out_p[0]);
  for (const auto& file : b.cgroup->procs_files()) {
    UniqueFd f(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    std::string p = std::to_string(pid);
    if (!f || ::write(f.get(), p.data(), p.size()) != static_cast<ssize_t>(p.size())) {
      b.error = errno_text("join cgroup " + file);
      ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      return b;
    }
  }
  if (net) {
    auto attached = attach_network(*net, b.pid);
    if (!attached) {
      b.error = "environment network: " + attached.error().message;
      ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      return b;
    }
    b.net_index = attached->first;
    b.address = attached->second;
  }
  std::string err;
  int lfd = runtime_socket(b.pid, kRuntimeApiPort, self_netns, &err, b.address,
                           net ? net->plan.gateway : 0);
  if (lfd < 0) {
    b.error = err;
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    return b;
  }
  b.listen_fd.reset(lfd);
  return b;
}

struct Spawned {
  std::string error;
  int pid = -1;
  int pidfd = -1;
  int listen_fd = -1;
  int output_fd = -1;
  int start_error_fd = -1;
  std::string cgroup;
  std::string address;
};

// Turns a blank into the requested environment: its limits, then the spec down the sync pipe.
// The child then mounts, drops privileges and execs on its own; the server, not the spawner,
// watches its error pipe (EOF there means exec succeeded), so the reply does not wait for the
// exec and the server adopts the environment while the runtime starts.
Spawned assign(Blank& b, EnvironmentSpec spec, ScratchDisks* scratch, RouterAccess* net) {
  Spawned out;
  out.pid = b.pid;
  out.pidfd = b.pidfd;
  out.cgroup = b.cgroup_name;
  auto fail = [&](std::string why) {
    if (b.pidfd >= 0) ::syscall(SYS_pidfd_send_signal, b.pidfd, SIGKILL, nullptr, 0);
    if (b.cgroup) b.cgroup->destroy();
    out.error = std::move(why);
    return out;
  };
  if (!b.error.empty()) return fail(b.error);
  auto limits = b.cgroup->set_limits({spec.memory_mb, init_cpu_quota(spec.memory_mb), 1024});
  if (!limits) return fail(limits.error().message);
  if (net && b.address != 0) {
    bool has_interface = true;
    if (auto r = apply_egress(*net, b.net_index, b.address, spec, &has_interface); !r) {
      return fail("environment network: " + r.error().message);
    }
    if (has_interface) out.address = net::format_ipv4(b.address);
  }
  if (scratch && spec.tmp_mb != b.tmp_mb) {
    // Not the ready-made size: a disk of this one, on the cold path (a sparse copy).
    auto image = scratch->make_image(spec.tmp_mb);
    if (!image) return fail("scratch /tmp: " + image.error().message);
    spec.tmp_image = std::move(*image);
  }
  std::string msg = encode(spec);
  uint32_t len = static_cast<uint32_t>(msg.size());
  std::string frame(reinterpret_cast<const char*>(&len), sizeof(len));
  frame += msg;
  // A blank whose preparation failed has written why to its error pipe and exited: the write
  // then fails (EPIPE; SIGPIPE is ignored here) and the reason is read below.
  bool sent =
      ::write(b.sync_w.get(), frame.data(), frame.size()) == static_cast<ssize_t>(frame.size());
  int write_errno = errno;
  b.sync_w.reset();
  if (!sent) {
    char buf[1024];
    std::string child_error;
    for (;;) {
      ssize_t n = ::read(b.err_r.get(), buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      child_error.append(buf, static_cast<size_t>(n));
    }
    return fail(child_error.empty() ? errno_text("start child", write_errno) : child_error);
  }
  out.listen_fd = b.listen_fd.release();
  out.output_fd = b.out_r.release();
  out.start_error_fd = b.err_r.release();
  return out;
}

[[noreturn]] void serve(int sock, const std::string& cgroup_parent, uint32_t uid_base,
                        uint32_t uid_count, size_t pool_size, const std::string& scratch_dir,
                        const Spawner::Network* network) {
  // Our own mount namespace (host mounts still propagate in, none of ours out) with a tmpfs for
  // the sandbox /etc; blanks are cloned from it.
  Result<EtcPlan> etc_plan = make_error(Errc::kIo, "");
  if (::unshare(CLONE_NEWNS) != 0) {
    etc_plan = make_error(Errc::kIo, errno_text("unshare the spawner's mount namespace"));
  } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    etc_plan = make_error(Errc::kIo, errno_text("make the spawner's mounts slaves"));
  } else if (::mount("tmpfs", kEtcMountpoint, "tmpfs", MS_NOSUID | MS_NODEV,
                     "size=64m,mode=0755") != 0) {
    etc_plan = make_error(Errc::kIo, errno_text(std::string("mount ") + kEtcMountpoint));
  } else {
    EtcNetwork etc_net;
    if (network) etc_net = {net::format_ipv4(network->plan.gateway), network->ca_pem};
    etc_plan = make_etc_plan(kEtcMountpoint, uid_base, uid_count, etc_net);
  }
  EtcPlan etc = etc_plan ? *etc_plan : EtcPlan{};
  int self_netns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  std::optional<RouterAccess> router;
  if (network && etc_plan) {
    // The router's netlink socket and nftables context, opened inside its namespace.
    router.emplace();
    router->plan = network->plan;
    router->self_netns = self_netns;
    router->has_chain.assign(network->plan.range.size(), false);
    if (::setns(network->plan.router_ns_fd, CLONE_NEWNET) != 0) {
      etc_plan = make_error(Errc::kIo, errno_text("enter the router's namespace"));
    } else {
      auto nl = net::Netlink::open();
      auto nft = net::Nft::open();
      if (::setns(self_netns, CLONE_NEWNET) != 0) ::_exit(3);
      if (!nl || !nft) {
        etc_plan = make_error(Errc::kIo, "the router's netlink or nftables: " +
                                             (nl ? nft.error().message : nl.error().message));
      } else {
        router->nl.emplace(std::move(*nl));
        router->nft.emplace(std::move(*nft));
      }
    }
  }
  RouterAccess* net_ptr = router && router->nl ? &*router : nullptr;
  auto cgroups = detect_cgroups(cgroup_parent);
  if (cgroups) (*cgroups)->remove_stale();  // what a crashed earlier run of this server left
  // Disk-backed /tmp when the host has loop devices; else a tmpfs (charged to memory).
  std::optional<ScratchDisks> scratch;
  if (!scratch_dir.empty()) {
    if (auto d = ScratchDisks::open(scratch_dir)) {
      scratch.emplace(std::move(*d));
      if (auto warm = scratch->make_image(kDefaultTmpMb)) ::unlink(warm->c_str());  // template now
    } else {
      std::fprintf(stderr, "lambent spawner: /tmp falls back to tmpfs (counted as memory): %s\n",
                   d.error().message.c_str());
    }
  }
  ScratchDisks* scratch_ptr = scratch ? &*scratch : nullptr;
  ::signal(SIGPIPE, SIG_IGN);  // a blank that died before its spec must not take us with it
  std::deque<Blank> pool;
  int64_t memory_hint = 128;  // MemorySize of the last environment asked for
  bool refill = true;  // paused after a failure until the next request
  std::string msg;
  std::vector<int> fds;
  // Making a blank takes a clone, a cgroup migration and the blank's own mounts (10-20 ms of
  // work on these machines): done right after a request, it competes for the CPUs with the
  // runtime that request is starting. So the pool is refilled once no request has come for
  // kQuiet (longer than a node runtime's Init here) -- at once only when it is empty.
  constexpr auto kQuiet = std::chrono::milliseconds(150);
  auto last_request = std::chrono::steady_clock::now() - kQuiet;
  // Environments with an egress chain of their own, watched through a pidfd of ours: when one
  // exits, its chain and map entry go (the rest of its network goes with its namespace).
  struct Watched {
    UniqueFd pidfd;
    uint32_t index;
    uint32_t address;
  };
  std::vector<Watched> watched;
  std::vector<pollfd> polled;
  for (;;) {
    polled.assign(1, pollfd{sock, POLLIN, 0});
    for (const auto& w : watched) polled.push_back(pollfd{w.pidfd.get(), POLLIN, 0});
    bool want_blank = cgroups && etc_plan && refill && pool.size() < pool_size;
    int timeout = -1;
    if (want_blank && !pool.empty()) {
      auto quiet_left = last_request + kQuiet - std::chrono::steady_clock::now();
      timeout = static_cast<int>(std::max<int64_t>(
          0, std::chrono::ceil<std::chrono::milliseconds>(quiet_left).count()));
    } else if (want_blank) {
      timeout = 0;
    }
    int r = ::poll(polled.data(), polled.size(), timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && net_ptr) {
      for (size_t i = watched.size(); i-- > 0;) {
        if (!(polled[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Watched& w = watched[i];
        if (net_ptr->has_chain[w.index]) {
          (void)net_ptr->nft_run(net::env_chain_remove(w.index, w.address));
          net_ptr->has_chain[w.index] = false;
        }
        watched.erase(watched.begin() + static_cast<std::ptrdiff_t>(i));
      }
      if (!(polled[0].revents & POLLIN)) continue;
    }
    if (r == 0) {
      pool.push_back(make_blank(**cgroups, etc, self_netns, memory_hint, scratch_ptr, net_ptr));
      if (!pool.back().error.empty()) refill = false;
      continue;
    }
    fds.clear();
    ssize_t n = recv_with_fds(sock, &msg, &fds);
    if (n <= 0) {  // the server closed its end: we are done
      for (Blank& b : pool) {
        if (b.pidfd >= 0) ::syscall(SYS_pidfd_send_signal, b.pidfd, SIGKILL, nullptr, 0);
        if (b.cgroup) b.cgroup->destroy();  // waits (briefly) for the blank to have exited
      }
      ::_exit(0);
    }
    for (int fd : fds) ::close(fd);
    refill = true;
    last_request = std::chrono::steady_clock::now();
    EnvironmentSpec spec;
    Spawned s;
    if (!cgroups) {
      s.error = cgroups.error().message;
    } else if (!etc_plan) {
      s.error = etc_plan.error().message;
    } else if (!decode(msg, &spec)) {
      s.error = "malformed spawn request";
    } else {
      memory_hint = spec.memory_mb;
      if (pool.empty()) {
        pool.push_back(make_blank(**cgroups, etc, self_netns, memory_hint, scratch_ptr, net_ptr));
      }
      Blank b = std::move(pool.front());
      pool.pop_front();
      s = assign(b, spec, scratch_ptr, net_ptr);
      if (s.error.empty() && net_ptr && b.net_index && net_ptr->has_chain[b.net_index]) {
        watched.push_back(
            Watched{UniqueFd(::fcntl(s.pidfd, F_DUPFD_CLOEXEC, 3)), b.net_index, b.address});
      }
    }
    json::object reply;
    std::vector<int> send_fds;
    reply["pid"] = s.pid;
    reply["cgroup"] = s.cgroup;
    reply["address"] = s.address;
    if (s.error.empty()) {
      reply["ok"] = true;
      send_fds = {s.pidfd, s.listen_fd, s.output_fd, s.start_error_fd};
    } else {
      reply["ok"] = false;
      reply["error"] = s.error;
      if (s.pidfd >= 0) send_fds = {s.pidfd};  // the server reaps the failed child through it
    }
    send_with_fds(sock, json::serialize(reply), send_fds);
    for (int fd : send_fds) ::close(fd);
  }
}

}  // namespace

bool decode_spec(std::string_view text, EnvironmentSpec* spec) { return decode(text, spec); }

Result<Spawner> Spawner::start(const std::string& cgroup_parent, uint32_t uid_base,
                               uint32_t uid_count, const std::string& scratch_dir, size_t pool_size,
                               const Network* network) {
  for (const char* dir : {kRootMountpoint, kEtcMountpoint}) {
    if (::mkdir(dir, 0755) != 0 && errno != EEXIST) {
      return make_error(Errc::kIo, errno_text(std::string("mkdir ") + dir));
    }
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return make_error(Errc::kIo, errno_text("socketpair"));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(Errc::kIo, errno_text("fork spawner"));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    ::prctl(PR_SET_NAME, "lambent-spawner");
    // Keep only stdio, our socket and the router's namespace: in particular not the data
    // directory's lock, which would otherwise outlive a killed server for as long as the
    // spawner takes to die.
    std::optional<Network> net;
    int keep_ns = -1;
    if (network) {
      net = *network;
      keep_ns = ::fcntl(network->plan.router_ns_fd, F_DUPFD_CLOEXEC, 3);
    }
    int sock = ::fcntl(sv[1], F_DUPFD_CLOEXEC, std::max(3, keep_ns + 1));
    for (int fd = 3; fd < sock; ++fd) {
      if (fd != keep_ns) ::close(fd);
    }
    ::syscall(SYS_close_range, static_cast<unsigned>(sock) + 1, ~0U, 0);
    if (net) net->plan.router_ns_fd = keep_ns;
    serve(sock, cgroup_parent, uid_base, uid_count, pool_size, scratch_dir, net ? &*net : nullptr);
  }
  ::close(sv[1]);
  return Spawner(pid, UniqueFd(sv[0]));
}

Spawner::Spawner(Spawner&& o) noexcept
    : pid_(o.pid_), sock_(std::move(o.sock_)), mu_(std::move(o.mu_)) {
  o.pid_ = -1;
}

Spawner::~Spawner() {
  if (pid_ > 0) {
    sock_.reset();  // the spawner exits on EOF
    ::waitpid(pid_, nullptr, 0);
  }
}

Result<SpawnResult> Spawner::spawn(const EnvironmentSpec& spec) {
  std::lock_guard lock(*mu_);
  if (!send_with_fds(sock_.get(), encode(spec), {})) {
    return make_error(Errc::kInternal, errno_text("send to spawner"));
  }
  std::string msg;
  std::vector<int> fds;
  if (recv_with_fds(sock_.get(), &msg, &fds) <= 0) {
    return make_error(Errc::kInternal, "the spawner process is gone");
  }
  boost::system::error_code ec;
  json::value v = json::parse(msg, ec);
  auto close_all = [&] {
    for (int fd : fds) ::close(fd);
  };
  if (ec || !v.is_object()) {
    close_all();
    return make_error(Errc::kInternal, "malformed reply from the spawner");
  }
  const auto& o = v.as_object();
  if (!o.at("ok").as_bool()) {
    if (!fds.empty()) {
      // Reap the failed child (it is ours: CLONE_PARENT).
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(fds[0]), &info, WEXITED);
    }
    close_all();
    return make_error(Errc::kInternal, std::string(o.at("error").as_string()));
  }
  if (fds.size() != 4) {
    close_all();
    return make_error(Errc::kInternal, "spawner reply without its descriptors");
  }
  SpawnResult r;
  r.pid = static_cast<int>(o.at("pid").as_int64());
  r.pidfd = fds[0];
  r.listen_fd = fds[1];
  r.output_fd = fds[2];
  r.start_error_fd = fds[3];
  r.cgroup = std::string(o.at("cgroup").as_string());
  if (auto* a = o.if_contains("address"); a && a->is_string())
    r.address = std::string(a->as_string());
  return r;
}

}  // namespace lambent::sandbox

// The spawner: a small single-threaded process forked from the server before any thread starts
// (the Chrome zygote / Firecracker jailer pattern), so that the multithreaded server never forks.
// Ahead of requests it makes "blank" sandboxes: a process cloned into new mount, pid, ipc, uts and
// network namespaces (as a child of the server, CLONE_PARENT, so the server can reap it through its
// pidfd), placed in a cgroup it creates, with the Runtime API socket made inside the new network
// namespace (setns). The server sends an EnvironmentSpec over a SOCK_SEQPACKET socket; the spawner
// sets the blank's limits and hands it the spec, and answers at once with the pidfd, the listening
// socket, the output pipe, the error pipe (SCM_RIGHTS) and the cgroup's name -- or a structured
// error naming the step that failed -- while the child finishes containing itself (contain.cc)
// and execs: a failure there arrives on the error pipe (SpawnResult::start_error_fd).
// Thread: spawn() may be called from any thread; calls are serialized.
#pragma once

#include <linux/filter.h>

#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "net/node_network.h"
#include "sandbox/spec.h"

namespace lambent::sandbox {

class Spawner final {
 public:
  // Forks the spawner process. Must run before the server starts any thread. The spawner keeps
  // `pool_size` sandboxes made ahead of time, so a cold start skips the slow steps.
  // `cgroup_parent` names this server's subtree of cgroups (see detect_cgroups).
  // Environments run as uids uid_base .. uid_base + uid_count - 1 (named in the sandbox's passwd).
  // `scratch_dir` holds the images of the environments' disk-backed /tmp (scratch.h); "" = a
  // tmpfs /tmp.
  // `network` (null: environments have only their loopback): the node's network; every blank
  // gets its interface on it (node_network.h), and `ca_pem` joins the sandbox's CA bundle.
  struct Network {
    net::NetworkPlan plan;
    std::string ca_pem;
  };
  static Result<Spawner> start(const std::string& cgroup_parent, uint32_t uid_base,
                               uint32_t uid_count, const std::string& scratch_dir = "",
                               size_t pool_size = 2, const Network* network = nullptr);
  Spawner(Spawner&&) noexcept;
  ~Spawner();

  // Blocking: a few hundred microseconds to a few milliseconds.
  Result<SpawnResult> spawn(const EnvironmentSpec& spec);

 private:
  Spawner(int pid, UniqueFd sock) : pid_(pid), sock_(std::move(sock)) {}
  int pid_ = -1;
  UniqueFd sock_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
};

// The seccomp filter (seccomp.cc), compiled to BPF once when the spawner starts, and installed
// by each sandbox just before exec (an errno-style message on failure).
Result<std::vector<sock_filter>> compile_seccomp();
std::string install_seccomp(const std::vector<sock_filter>& prog);

}  // namespace lambent::sandbox

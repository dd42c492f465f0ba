// The spawner: a small single-threaded process forked from the server before any thread starts
// (the Chrome zygote / Firecracker jailer pattern), so that the multithreaded server never forks.
// The server sends it an EnvironmentSpec over a SOCK_SEQPACKET socket; it clones the environment
// into new mount, pid, ipc, uts and network namespaces (as a child of the server, CLONE_PARENT, so
// the server can reap it through its pidfd), puts it in its cgroups, creates the Runtime API socket
// inside the new network namespace (setns), lets the child contain itself (contain.cc) and exec,
// and answers with the pidfd, the listening socket and the output pipe (SCM_RIGHTS), or a
// structured error naming the step that failed.
// Thread: spawn() may be called from any thread; calls are serialized.
#pragma once

#include <mutex>
#include <string>

#include "base/error.h"
#include "base/fs.h"
#include "sandbox/spec.h"

namespace lambent::sandbox {

class Spawner final {
 public:
  // Forks the spawner process. Must run before the server starts any thread.
  static Result<Spawner> start();
  Spawner(Spawner&&) noexcept;
  ~Spawner();

  // Blocking: a few hundred microseconds to a few milliseconds.
  Result<SpawnResult> spawn(const EnvironmentSpec& spec);
  int pid() const { return pid_; }

 private:
  Spawner(int pid, UniqueFd sock) : pid_(pid), sock_(std::move(sock)) {}
  int pid_ = -1;
  UniqueFd sock_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
};

// Installs the seccomp filter (seccomp.cc). Returns an errno-style message on failure.
std::string install_seccomp();

}  // namespace lambent::sandbox

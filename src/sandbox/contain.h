// The child-side recipe that turns a freshly cloned process into an execution environment, and the
// plan of /etc contents it uses, computed once when the spawner starts.
#pragma once

#include <linux/filter.h>

#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "sandbox/spec.h"

namespace lambent::sandbox {

// The sandbox's /etc: one host directory prepared when the spawner starts (generated hosts,
// resolv.conf, passwd/group naming every uid environments may get; copies of what runtimes need
// from the host's /etc, never shadow or private keys), bind-mounted read-only into each sandbox.
struct EtcPlan {
  std::string dir;
  std::vector<sock_filter> seccomp;  // compiled once, installed by every sandbox
};

// `tag` names the directory (/run/lambent-etc-<tag>): one per server instance, replaced on start.
Result<EtcPlan> make_etc_plan(const std::string& tag, uint32_t uid_base, uint32_t uid_count);
void remove_etc_plan(const EtcPlan& plan);

// Where each environment's root tmpfs is mounted, inside its own mount namespace only.
inline constexpr const char* kRootMountpoint = "/run/lambent-sandbox-root";

// Prepares what every environment has (root tmpfs, /usr, /etc, /dev, /proc, rlimits), waits on
// `sync_fd` for the length-prefixed JSON EnvironmentSpec, then finishes and enters it.
[[noreturn]] void contain(const EtcPlan& etc, int sync_fd, int err_fd);

bool decode_spec(std::string_view text, EnvironmentSpec* spec);

}  // namespace lambent::sandbox

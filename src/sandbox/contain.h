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

// The sandbox's /etc: one directory prepared when the spawner starts (generated hosts,
// resolv.conf, passwd/group naming every uid environments may get; copies of what runtimes need
// from the host's /etc, never shadow or private keys), bind-mounted read-only into each sandbox.
struct EtcPlan {
  std::string dir;
  std::vector<sock_filter> seccomp;  // compiled once, installed by every sandbox
};

// What the node's network adds to the sandbox /etc: the resolver to ask (the platform
// endpoint's DNS) and Lambent's certificate authority, appended to the CA bundle and written on
// its own to kLambentCaFile. Empty: the host's resolv.conf and bundle as they are.
struct EtcNetwork {
  std::string nameserver;
  std::string ca_pem;
};
inline constexpr const char* kLambentCaFile = "/etc/ssl/certs/lambent-ca.pem";
inline constexpr const char* kCaBundleFile = "/etc/ssl/certs/ca-certificates.crt";

// Fills `dir` (an empty directory: the spawner's private tmpfs at kEtcMountpoint).
Result<EtcPlan> make_etc_plan(const std::string& dir, uint32_t uid_base, uint32_t uid_count,
                              const EtcNetwork& network = {});

// Where each environment's root tmpfs is mounted, inside its own mount namespace only.
inline constexpr const char* kRootMountpoint = "/run/lambent-sandbox-root";
// Where the spawner mounts the tmpfs holding the sandbox /etc, inside its own mount namespace
// only: nothing of it is visible on the host or outlives the spawner and its sandboxes, and it
// is fast to fill whatever /run is (on some hosts, the root disk).
inline constexpr const char* kEtcMountpoint = "/run/lambent-sandbox-etc";

// Prepares what every environment has (root tmpfs, /usr, /etc, /dev, /proc, rlimits), waits on
// `sync_fd` for the length-prefixed JSON EnvironmentSpec, then finishes and enters it.
// `tmp_image`: a scratch image (scratch.h) to mount at /tmp before the spec arrives; "" = a
// tmpfs of the spec's size after it.
[[noreturn]] void contain(const EtcPlan& etc, int sync_fd, int err_fd,
                          const std::string& tmp_image);

bool decode_spec(std::string_view text, EnvironmentSpec* spec);

}  // namespace lambent::sandbox

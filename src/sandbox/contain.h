// The child-side recipe that turns a freshly cloned process into an execution environment, and the
// plan of /etc contents it uses, computed once when the spawner starts.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sandbox/spec.h"

namespace lambent::sandbox {

struct EtcPlan {
  std::vector<std::pair<std::string, std::string>> files;  // name -> contents, written per env
  std::vector<std::string> binds;  // host /etc entries bind-mounted read-only (dirs or files)
  std::vector<std::pair<std::string, std::string>> symlinks;  // name -> target
};

EtcPlan make_etc_plan();

// Where each environment's root tmpfs is mounted, inside its own mount namespace only.
inline constexpr const char* kRootMountpoint = "/run/lambent-sandbox-root";

// Waits on `sync_fd` for the length-prefixed JSON EnvironmentSpec, then builds and enters it.
[[noreturn]] void contain(const EtcPlan& etc, int sync_fd, int err_fd);

bool decode_spec(std::string_view text, EnvironmentSpec* spec);

}  // namespace lambent::sandbox

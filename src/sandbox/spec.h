// What the spawner is asked to create: one execution environment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lambent::sandbox {

struct EnvironmentSpec {
  std::string id;           // unique, [a-z0-9]; names the cgroups and appears in logs
  std::string code_dir;     // host directory mounted read-only at /var/task
  std::string runtime_dir;  // host directory mounted read-only at /var/runtime ("" = empty)
  std::string opt_dir;      // host directory mounted read-only at /opt: the layers ("" = empty)
  std::vector<std::string> argv;        // the runtime process, as seen inside
  std::vector<std::string> env;         // KEY=VALUE, exactly the environment of the runtime
  int64_t tmp_mb = 512;                 // size of /tmp (EphemeralStorage)
  // Set by the spawner when the blank's ready-made /tmp is not of tmp_mb: the image to mount
  // instead (scratch.h). "" = the blank's own.
  std::string tmp_image;
  uint32_t uid = 993;                   // unprivileged user the runtime runs as
  int64_t memory_mb = 128;              // cgroup limits (CPU in proportion, 1,024 pids)
  // The function's own egress policy (net/egress.h; "" and empty lists: the node's).
  std::string egress_mode;
  std::string egress_allow;  // CIDRs, space separated
  std::string egress_deny;
};

// The /tmp a blank sandbox is made with (EphemeralStorage's default); other sizes are made when
// the environment is assigned.
inline constexpr int64_t kDefaultTmpMb = 512;

// Every sandbox's Runtime API listens on 127.0.0.1:9001 in its own network namespace, as on AWS.
inline constexpr uint16_t kRuntimeApiPort = 9001;

// What came back: the environment's init process (its pid namespace dies with it).
struct SpawnResult {
  int pid = -1;          // in the server's pid namespace
  int pidfd = -1;        // owned by the caller
  int listen_fd = -1;    // Runtime API socket, listening on 127.0.0.1:9001 in the sandbox's netns
  int output_fd = -1;    // read end of the runtime's stdout+stderr
  // Read end of the sandbox's error pipe: EOF without data once the runtime has been exec'd, or
  // "step: reason" (e.g. "exec /var/task/bootstrap: Exec format error") before the sandbox
  // exits if building it or exec failed. The spawner answers without waiting for either.
  int start_error_fd = -1;
  std::string cgroup;    // the environment's cgroup (CgroupBackend::attach), made by the spawner
  std::string address;   // its address on the node's network ("": none)
};

}  // namespace lambent::sandbox

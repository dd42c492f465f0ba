// Control groups for execution environments, behind one small interface with two backends: the
// cgroup v1 hierarchy (one mount per controller, as on these machines) and the v2 unified tree.
// The server creates a group with the limits before the spawner places the new process in it
// (through procs_files()), freezes and thaws it between invocations, reads peak memory for REPORT
// lines and OOM kills for the Invoke error, and destroys it after the environment has exited.
// Thread: any; every call is a few small file writes or reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace lambent::sandbox {

struct CgroupLimits {
  int64_t memory_mb = 128;
  // CPU time per 100 ms period, in microseconds (Lambda: 1,769 MB = one full CPU).
  int64_t cpu_quota_us = 100'000;
  int64_t pids_max = 1024;
};

// A CPU quota proportional to memory: MemorySize / 1769 of a CPU, at least 1 ms per period.
int64_t cpu_quota_for_memory(int64_t memory_mb);
// The quota during Init: at least one whole CPU (AWS initializes small functions at full speed;
// the memory-proportional quota applies from the first invocation on, see set_cpu_quota).
int64_t init_cpu_quota(int64_t memory_mb);

class Cgroup {
 public:
  virtual ~Cgroup() = default;
  virtual Result<void> set_limits(const CgroupLimits& limits) = 0;
  // Only the CPU quota (one file write): Init ends and the proportional quota starts.
  virtual Result<void> set_cpu_quota(int64_t quota_us) = 0;
  // Files into which a pid is written to move a process into this group.
  virtual std::vector<std::string> procs_files() const = 0;
  virtual Result<void> freeze() = 0;
  virtual Result<void> thaw() = 0;
  virtual uint64_t memory_peak_bytes() = 0;
  virtual void reset_memory_peak() = 0;
  // Number of OOM kills in the group so far.
  virtual uint64_t oom_kills() = 0;
  // Removes the group; every process in it must have exited (retries briefly while they do).
  virtual void destroy() = 0;
};

class CgroupBackend {
 public:
  virtual ~CgroupBackend() = default;
  virtual Result<std::unique_ptr<Cgroup>> create(const std::string& name,
                                                 const CgroupLimits& limits) = 0;
  // A handle on a group that another process (the spawner) created.
  virtual std::unique_ptr<Cgroup> attach(const std::string& name) = 0;
  // Clears what an earlier run of this server left under its parent after ending abruptly
  // (kill -9): thaws every group, kills the processes in it, removes it.
  virtual void remove_stale() = 0;
  // Removes this server's parent group once every environment's group is gone (at shutdown);
  // a no-op while any remains.
  virtual void remove_parent() = 0;
  virtual const char* name() const = 0;
};

// Detects the hierarchy this machine has (v2 when the unified tree has controllers, else v1) and
// prepares the parent group `parent` (a path such as "lambent/<instance>") for all environments of
// one server.
Result<std::unique_ptr<CgroupBackend>> detect_cgroups(const std::string& parent);

}  // namespace lambent::sandbox

// Environment pools per function version: a warm idle environment of the same version serves the
// next invocation; concurrent invocations get separate environments; a cold start spawns a new one
// when none is idle. Idle environments are frozen shortly after they park, reaped after the
// keep-alive, retired when their function changes, and evicted least-recently-used when the node's
// memory budget (sum of MemorySize of live environments) needs room.
// Thread: the io_context thread only (spawning hops to the worker pool).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "runtime/catalogue.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawner.h"
#include "scheduler/environment.h"
#include "telemetry/log_store.h"

namespace lambent::scheduler {

struct SchedulerOptions {
  uint32_t uid_base = 200000;  // environments run as uid_base + (n % uid_count)
  uint32_t uid_count = 4096;
  std::chrono::seconds keep_alive{300};
  std::chrono::milliseconds freeze_after{20};
  int64_t memory_budget_mb = 16384;
};

// Everything needed to start an environment of one version.
struct VersionSpec {
  EnvironmentInfo info;
  std::string code_dir;
  runtime::Launch launch;
  std::vector<std::string> env;  // the runtime's complete environment
  int64_t tmp_mb = 512;
};

class Scheduler final {
 public:
  // `spawner` and `cgroups` are null on a host where environments cannot be made (not root, no
  // cgroups): the control plane still serves, and every invocation fails with `unavailable`.
  Scheduler(boost::asio::io_context& ioc, boost::asio::thread_pool& pool,
            sandbox::Spawner* spawner, sandbox::CgroupBackend* cgroups,
            telemetry::LogStore& logs, std::filesystem::path runtimes_dir,
            SchedulerOptions options, std::string unavailable = "");

  void start();
  void stop();

  // A warm idle environment built from `fingerprint`, or nullptr: the fast path, without
  // preparing a VersionSpec.
  std::shared_ptr<Environment> take_idle(const std::string& fingerprint);
  // A warm environment of this version, or a new one still initializing. kConflict when the
  // memory budget cannot make room (the caller throttles).
  boost::asio::awaitable<Result<std::shared_ptr<Environment>>> acquire(const VersionSpec& spec);
  // Returns an environment after an invocation; dead ones are dropped.
  void release(std::shared_ptr<Environment> env);
  // Kills idle environments of `function` whose fingerprint is not in `keep`.
  void retire(const std::string& function, const std::set<std::string>& keep);

 private:
  struct Pool {
    std::vector<std::shared_ptr<Environment>> idle;  // most recently used at the back
  };
  boost::asio::awaitable<void> reap_loop();
  bool make_room(int64_t memory_mb);
  void forget_dead();

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  sandbox::Spawner* spawner_;
  sandbox::CgroupBackend* cgroups_;
  telemetry::LogStore& logs_;
  std::filesystem::path runtimes_dir_;
  SchedulerOptions options_;
  std::string unavailable_;
  std::map<std::string, Pool> pools_;  // by fingerprint
  // Per function, the fingerprints still current after its last change: an environment of any
  // other one is stopped when its invocation ends instead of going back to a pool.
  std::map<std::string, std::set<std::string>> current_;
  std::map<std::string, std::shared_ptr<Environment>> live_;  // by id
  int64_t memory_in_use_mb_ = 0;
  uint64_t spawned_ = 0;
  bool stopping_ = false;
  std::unique_ptr<boost::asio::steady_timer> reaper_;
};

}  // namespace lambent::scheduler

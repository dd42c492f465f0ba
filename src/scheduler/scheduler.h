// Environment pools per function version: a warm idle environment of the same version serves the
// next invocation; concurrent invocations get separate environments; a cold start spawns a new one
// when none is idle. Idle environments are frozen shortly after they park, reaped after the
// keep-alive, retired when their function changes, and evicted least-recently-used when the node's
// memory budget (sum of MemorySize of live environments) needs room. Processes are started
// through a Launcher and keep-alive time read from a Clock (launcher.h), so tests run it without
// root.
// Thread: the io_context thread only (spawning hops to the worker pool).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "runtime/catalogue.h"
#include "sandbox/cgroup.h"
#include "scheduler/environment.h"
#include "scheduler/launcher.h"
#include "telemetry/log_store.h"

namespace lambent::scheduler {

struct SchedulerOptions {
  uint32_t uid_base = 200000;  // environments run as uid_base + (n % uid_count)
  uint32_t uid_count = 4096;
  std::chrono::seconds keep_alive{300};
  std::chrono::milliseconds freeze_after{20};
  int64_t memory_budget_mb = 16384;
  // An environment is retired (not reused) once this old: its execution-role credentials are
  // issued for 12 hours, and it must not outlive them.
  std::chrono::seconds max_lifetime{11 * 3600};
};

// Everything needed to start an environment of one version.
struct VersionSpec {
  EnvironmentInfo info;
  std::string code_dir;
  runtime::Launch launch;
  std::string opt_dir;            // merged layers for /opt ("" = none)
  std::vector<std::string> env;  // the runtime's environment (the scheduler adds the stream name
                                 // and AWS_LAMBDA_INITIALIZATION_TYPE)
  int64_t tmp_mb = 512;
  // The function's own egress (sandbox::EnvironmentSpec), from its lambent:egress* tags.
  std::string egress_mode, egress_allow, egress_deny;
};

// One set of provisioned environments: a configuration's function and qualifier, and, for an
// alias that routes by weight, the version of its secondary part ("" for the primary part).
struct ProvisionKey {
  std::string function;
  std::string qualifier;
  std::string version;
  auto operator<=>(const ProvisionKey&) const = default;
};

// The state of a provisioned concurrency configuration, as the API reports it.
struct ProvisionedStatus {
  int64_t allocated = 0;  // environments that exist (initializing or ready)
  int64_t available = 0;  // initialized and ready for invocations
  std::string status = "IN_PROGRESS";
  std::string reason;
};

class Scheduler final {
 public:
  // `launcher` is null on a host where environments cannot be made (not root, no cgroups): the
  // control plane still serves, and every invocation fails with `unavailable`. `clock` (default:
  // steady_clock) is what keep-alive reaping compares against.
  Scheduler(boost::asio::io_context& ioc, boost::asio::thread_pool& pool, Launcher* launcher,
            telemetry::LogStore& logs, std::filesystem::path runtimes_dir,
            SchedulerOptions options, std::string unavailable = "",
            const Clock* clock = nullptr);

  void start();  // the maintenance tick: reap() every second
  void stop();
  // One maintenance tick: kills idle environments past the keep-alive, forgets dead ones, and
  // tops provisioned sets up.
  void reap();

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

  // Provisioned concurrency: keeps `count` environments of `spec` initialized ahead of time under
  // `key`, replacing any that die. A new spec for a key replaces its environments. Invocations of
  // that version take them before on-demand ones.
  void provision(const ProvisionKey& key, VersionSpec spec, int64_t count);
  void unprovision(const ProvisionKey& key);
  // The keys of `function`'s provisioned sets.
  std::vector<ProvisionKey> provisioned_keys(const std::string& function) const;
  // Any thread: the status of a configuration, over all its sets: READY once every set is,
  // FAILED when one failed.
  ProvisionedStatus provisioned_status(const std::string& function,
                                       const std::string& qualifier) const;

 private:
  struct ProvisionedSet {
    VersionSpec spec;
    int64_t target = 0;
    std::vector<std::shared_ptr<Environment>> envs;
    bool filling = false;
    std::string failed;
    uint64_t generation = 0;
  };
  boost::asio::awaitable<Result<std::shared_ptr<Environment>>> spawn(const VersionSpec& spec,
                                                                     bool provisioned);
  boost::asio::awaitable<void> fill(ProvisionKey key, uint64_t generation);
  void maintain_provisioned();
  void publish_status(const ProvisionKey& key);

  struct Pool {
    std::vector<std::shared_ptr<Environment>> idle;  // most recently used at the back
  };
  boost::asio::awaitable<void> reap_loop();
  bool make_room(int64_t memory_mb);
  void forget_dead();

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  Launcher* launcher_;
  SteadyClock steady_;
  const Clock* clock_;
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
  std::map<ProvisionKey, ProvisionedSet> provisioned_;
  uint64_t provision_generation_ = 0;
  mutable std::mutex status_mu_;
  std::map<ProvisionKey, ProvisionedStatus> status_;  // guarded by status_mu_
};

}  // namespace lambent::scheduler

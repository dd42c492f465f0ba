// The scheduler's two seams to the outside, so that its logic (warm reuse, eviction, keep-alive,
// retirement, provisioned concurrency) runs in tests without root:
// - Launcher starts an environment's process and hands back what Environment adopts (pidfd,
//   Runtime API socket, output and error pipes) with its cgroup. SandboxLauncher is the real one
//   (the spawner and the cgroup backend); tests start plain processes.
// - Clock tells the time the scheduler's keep-alive reaping compares against; tests move it on.
//   Environments stamp their last use with steady_clock, so a clock must run at steady_clock's
//   pace (a test clock is steady_clock plus an offset it advances).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/error.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawner.h"

namespace lambent::scheduler {

class Launcher {
 public:
  struct Launched {
    sandbox::SpawnResult spawned;
    std::unique_ptr<sandbox::Cgroup> cgroup;
  };
  virtual ~Launcher() = default;
  // Blocking (runs on the worker pool); any thread.
  virtual Result<Launched> launch(const sandbox::EnvironmentSpec& spec) = 0;
};

class SandboxLauncher final : public Launcher {
 public:
  SandboxLauncher(sandbox::Spawner& spawner, sandbox::CgroupBackend& cgroups)
      : spawner_(spawner), cgroups_(cgroups) {}
  Result<Launched> launch(const sandbox::EnvironmentSpec& spec) override {
    auto spawned = spawner_.spawn(spec);
    if (!spawned) return spawned.error();
    if (observer_) observer_(spec, *spawned);
    return Launched{*spawned, cgroups_.attach(spawned->cgroup)};
  }
  // Told of every environment spawned (e.g. to note its network address); any thread.
  using Observer =
      std::function<void(const sandbox::EnvironmentSpec&, const sandbox::SpawnResult&)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  sandbox::Spawner& spawner_;
  sandbox::CgroupBackend& cgroups_;
  Observer observer_;
};

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace lambent::scheduler

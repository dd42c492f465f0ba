#include "scheduler/scheduler.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"

namespace lambent::scheduler {
namespace asio = boost::asio;

Scheduler::Scheduler(asio::io_context& ioc, asio::thread_pool& pool, Launcher* launcher,
                     telemetry::LogStore& logs, std::filesystem::path runtimes_dir,
                     SchedulerOptions options, std::string unavailable, const Clock* clock)
    : ioc_(ioc),
      pool_(pool),
      launcher_(launcher),
      clock_(clock ? clock : &steady_),
      logs_(logs),
      runtimes_dir_(std::move(runtimes_dir)),
      options_(options),
      unavailable_(std::move(unavailable)) {}

void Scheduler::start() {
  reaper_ = std::make_unique<asio::steady_timer>(ioc_);
  asio::co_spawn(ioc_, reap_loop(), asio::detached);
}

void Scheduler::stop() {
  stopping_ = true;
  provisioned_.clear();
  if (reaper_) reaper_->cancel();
  for (auto& [id, env] : live_) env->kill("server stopping");
  pools_.clear();
}

void Scheduler::forget_dead() {
  for (auto it = live_.begin(); it != live_.end();) {
    if (it->second->dead()) {
      memory_in_use_mb_ -= it->second->info().memory_mb;
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = pools_.begin(); it != pools_.end();) {
    auto& idle = it->second.idle;
    std::erase_if(idle, [](const auto& e) { return !e->reusable(); });
    it = idle.empty() ? pools_.erase(it) : std::next(it);
  }
}

bool Scheduler::make_room(int64_t memory_mb) {
  forget_dead();
  while (memory_in_use_mb_ + memory_mb > options_.memory_budget_mb) {
    // Evict the least recently used idle environment of any function.
    std::shared_ptr<Environment> victim;
    for (auto& [fp, pool] : pools_) {
      for (auto& e : pool.idle) {
        if (e->provisioned()) continue;
        if (!victim || e->last_used() < victim->last_used()) victim = e;
      }
    }
    if (!victim) return false;
    victim->kill("evicted for memory");
    forget_dead();
  }
  return true;
}

std::shared_ptr<Environment> Scheduler::take_idle(const std::string& fingerprint) {
  auto it = pools_.find(fingerprint);
  if (it == pools_.end()) return nullptr;
  auto& idle = it->second.idle;
  // One past its lifetime (a long keep-alive) is ended rather than handed out; a provisioned
  // one is then replaced.
  bool ended = false, ended_provisioned = false;
  auto usable = [&](const std::shared_ptr<Environment>& e) {
    if (!e->reusable()) return false;
    if (Environment::Clock::now() - e->spawn_started() <= options_.max_lifetime) return true;
    ended = true;
    ended_provisioned = ended_provisioned || e->provisioned();
    e->kill("lifetime reached");
    return false;
  };
  std::shared_ptr<Environment> found;
  // Provisioned environments first (the pool is small: a linear scan from the most recent).
  for (size_t i = idle.size(); i-- > 0 && !found;) {
    if (idle[i]->provisioned() && usable(idle[i])) {
      found = std::move(idle[i]);
      idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  while (!found && !idle.empty()) {
    auto env = std::move(idle.back());
    idle.pop_back();
    if (usable(env)) found = std::move(env);
  }
  if (ended) forget_dead();  // their memory goes back to the budget
  if (ended_provisioned) maintain_provisioned();
  return found;
}

asio::awaitable<Result<std::shared_ptr<Environment>>> Scheduler::acquire(const VersionSpec& spec) {
  if (auto env = take_idle(spec.info.fingerprint)) co_return env;
  auto spawned = co_await spawn(spec, false);
  co_return spawned;
}

asio::awaitable<Result<std::shared_ptr<Environment>>> Scheduler::spawn(const VersionSpec& spec,
                                                                       bool provisioned) {
  if (stopping_) co_return make_error(Errc::kConflict, "the server is stopping");
  if (!launcher_) {
    co_return make_error(Errc::kInternal,
                         "this server cannot run functions: " + unavailable_);
  }
  if (!make_room(spec.info.memory_mb)) {
    co_return make_error(Errc::kConflict, "the node's memory budget is exhausted");
  }
  std::string id = hex_encode(random_bytes(8));
  uint32_t uid = options_.uid_base + static_cast<uint32_t>(spawned_++ % options_.uid_count);
  auto env = std::make_shared<Environment>(ioc_, pool_, spec.info, logs_, id);
  env->set_provisioned(provisioned);
  live_[id] = env;
  memory_in_use_mb_ += spec.info.memory_mb;
  auto started = Environment::Clock::now();  // Init time is real time, whatever `clock_` says

  sandbox::EnvironmentSpec es;
  es.id = id;
  es.code_dir = spec.code_dir;
  es.runtime_dir = spec.launch.runtime_subdir.empty()
                       ? ""
                       : (runtimes_dir_ / spec.launch.runtime_subdir).string();
  es.argv = spec.launch.argv;
  es.opt_dir = spec.opt_dir;
  es.env = spec.env;
  es.env.push_back("AWS_LAMBDA_LOG_STREAM_NAME=" + env->log_stream());
  es.env.push_back(std::string("AWS_LAMBDA_INITIALIZATION_TYPE=") +
                   (provisioned ? "provisioned-concurrency" : "on-demand"));
  es.tmp_mb = spec.tmp_mb;
  es.uid = uid;
  es.memory_mb = spec.info.memory_mb;
  es.egress_mode = spec.egress_mode;
  es.egress_allow = spec.egress_allow;
  es.egress_deny = spec.egress_deny;
  int64_t memory = spec.info.memory_mb;
  // Named, not a temporary: GCC 12 destroys lambda temporaries in a co_await twice.
  auto do_spawn = [this, es, id]() -> Result<Launcher::Launched> {
    auto t0 = std::chrono::steady_clock::now();
    auto out = launcher_->launch(es);
    log::debug("environment {}: spawned in {:.2f} ms", id,
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                   .count());
    return out;
  };
  auto launched = co_await offload(pool_, std::move(do_spawn));
  if (!launched) {
    live_.erase(id);
    memory_in_use_mb_ -= memory;
    log::error("spawning an environment for {} failed: {}", spec.info.function_name,
               launched.error().message);
    co_return launched.error();
  }
  if (auto r = env->adopt(launched->spawned, std::move(launched->cgroup), started); !r) {
    co_return r.error();
  }
  co_return env;
}

void Scheduler::release(std::shared_ptr<Environment> env) {
  bool outdated = false;
  if (auto it = current_.find(env->info().function_name); it != current_.end()) {
    outdated = !it->second.count(env->info().fingerprint);
  }
  const bool expired = Environment::Clock::now() - env->spawn_started() > options_.max_lifetime;
  if (!env->reusable() || stopping_ || outdated || expired) {
    if (!env->dead()) env->kill(expired ? "lifetime reached" : "not reusable");
    forget_dead();
    // A provisioned environment that died is replaced now, not at the next maintenance tick.
    if (env->provisioned() && !stopping_) maintain_provisioned();
    return;
  }
  auto& pool = pools_[env->info().fingerprint];
  pool.idle.push_back(env);
  // Freeze shortly after the runtime parks in /next, so an idle environment uses no CPU; one
  // that was used again in the meantime is left alone (freezing costs a cgroup write each way).
  env->schedule_freeze(options_.freeze_after);
}

void Scheduler::retire(const std::string& function, const std::set<std::string>& keep) {
  current_[function] = keep;  // empty when deleted: no environment of it is current
  for (auto& [fp, pool] : pools_) {
    if (keep.count(fp)) continue;
    for (auto& e : pool.idle) {
      if (e->info().function_name == function) e->kill("function changed");
    }
  }
  forget_dead();
}

asio::awaitable<void> Scheduler::reap_loop() {
  while (!stopping_) {
    reaper_->expires_after(std::chrono::seconds(1));
    auto [ec] = co_await reaper_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_) break;
    reap();
  }
}

void Scheduler::reap() {
  auto now = clock_->now();
  for (auto& [fp, pool] : pools_) {
    for (auto& e : pool.idle) {
      if (!e->provisioned() && now - e->last_used() > options_.keep_alive) {
        e->kill("idle past keep-alive");
      }
    }
  }
  forget_dead();
  maintain_provisioned();
}

void Scheduler::publish_status(const ProvisionKey& key) {
  std::lock_guard lock(status_mu_);
  auto it = provisioned_.find(key);
  if (it == provisioned_.end()) {
    status_.erase(key);
    return;
  }
  const ProvisionedSet& set = it->second;
  ProvisionedStatus st;
  for (const auto& e : set.envs) {
    if (e->dead()) continue;
    ++st.allocated;
    if (e->initialized()) ++st.available;
  }
  st.available = std::min(st.available, set.target);
  st.allocated = std::min(st.allocated, set.target);
  if (!set.failed.empty()) {
    st.status = "FAILED";
    st.reason = set.failed;
  } else if (st.available >= set.target) {
    st.status = "READY";
  }
  status_[key] = st;
}

ProvisionedStatus Scheduler::provisioned_status(const std::string& function,
                                                const std::string& qualifier) const {
  std::lock_guard lock(status_mu_);
  ProvisionedStatus out;
  bool any = false;
  bool all_ready = true;
  for (auto it = status_.lower_bound(ProvisionKey{function, qualifier, ""});
       it != status_.end() && it->first.function == function && it->first.qualifier == qualifier;
       ++it) {
    const ProvisionedStatus& st = it->second;
    any = true;
    all_ready = all_ready && st.status == "READY";
    out.allocated += st.allocated;
    out.available += st.available;
    if (st.status == "FAILED" && out.status != "FAILED") {
      out.status = "FAILED";
      out.reason = st.reason;
    }
  }
  if (out.status != "FAILED" && any && all_ready) out.status = "READY";
  return out;
}

std::vector<ProvisionKey> Scheduler::provisioned_keys(const std::string& function) const {
  std::vector<ProvisionKey> out;
  for (auto it = provisioned_.lower_bound(ProvisionKey{function, "", ""});
       it != provisioned_.end() && it->first.function == function; ++it) {
    out.push_back(it->first);
  }
  return out;
}

void Scheduler::provision(const ProvisionKey& key, VersionSpec spec, int64_t count) {
  if (stopping_) return;
  auto it = provisioned_.find(key);
  if (it != provisioned_.end() && it->second.spec.info.fingerprint == spec.info.fingerprint &&
      it->second.failed.empty()) {
    ProvisionedSet& set = it->second;
    set.target = count;
    // Fewer wanted: let the surplus go (idle ones die now, busy ones after their invocation).
    std::erase_if(set.envs, [](const auto& e) { return e->dead(); });
    while (static_cast<int64_t>(set.envs.size()) > count) {
      auto e = set.envs.back();
      set.envs.pop_back();
      e->set_provisioned(false);
      if (e->reusable()) e->kill("provisioned concurrency lowered");
    }
  } else {
    if (it != provisioned_.end()) unprovision(key);
    ProvisionedSet set;
    set.spec = std::move(spec);
    set.target = count;
    set.generation = ++provision_generation_;
    provisioned_[key] = std::move(set);
  }
  publish_status(key);
  maintain_provisioned();
}

void Scheduler::unprovision(const ProvisionKey& key) {
  auto it = provisioned_.find(key);
  if (it == provisioned_.end()) return;
  for (auto& e : it->second.envs) {
    e->set_provisioned(false);
    if (e->reusable()) e->kill("provisioned concurrency removed");
  }
  provisioned_.erase(it);
  forget_dead();
  publish_status(key);
}

void Scheduler::maintain_provisioned() {
  for (auto& [key, set] : provisioned_) {
    size_t before = set.envs.size();
    std::erase_if(set.envs, [](const auto& e) { return e->dead(); });
    if (set.envs.size() != before) publish_status(key);
    if (!set.filling && set.failed.empty() && static_cast<int64_t>(set.envs.size()) < set.target) {
      set.filling = true;
      asio::co_spawn(ioc_, fill(key, set.generation), asio::detached);
    }
  }
}

asio::awaitable<void> Scheduler::fill(ProvisionKey key, uint64_t generation) {
  for (;;) {
    auto it = provisioned_.find(key);
    if (it == provisioned_.end() || it->second.generation != generation || stopping_) co_return;
    if (static_cast<int64_t>(it->second.envs.size()) >= it->second.target) {
      it->second.filling = false;
      co_return;
    }
    VersionSpec spec = it->second.spec;
    auto spawned = co_await spawn(spec, true);
    it = provisioned_.find(key);
    if (it == provisioned_.end() || it->second.generation != generation) {
      if (spawned) (*spawned)->kill("provisioned concurrency removed");
      forget_dead();
      co_return;
    }
    if (!spawned) {
      it->second.failed = spawned.error().code == Errc::kConflict
                              ? "FUNCTION_ERROR_INSUFFICIENT_CAPACITY: " + spawned.error().message
                              : "INTERNAL_ERROR: " + spawned.error().message;
      it->second.filling = false;
      publish_status(key);
      co_return;
    }
    std::shared_ptr<Environment> env = *spawned;
    it->second.envs.push_back(env);
    publish_status(key);
    std::string failed = co_await env->initialize(Environment::kInitLimit);
    it = provisioned_.find(key);
    if (it == provisioned_.end() || it->second.generation != generation) {
      env->kill("provisioned concurrency removed");
      forget_dead();
      co_return;
    }
    if (!failed.empty()) {
      it->second.failed = failed;
      it->second.filling = false;
      forget_dead();
      std::erase_if(it->second.envs, [](const auto& e) { return e->dead(); });
      publish_status(key);
      co_return;
    }
    publish_status(key);
    release(env);  // into the idle pool of its version, where invocations find it first
  }
}

}  // namespace lambent::scheduler

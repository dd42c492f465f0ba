#include "invoke/invoker.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <random>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "base/offload.h"

namespace lambent::invoke {

std::string new_trace_id() {
  return fmt::format("Root=1-{:08x}-{};Parent={};Sampled=0", now_ms() / 1000,
                     hex_encode(id_bytes(12)), hex_encode(id_bytes(8)));
}
namespace asio = boost::asio;

Invoker::Invoker(asio::io_context& ioc, asio::thread_pool& pool, store::Store& store,
                 blob::CodeStore& code, scheduler::Scheduler& scheduler,
                 const runtime::Catalogue& catalogue, NodeIdentity node,
                 int64_t concurrency_limit, telemetry::Metrics* metrics)
    : ioc_(ioc),
      pool_(pool),
      store_(store),
      scheduler_(scheduler),
      contract_(pool, code, catalogue, std::move(node)),
      admission_(concurrency_limit, metrics),
      provisioning_(ioc, scheduler, contract_),
      metrics_(metrics) {}

Result<void> Invoker::restore() {
  LAMBENT_TRY(reserved, store_.reserved_concurrency());
  for (const auto& [name, n] : reserved) admission_.set_reserved(name, n);
  // Provisioned concurrency is node state: start it again for every configuration.
  std::string after;
  for (;;) {
    LAMBENT_TRY(batch, store_.list_functions(after, 100));
    for (auto& f : batch) {
      after = f.name;
      if (!f.provisioned.empty()) {
        std::string name = f.name;  // not f.name: the argument below moves from f
        function_changed(name, std::make_shared<const store::Function>(std::move(f)));
      }
    }
    if (batch.size() < 100) break;
  }
  return {};
}

void Invoker::function_changed(const std::string& name,
                               std::shared_ptr<const store::Function> now) {
  asio::post(ioc_, [this, name, now = std::move(now)]() mutable { apply_change(name, std::move(now)); });
}

void Invoker::apply_change(const std::string& name, std::shared_ptr<const store::Function> now) {
  ++generation_[name];
  cache_.erase(name);
  std::set<std::string> keep;
  if (now) {
    keep.insert(EnvironmentContract::fingerprint(*now, now->latest));
    for (const auto& v : now->versions) {
      keep.insert(EnvironmentContract::fingerprint(*now, v));
      keep.insert(EnvironmentContract::fingerprint(*now, v, kEdgeReplica));  // Lambda@Edge
    }
    cache_[name] = now;
  }
  scheduler_.retire(name, keep);
  admission_.set_reserved(name, now ? now->reserved_concurrency : std::nullopt);
  provisioning_.reconcile(name, now);
}

asio::awaitable<Result<Resolved>> Invoker::resolve(const std::string& name,
                                                   const std::optional<std::string>& qualifier) {
  std::shared_ptr<const store::Function> f;
  if (auto it = cache_.find(name); it != cache_.end()) {
    f = it->second;
  } else {
    uint64_t gen = generation_[name];
    // Named, not a temporary: GCC 12 destroys lambda temporaries in a co_await twice.
    auto load = [this, name] { return store_.get_function(name); };
    auto loaded = co_await offload(pool_, std::move(load));
    if (!loaded) co_return loaded.error();
    f = std::make_shared<const store::Function>(std::move(*loaded));
    if (generation_[name] == gen) cache_[name] = f;
  }
  Resolved r;
  r.function = f;
  if (!qualifier || *qualifier == store::kLatest) {
    r.version = &f->latest;
  } else if (const store::FunctionVersion* v = f->find_version(*qualifier)) {
    r.version = v;
  } else if (const store::Alias* a = f->find_alias(*qualifier)) {
    r.alias = a;
    std::string version = a->function_version;
    if (!a->additional_weights.empty()) {
      // Weighted routing: each invocation independently, as AWS does.
      thread_local std::mt19937_64 rng{std::random_device{}()};
      double x = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      const auto& [extra, weight] = *a->additional_weights.begin();
      if (x < weight) version = extra;
    }
    r.version = f->find_version(version);
    if (!r.version) co_return make_error(Errc::kNotFound, "alias points at a missing version");
  } else {
    co_return make_error(Errc::kNotFound, "no such version or alias");
  }
  co_return r;
}

asio::awaitable<InvokeResult> Invoker::invoke(const Resolved& target, InvokeInput input) {
  const std::string name = target.function->name;
  const std::string resource = input.qualifier.empty() ? "" : name + ":" + input.qualifier;
  const std::string qualifier = input.qualifier;
  bool unreserved = false;
  if (const char* reason = admission_.admit(name, unreserved)) {
    if (metrics_) metrics_->throttle(name, resource);
    InvokeResult throttled;
    throttled.status = InvokeResult::kThrottled;
    throttled.reason = reason;
    throttled.message = "Rate Exceeded.";
    co_return throttled;
  }
  // Whatever happens, the execution leaves the count (no co_await inside a catch handler).
  InvokeResult result;
  std::exception_ptr failure;
  try {
    result = co_await run(target, std::move(input));
  } catch (...) {
    failure = std::current_exception();
  }
  admission_.leave(name, unreserved);
  if (metrics_ && !failure) {
    if (result.status == InvokeResult::kOk) {
      const auto& out = result.outcome;
      metrics_->invocation(name, resource, out.executed_version, out.duration_ms,
                           out.kind != scheduler::Outcome::kSuccess);
      if (out.provisioned && !qualifier.empty()) {
        int64_t allocated = provisioned_status(name, qualifier).allocated;
        metrics_->provisioned_utilization(name, resource, provisioned_busy_[resource] + 1,
                                          allocated);
      }
    } else if (result.status == InvokeResult::kThrottled) {
      metrics_->throttle(name, resource);
    }
  }
  if (failure) std::rethrow_exception(failure);
  co_return result;
}

asio::awaitable<InvokeResult> Invoker::run(const Resolved& target, InvokeInput input) {
  const store::Function& f = *target.function;
  const store::FunctionVersion& v = *target.version;
  const store::FunctionConfig& c = v.config;
  InvokeResult result;
  runtime::Invocation inv;
  inv.request_id = input.request_id;
  inv.payload = std::move(input.payload);
  inv.invoked_function_arn = input.invoked_function_arn;
  inv.trace_id = input.trace_id;
  inv.client_context = input.client_context;

  // Fast path: a warm environment of this exact version needs nothing prepared.
  if (auto warm = scheduler_.take_idle(EnvironmentContract::fingerprint(f, v, input.replica))) {
    result.outcome = co_await warm->invoke(inv, scheduler::Environment::kInitLimit, input.stream);
    scheduler_.release(std::move(warm));
    co_return result;
  }
  auto built = co_await contract_.build(f, v, result, input.replica);
  if (!built) co_return result;
  scheduler::VersionSpec spec = std::move(*built);

  // At most two attempts: an Init that exceeds 10 s is retried once in a fresh environment,
  // bounded by the function's timeout (AWS's "suppressed init").
  scheduler::Environment::Clock::duration init_limit = scheduler::Environment::kInitLimit;
  for (int attempt = 0;; ++attempt) {
    auto leased = co_await scheduler_.acquire(spec);
    if (!leased) {
      bool throttled = leased.error().code == Errc::kConflict;
      result.status = throttled ? InvokeResult::kThrottled : InvokeResult::kServiceError;
      result.message = leased.error().message;
      if (throttled) result.reason = "ConcurrentInvocationLimitExceeded";
      co_return result;
    }
    std::shared_ptr<scheduler::Environment> environment = *leased;
    scheduler::Outcome out = co_await environment->invoke(inv, init_limit, input.stream);
    scheduler_.release(std::move(environment));
    if (out.kind == scheduler::Outcome::kSandboxError) {
      result.status = InvokeResult::kServiceError;
      result.message = out.payload;
      co_return result;
    }
    if (out.kind == scheduler::Outcome::kInitTimeout && attempt == 0) {
      init_limit = std::chrono::seconds(c.timeout);
      continue;
    }
    if (out.kind == scheduler::Outcome::kInitTimeout) {
      out.kind = scheduler::Outcome::kTimeout;
      std::string msg = fmt::format("{} {} Task timed out after {:.2f} seconds",
                                    scheduler::iso8601_ms(now_ms()), inv.request_id,
                                    static_cast<double>(c.timeout));
      out.payload = boost::json::serialize(
          boost::json::object{{"errorMessage", msg}, {"errorType", "Sandbox.Timedout"}});
    }
    result.outcome = std::move(out);
    co_return result;
  }
}

}  // namespace lambent::invoke

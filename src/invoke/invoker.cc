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
      code_(code),
      scheduler_(scheduler),
      catalogue_(catalogue),
      node_(std::move(node)),
      limit_(concurrency_limit),
      metrics_(metrics) {}

Result<void> Invoker::restore() {
  LAMBENT_TRY(reserved, store_.reserved_concurrency());
  for (const auto& [name, n] : reserved) {
    reserved_[name] = n;
    reserved_total_ += n;
  }
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

std::string Invoker::fingerprint(const store::Function& f, const store::FunctionVersion& v) const {
  // A version's revision changes with every change of its code or configuration.
  return f.name + ":" + v.version + ":" + v.revision_id;
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
    keep.insert(fingerprint(*now, now->latest));
    for (const auto& v : now->versions) keep.insert(fingerprint(*now, v));
    cache_[name] = CacheEntry{now};
  }
  scheduler_.retire(name, keep);
  if (auto it = reserved_.find(name); it != reserved_.end()) {
    reserved_total_ -= it->second;
    reserved_.erase(it);
  }
  if (now && now->reserved_concurrency) {
    reserved_[name] = *now->reserved_concurrency;
    reserved_total_ += *now->reserved_concurrency;
  }
  reconcile_provisioned(name, now);
}

void Invoker::reconcile_provisioned(const std::string& name,
                                    const std::shared_ptr<const store::Function>& now) {
  std::set<std::string> wanted;
  if (now) {
    for (const auto& p : now->provisioned) {
      // Per configuration, one set of environments per version it covers: an alias with
      // weighted routing splits its environments between its two versions by weight, as AWS
      // does ("<name>:<alias>" for the primary, "<name>:<alias>#<version>" for the other).
      std::vector<std::pair<std::string, int64_t>> parts;  // version, count
      if (const store::Alias* a = now->find_alias(p.qualifier)) {
        int64_t extra_count = 0;
        if (!a->additional_weights.empty()) {
          const auto& [extra, weight] = *a->additional_weights.begin();
          extra_count = std::llround(static_cast<double>(p.requested) * weight);
          if (extra_count > 0) parts.emplace_back(extra, extra_count);
        }
        parts.emplace(parts.begin(), a->function_version, p.requested - extra_count);
      } else {
        parts.emplace_back(p.qualifier, p.requested);
      }
      for (size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].second <= 0) continue;
        std::string key = name + ":" + p.qualifier + (i == 0 ? "" : "#" + parts[i].first);
        wanted.insert(key);
        asio::co_spawn(ioc_,
                       provision(name, key, parts[i].first, now, parts[i].second, generation_[name]),
                       asio::detached);
      }
    }
  }
  for (const auto& key : scheduler_.provisioned_keys(name)) {
    if (!wanted.count(key)) scheduler_.unprovision(key);
  }
}

asio::awaitable<void> Invoker::provision(std::string name, std::string key, std::string version,
                                         std::shared_ptr<const store::Function> f, int64_t count,
                                         uint64_t generation) {
  const store::FunctionVersion* v = f->find_version(version);
  if (!v) co_return;
  log::debug("provisioned concurrency {}: {} environment(s) of version {}", key, count, version);
  InvokeResult failure;
  auto spec = co_await build_spec(*f, *v, failure);
  if (generation_[name] != generation) co_return;  // a newer change reconciles instead
  if (!spec) {
    log::warn("provisioned concurrency {} cannot start: {}", key,
              failure.message.empty() ? failure.outcome.payload : failure.message);
    co_return;
  }
  scheduler_.provision(key, std::move(*spec), count);
}

ProvisionedStatus Invoker::provisioned_status(const std::string& name,
                                              const std::string& qualifier) const {
  ProvisionedStatus out;
  auto parts = scheduler_.provisioned_statuses(name + ":" + qualifier);
  bool all_ready = !parts.empty();
  for (const auto& st : parts) {
    out.allocated += st.allocated;
    out.available += st.available;
    all_ready = all_ready && st.status == "READY";
    if (st.status == "FAILED" && out.status != "FAILED") {
      out.status = "FAILED";
      out.reason = st.reason;
    }
  }
  if (out.status != "FAILED" && all_ready) out.status = "READY";
  return out;
}

std::map<std::string, uint64_t> Invoker::throttle_counts() const {
  std::lock_guard lock(throttles_mu_);
  return throttles_;
}

const char* Invoker::admit(const std::string& name, bool& unreserved) {
  int64_t& inflight = inflight_[name];
  if (auto it = reserved_.find(name); it != reserved_.end()) {
    if (inflight >= it->second) return "ReservedFunctionConcurrentInvocationLimitExceeded";
    unreserved = false;
  } else {
    if (inflight_unreserved_ >= limit_ - reserved_total_) return "ConcurrentInvocationLimitExceeded";
    unreserved = true;
    ++inflight_unreserved_;
  }
  ++inflight;
  ++inflight_total_;
  if (metrics_) metrics_->concurrency(name, inflight, inflight_total_, inflight_unreserved_);
  return "";
}

void Invoker::leave(const std::string& name, bool unreserved) {
  int64_t now_inflight = 0;
  if (auto it = inflight_.find(name); it != inflight_.end()) {
    now_inflight = --it->second;
    if (now_inflight <= 0) inflight_.erase(it);
  }
  if (unreserved) --inflight_unreserved_;
  --inflight_total_;
  if (metrics_) {
    metrics_->concurrency(name, std::max<int64_t>(now_inflight, 0), inflight_total_,
                          inflight_unreserved_);
  }
}

asio::awaitable<Result<Resolved>> Invoker::resolve(const std::string& name,
                                                   const std::optional<std::string>& qualifier) {
  std::shared_ptr<const store::Function> f;
  if (auto it = cache_.find(name); it != cache_.end()) {
    f = it->second.function;
  } else {
    uint64_t gen = generation_[name];
    // Named, not a temporary: GCC 12 destroys lambda temporaries in a co_await twice.
    auto load = [this, name] { return store_.get_function(name); };
    auto loaded = co_await offload(pool_, std::move(load));
    if (!loaded) co_return loaded.error();
    f = std::make_shared<const store::Function>(std::move(*loaded));
    if (generation_[name] == gen) cache_[name] = CacheEntry{f};
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
  if (const char* reason = admit(name, unreserved); *reason) {
    if (metrics_) metrics_->throttle(name, resource);
    std::lock_guard lock(throttles_mu_);
    ++throttles_[name];
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
  leave(name, unreserved);
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

asio::awaitable<std::optional<scheduler::VersionSpec>> Invoker::build_spec(
    const store::Function& f, const store::FunctionVersion& v, InvokeResult& result) {
  const store::FunctionConfig& c = v.config;
  // The code, extracted on the tmpfs (re-extracted from the sealed blob after a reboot).
  std::string digest = v.code.digest_hex;
  Result<std::filesystem::path> code_dir = make_error(Errc::kNotFound, "not extracted");
  if (auto present = code_.extracted_if_present(digest)) {
    code_dir = *present;
  } else {
    auto extract = [this, digest] { return code_.extracted(digest); };  // named: see resolve()
    code_dir = co_await offload(pool_, std::move(extract));
  }
  if (!code_dir) {
    result.status = InvokeResult::kServiceError;
    result.message = "function code is unavailable: " + code_dir.error().message;
    co_return std::nullopt;
  }
  scheduler::VersionSpec spec;
  if (!c.layers.empty()) {
    std::vector<std::string> digests;
    for (const auto& l : c.layers) digests.push_back(l.digest_hex);
    auto merge = [this, digests] { return code_.merged_layers(digests); };  // named: see resolve()
    auto opt = co_await offload(pool_, std::move(merge));
    if (!opt) {
      result.status = InvokeResult::kServiceError;
      result.message = "function layers are unavailable: " + opt.error().message;
      co_return std::nullopt;
    }
    spec.opt_dir = opt->string();
  }
  runtime::LaunchError launch_error;
  if (!catalogue_.launch(c.runtime, *code_dir, &spec.launch, &launch_error)) {
    if (!launch_error.is_function_error) {
      result.status = InvokeResult::kInvalidRuntime;
      result.message = launch_error.message;
      co_return std::nullopt;
    }
    // A broken package (no bootstrap): the invocation fails as a function error, as on AWS.
    result.outcome.kind = scheduler::Outcome::kFunctionError;
    result.outcome.executed_version = v.version;
    result.outcome.payload = boost::json::serialize(boost::json::object{
        {"errorMessage", launch_error.message}, {"errorType", launch_error.error_type}});
    co_return std::nullopt;
  }
  std::string log_group = c.log_group.empty() ? "/aws/lambda/" + f.name : c.log_group;
  spec.info = {f.name, v.version, log_group, c.memory_size, c.timeout, fingerprint(f, v)};
  spec.info.json_logs = c.log_format == "JSON";
  if (!c.system_log_level.empty()) spec.info.system_log_level = c.system_log_level;
  spec.code_dir = code_dir->string();
  spec.tmp_mb = c.ephemeral_storage;

  // Environment variables, lowest precedence first (compat §3.1): unreserved platform defaults,
  // then the runtime's own, then the user's, then the reserved ones nobody may override.
  std::map<std::string, std::string> env = {
      {"LANG", "en_US.UTF-8"},
      {"TZ", ":UTC"},
      {"PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
      {"LD_LIBRARY_PATH",
       "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"},
  };
  for (const auto& kv : spec.launch.env) {
    auto eq = kv.find('=');
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (c.log_format == "JSON") {
    env["AWS_LAMBDA_LOG_FORMAT"] = "JSON";
    env["AWS_LAMBDA_LOG_LEVEL"] = c.application_log_level.empty() ? "INFO" : c.application_log_level;
  }
  if (c.environment) {
    for (const auto& [k, val] : *c.environment) env[k] = val;
  }
  env["_HANDLER"] = c.handler;
  env["AWS_REGION"] = node_.region;
  env["AWS_DEFAULT_REGION"] = node_.region;
  if (spec.launch.sets_execution_env) env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + c.runtime;
  env["AWS_LAMBDA_FUNCTION_NAME"] = f.name;
  env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(c.memory_size);
  env["AWS_LAMBDA_FUNCTION_VERSION"] = v.version;
  env["AWS_LAMBDA_LOG_GROUP_NAME"] = log_group;
  env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001";
  env["LAMBDA_TASK_ROOT"] = "/var/task";
  env["LAMBDA_RUNTIME_DIR"] = "/var/runtime";


  spec.env.reserve(env.size());
  for (const auto& [k, val] : env) spec.env.push_back(k + "=" + val);
  co_return spec;
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
  if (auto warm = scheduler_.take_idle(fingerprint(f, v))) {
    result.outcome = co_await warm->invoke(inv, scheduler::Environment::kInitLimit);
    scheduler_.release(std::move(warm));
    co_return result;
  }
  auto built = co_await build_spec(f, v, result);
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
    scheduler::Outcome out = co_await environment->invoke(inv, init_limit);
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

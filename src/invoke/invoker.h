// The invoke path: resolves a function and qualifier to a version (through a cache that the
// control plane invalidates), builds the environment an invocation needs (runtime launch, the
// environment variables of compat §3.1), takes an environment from the scheduler, runs the
// invocation (retrying Init once on an Init timeout, as AWS does) and hands back the outcome.
// Thread: the io_context thread (store reads hop to the worker pool).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/node.h"
#include "blob/code_store.h"
#include "runtime/catalogue.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "telemetry/metrics.h"

namespace lambent::invoke {

struct Resolved {
  std::shared_ptr<const store::Function> function;
  // Points into *function. For an alias with weighted routing, the version this invocation
  // was routed to (chosen by weight).
  const store::FunctionVersion* version = nullptr;
  const store::Alias* alias = nullptr;  // when the qualifier named an alias
};

struct ProvisionedStatus {
  int64_t allocated = 0;
  int64_t available = 0;
  std::string status = "IN_PROGRESS";
  std::string reason;
};

struct InvokeInput {
  std::string request_id;
  std::string payload;
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;  // decoded JSON
  std::string qualifier;       // as the caller gave it ("" = unqualified), for metrics
};

struct InvokeResult {
  enum Status { kOk, kThrottled, kInvalidRuntime, kServiceError } status = kOk;
  std::string message;  // for the error statuses
  std::string reason;   // kThrottled: the TooManyRequestsException Reason
  scheduler::Outcome outcome;
};

// A new X-Ray trace header: Root=1-<epoch hex>-<96 bits hex>;Parent=<64 bits hex>;Sampled=0.
std::string new_trace_id();

class Invoker final {
 public:
  Invoker(boost::asio::io_context& ioc, boost::asio::thread_pool& pool, store::Store& store,
          blob::CodeStore& code, scheduler::Scheduler& scheduler,
          const runtime::Catalogue& catalogue, NodeIdentity node, int64_t concurrency_limit,
          telemetry::Metrics* metrics = nullptr);

  // Before serving: the functions' reservations, and their provisioned concurrency started.
  Result<void> restore();

  // kNotFound when the function or qualifier does not exist.
  boost::asio::awaitable<Result<Resolved>> resolve(const std::string& name,
                                                   const std::optional<std::string>& qualifier);
  boost::asio::awaitable<InvokeResult> invoke(const Resolved& target, InvokeInput input);

  // Called by the control plane (any thread) after a function changed or (nullptr) was deleted.
  void function_changed(const std::string& name, std::shared_ptr<const store::Function> now);

  // Any thread: the state of a provisioned concurrency configuration.
  ProvisionedStatus provisioned_status(const std::string& name, const std::string& qualifier) const;
  // Any thread: invocations refused for concurrency, per function (for metrics).
  std::map<std::string, uint64_t> throttle_counts() const;

 private:
  // Everything an environment of this version needs; kServiceError/kInvalidRuntime/function
  // error outcomes are reported through `result`.
  boost::asio::awaitable<std::optional<scheduler::VersionSpec>> build_spec(
      const store::Function& f, const store::FunctionVersion& v, InvokeResult& result);
  boost::asio::awaitable<InvokeResult> run(const Resolved& target, InvokeInput input);
  boost::asio::awaitable<void> provision(std::string name, std::string key, std::string version,
                                         std::shared_ptr<const store::Function> f,
                                         int64_t count, uint64_t generation);
  void reconcile_provisioned(const std::string& name, const std::shared_ptr<const store::Function>& now);
  // Concurrency admission: "" when admitted, else the throttle Reason.
  const char* admit(const std::string& name, bool& unreserved);
  void leave(const std::string& name, bool unreserved);

  struct CacheEntry {
    std::shared_ptr<const store::Function> function;
  };
  std::string fingerprint(const store::Function& f, const store::FunctionVersion& v) const;
  void apply_change(const std::string& name, std::shared_ptr<const store::Function> now);

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  store::Store& store_;
  blob::CodeStore& code_;
  scheduler::Scheduler& scheduler_;
  const runtime::Catalogue& catalogue_;
  NodeIdentity node_;
  std::map<std::string, CacheEntry> cache_;
  std::map<std::string, uint64_t> generation_;  // bumped on every change, guards cache fills
  // Concurrency (compat §1.10): executions in flight per function, and of functions without a
  // reservation (they share what the reservations leave of the account limit).
  int64_t limit_;
  std::map<std::string, int64_t> reserved_;
  int64_t reserved_total_ = 0;
  std::map<std::string, int64_t> inflight_;
  int64_t inflight_unreserved_ = 0;
  int64_t inflight_total_ = 0;
  std::map<std::string, int64_t> provisioned_busy_;  // by "<function>:<qualifier>"
  telemetry::Metrics* metrics_;
  mutable std::mutex throttles_mu_;
  std::map<std::string, uint64_t> throttles_;
};

}  // namespace lambent::invoke

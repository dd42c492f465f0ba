// The invoke path: resolves a function and qualifier to a version (through a cache that the
// control plane invalidates), admits the execution (admission.h), takes a warm environment or
// has one built (the environment contract, contract.h), runs the invocation (retrying Init once on
// an Init timeout, as AWS does) and hands back the outcome. Control-plane changes retire stale
// environments and reconcile provisioned concurrency (provisioning.h).
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
#include "invoke/admission.h"
#include "invoke/contract.h"
#include "invoke/provisioning.h"
#include "invoke/result.h"
#include "runtime/catalogue.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "telemetry/metrics.h"

namespace lambent::invoke {

// The region Lambda@Edge replicas are named after (InvokeInput::replica).
inline constexpr const char* kEdgeReplica = "us-east-1";

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

  // Environments get their execution role's credentials from `issue` (before serving).
  void set_credentials(IssueCredentials issue) { contract_.set_credentials(std::move(issue)); }
  void set_platform_endpoint(std::string address) {
    contract_.set_platform_endpoint(std::move(address));
  }

  // Called by the control plane (any thread) after a function changed or (nullptr) was deleted.
  void function_changed(const std::string& name, std::shared_ptr<const store::Function> now);

  // Any thread: the state of a provisioned concurrency configuration.
  scheduler::ProvisionedStatus provisioned_status(const std::string& name,
                                                  const std::string& qualifier) const {
    return scheduler_.provisioned_status(name, qualifier);
  }
  // Any thread: invocations refused for concurrency, per function (for metrics).
  std::map<std::string, uint64_t> throttle_counts() const { return admission_.throttle_counts(); }

 private:
  boost::asio::awaitable<InvokeResult> run(const Resolved& target, InvokeInput input);
  void apply_change(const std::string& name, std::shared_ptr<const store::Function> now);

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  store::Store& store_;
  scheduler::Scheduler& scheduler_;
  EnvironmentContract contract_;
  Admission admission_;
  Provisioning provisioning_;
  std::map<std::string, std::shared_ptr<const store::Function>> cache_;
  std::map<std::string, uint64_t> generation_;  // bumped on every change, guards cache fills
  std::map<std::string, int64_t> provisioned_busy_;  // by "<function>:<qualifier>"
  telemetry::Metrics* metrics_;
};

}  // namespace lambent::invoke

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
#include <optional>
#include <string>

#include "base/error.h"
#include "blob/code_store.h"
#include "runtime/catalogue.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace lambent::invoke {

struct Resolved {
  std::shared_ptr<const store::Function> function;
  const store::FunctionVersion* version = nullptr;  // points into *function
};

struct InvokeInput {
  std::string request_id;
  std::string payload;
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;  // decoded JSON
};

struct InvokeResult {
  enum Status { kOk, kThrottled, kInvalidRuntime, kServiceError } status = kOk;
  std::string message;  // for the error statuses
  scheduler::Outcome outcome;
};

struct NodeIdentity {
  std::string region;
  std::string account_id;
};

class Invoker final {
 public:
  Invoker(boost::asio::io_context& ioc, boost::asio::thread_pool& pool, store::Store& store,
          blob::CodeStore& code, scheduler::Scheduler& scheduler,
          const runtime::Catalogue& catalogue, NodeIdentity node);

  // kNotFound when the function or qualifier does not exist.
  boost::asio::awaitable<Result<Resolved>> resolve(const std::string& name,
                                                   const std::optional<std::string>& qualifier);
  boost::asio::awaitable<InvokeResult> invoke(const Resolved& target, InvokeInput input);

  // Called by the control plane (any thread) after a function changed or (nullptr) was deleted.
  void function_changed(const std::string& name, std::shared_ptr<const store::Function> now);

 private:
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
};

}  // namespace lambent::invoke

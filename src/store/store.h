// The metadata store interface. SqliteStore is the embedded default; a PostgreSQL implementation
// fills the same interface for clusters. Implementations are safe to call from any thread; every
// call is blocking and belongs on the worker pool (see base/offload.h).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "store/function.h"
#include "store/queue.h"

namespace lambent::store {

struct IdentityRecord {
  std::string kind;  // "user", "role", "policy", "access_key"
  std::string name;
  std::string doc;  // JSON (ignored in `remove`)
};

class Store {
 public:
  virtual ~Store() = default;

  // kAlreadyExists when a function of that name exists.
  virtual Result<void> create_function(const Function& f) = 0;
  // kNotFound when absent.
  virtual Result<Function> get_function(std::string_view name) = 0;
  // Functions ordered by name, strictly after `after`, at most `limit`.
  virtual Result<std::vector<Function>> list_functions(std::string_view after, size_t limit) = 0;
  // Read-modify-write in one transaction: `mutate` sees the current function and changes it, or
  // returns an error that aborts the transaction and is handed back. kNotFound, without calling
  // `mutate`, when the function does not exist. Published versions may only be appended (they
  // are immutable). Returns the function as stored.
  virtual Result<Function> update_function(std::string_view name,
                                           const std::function<Result<void>(Function&)>& mutate) = 0;
  // Removes the function with all its versions; returns what was removed.
  virtual Result<Function> delete_function(std::string_view name) = 0;
  // Removes one published version; returns it. kNotFound when absent. `check` sees the function
  // inside the transaction and may refuse (its error is handed back).
  virtual Result<FunctionVersion> delete_version(
      std::string_view name, std::string_view version,
      const std::function<Result<void>(const Function&)>& check) = 0;
  // Reserved concurrency of every function that has one.
  virtual Result<std::map<std::string, int64_t>> reserved_concurrency() = 0;
  // Code digests still needed: any function version's code and layers, and every layer version
  // that is not deleted.
  virtual Result<std::set<std::string>> referenced_code() = 0;

  // Asynchronous invocations, stored durably before they are acknowledged.
  virtual Result<void> enqueue_event(const AsyncEvent& e) = 0;
  // Events due at `now_ms`, oldest due first.
  virtual Result<std::vector<AsyncEvent>> due_events(int64_t now_ms, size_t limit) = 0;
  // Saves attempts, throttles and due time.
  virtual Result<void> update_event(const AsyncEvent& e) = 0;
  // Removes a finished event and, in the same transaction, stores its follow-up (a destination
  // invocation), so a crash neither loses nor duplicates the hand-over.
  virtual Result<void> finish_event(const std::string& id, const AsyncEvent* follow_up) = 0;
  virtual Result<int64_t> pending_events() = 0;

  // Layers. kNotFound when the layer (or, for the API, every version of it) is absent.
  virtual Result<Layer> get_layer(std::string_view name) = 0;
  // Layers ordered by name, strictly after `after`, at most `limit` (deleted versions included).
  virtual Result<std::vector<Layer>> list_layers(std::string_view after, size_t limit) = 0;
  // Read-modify-write of a layer in one transaction; an absent layer is created empty when
  // `create` (else kNotFound, without calling `mutate`). Versions may be added or marked deleted,
  // never removed.
  virtual Result<Layer> update_layer(std::string_view name,
                                     const std::function<Result<void>(Layer&)>& mutate,
                                     bool create) = 0;
  virtual Result<AccountUsage> account_usage() = 0;

  // IAM entities (users, roles, managed policies, access keys) as JSON documents by kind and
  // name; secrets inside are sealed by the caller. One transaction: `put` written (replacing),
  // `remove` (kind, name) deleted.
  virtual Result<void> write_identities(const std::vector<IdentityRecord>& put,
                                        const std::vector<IdentityRecord>& remove) = 0;
  virtual Result<std::vector<IdentityRecord>> identities() = 0;

  // Built-in queues. kAlreadyExists / kNotFound by name.
  virtual Result<void> create_queue(const QueueRecord& q) = 0;
  virtual Result<void> update_queue(const QueueRecord& q) = 0;
  // Removes the queue and its messages.
  virtual Result<void> delete_queue(std::string_view name) = 0;
  virtual Result<std::vector<QueueRecord>> list_queues() = 0;
  // Every message of every queue, in order of seq (the queue service loads them at start).
  virtual Result<std::vector<QueueMessage>> queue_messages() = 0;
  // One transaction; durable when it returns.
  virtual Result<void> write_messages(const QueueWrite& w) = 0;

  // Event source mappings: put replaces.
  virtual Result<void> put_mapping(const EventSourceMappingRecord& m) = 0;
  virtual Result<void> delete_mapping(std::string_view uuid) = 0;
  virtual Result<std::vector<EventSourceMappingRecord>> list_mappings() = 0;
};

}  // namespace lambent::store

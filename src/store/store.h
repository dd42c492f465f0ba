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
#include "store/bus.h"
#include "store/distribution.h"
#include "store/function.h"
#include "store/object.h"
#include "store/queue.h"
#include "store/topic.h"

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
  // Saves attempts, throttles, due time and delivery.
  virtual Result<void> update_event(const AsyncEvent& e) = 0;
  // Removes a finished event and, in the same transaction, stores its follow-ups (a destination
  // invocation, a dead-letter topic's publish), so a crash neither loses nor duplicates the
  // hand-over.
  virtual Result<void> finish_event(const std::string& id,
                                    const std::vector<AsyncEvent>& follow_ups = {}) = 0;
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
  // Every FIFO deduplication entry (expired ones too, until pruned).
  virtual Result<std::vector<DedupRecord>> queue_dedup() = 0;
  // One transaction; durable when it returns.
  virtual Result<void> write_messages(const QueueWrite& w) = 0;

  // Event source mappings: put replaces.
  virtual Result<void> put_mapping(const EventSourceMappingRecord& m) = 0;
  virtual Result<void> delete_mapping(std::string_view uuid) = 0;
  virtual Result<std::vector<EventSourceMappingRecord>> list_mappings() = 0;

  // Buckets. kAlreadyExists / kNotFound by name.
  virtual Result<void> create_bucket(const BucketRecord& b) = 0;
  virtual Result<BucketRecord> get_bucket(std::string_view name) = 0;
  virtual Result<std::vector<BucketRecord>> list_buckets() = 0;
  // Read-modify-write of a bucket's config in one transaction.
  virtual Result<BucketRecord> update_bucket(
      std::string_view name, const std::function<Result<void>(BucketRecord&)>& mutate) = 0;
  // kConflict when it still holds objects or multipart uploads.
  virtual Result<void> delete_bucket(std::string_view name) = 0;

  // Objects. The check functions see the current object (null when absent) inside the
  // transaction and may refuse (their error is handed back); the data files of a replaced or
  // removed object join the garbage in the same transaction. `events` (the bucket's
  // notifications) are stored as asynchronous events in that transaction too, so an
  // acknowledged change never loses its notification. kNotFound when the bucket is gone.
  using ObjectCheck = std::function<Result<void>(const ObjectRecord* current)>;
  virtual Result<ObjectRecord> get_object(std::string_view bucket, std::string_view key) = 0;
  virtual Result<void> put_object(const ObjectRecord& o, const ObjectCheck& check,
                                  const std::vector<AsyncEvent>& events = {}) = 0;
  // Returns whether an object was removed (`events` are stored only then).
  virtual Result<bool> delete_object(std::string_view bucket, std::string_view key,
                                     const std::vector<AsyncEvent>& events = {}) = 0;
  // Keys starting with `prefix`, strictly after `after`, in byte order; at most `limit`; inline
  // data not loaded.
  virtual Result<std::vector<ObjectRecord>> list_objects(std::string_view bucket,
                                                         std::string_view prefix,
                                                         std::string_view after, size_t limit) = 0;

  // Multipart uploads. kNotFound for an unknown upload.
  virtual Result<void> create_upload(const UploadRecord& u) = 0;
  virtual Result<UploadRecord> get_upload(std::string_view id) = 0;
  // Uploads of `bucket` with keys starting with `prefix`, ordered by (key, initiated, id),
  // after (key_after, id_after); at most `limit`.
  virtual Result<std::vector<UploadRecord>> list_uploads(std::string_view bucket,
                                                         std::string_view prefix,
                                                         std::string_view key_after,
                                                         std::string_view id_after,
                                                         size_t limit) = 0;
  // Adds or replaces a part (a replaced part's data joins the garbage).
  virtual Result<void> put_part(const PartRecord& p) = 0;
  // Parts numbered above `after`, in order, at most `limit`.
  virtual Result<std::vector<PartRecord>> list_parts(std::string_view upload_id, int after,
                                                     size_t limit) = 0;
  // Writes the object assembled from the upload (as put_object does) and removes the upload;
  // its parts whose data the object does not use join the garbage.
  virtual Result<void> complete_upload(std::string_view upload_id, const ObjectRecord& o,
                                       const ObjectCheck& check,
                                       const std::vector<AsyncEvent>& events = {}) = 0;
  // Removes the upload; its parts' data joins the garbage.
  virtual Result<void> abort_upload(std::string_view id) = 0;

  // Topics and subscriptions. create_topic: kAlreadyExists; delete_topic removes its
  // subscriptions too; put_subscription inserts or replaces (kNotFound when its topic is gone).
  virtual Result<void> create_topic(const TopicRecord& t) = 0;
  virtual Result<void> update_topic(const TopicRecord& t) = 0;
  virtual Result<void> delete_topic(std::string_view name) = 0;
  virtual Result<std::vector<TopicRecord>> list_topics() = 0;
  virtual Result<void> put_subscription(const SubscriptionRecord& s) = 0;
  virtual Result<void> delete_subscription(std::string_view arn) = 0;
  virtual Result<std::vector<SubscriptionRecord>> list_subscriptions() = 0;
  // Several asynchronous events in one transaction (a publish's deliveries).
  virtual Result<void> enqueue_events(const std::vector<AsyncEvent>& events) = 0;

  // Event buses and rules. put_* insert or replace; delete_event_bus removes its rules too.
  virtual Result<void> put_event_bus(const EventBusRecord& b) = 0;
  virtual Result<void> delete_event_bus(std::string_view name) = 0;
  virtual Result<std::vector<EventBusRecord>> list_event_buses() = 0;
  virtual Result<void> put_rule(const RuleRecord& r) = 0;
  virtual Result<void> delete_rule(std::string_view bus, std::string_view name) = 0;
  virtual Result<std::vector<RuleRecord>> list_rules() = 0;
  // A schedule's tick: in one transaction, the rule's last tick moves to `tick_ms` and its
  // deliveries are stored — unless the rule is gone or that tick (or a later one) was fired
  // already (then false, nothing stored).
  virtual Result<bool> fire_tick(std::string_view bus, std::string_view name, int64_t tick_ms,
                                 const std::vector<AsyncEvent>& events) = 0;

  // Distributions (the edge) and their invalidations. put_distribution inserts or replaces;
  // create_distribution: kAlreadyExists when the id or the caller reference is taken;
  // delete_distribution removes its invalidations too.
  virtual Result<void> create_distribution(const DistributionRecord& d) = 0;
  virtual Result<void> put_distribution(const DistributionRecord& d) = 0;
  virtual Result<void> delete_distribution(std::string_view id) = 0;
  virtual Result<std::vector<DistributionRecord>> list_distributions() = 0;
  virtual Result<void> put_invalidation(const InvalidationRecord& i) = 0;
  virtual Result<std::vector<InvalidationRecord>> list_invalidations() = 0;

  // Data files no longer referenced, to delete; then forgotten.
  virtual Result<std::vector<std::string>> object_garbage(size_t limit) = 0;
  virtual Result<void> forget_object_garbage(const std::vector<std::string>& ids) = 0;
  // Whether a data file is referenced by an object or a part (recovery after a crash).
  virtual Result<bool> object_data_referenced(std::string_view id) = 0;
};

}  // namespace lambent::store

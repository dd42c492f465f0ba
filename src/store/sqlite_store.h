// The embedded metadata store: one SQLite database (WAL, synchronous=FULL) with versioned schema
// migrations. Environment variables are sealed with the node key before they reach SQLite, so
// neither the database nor its WAL ever holds them in plaintext.
// Thread: any; one mutex serializes access to the single connection.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "base/crypto.h"
#include "sqlite/sqlite.h"
#include "store/store.h"

namespace lambent::store {

// The schema's migrations, in order (sqlite_store_schema.cc).
extern const char* const kMigrations[];
extern const size_t kMigrationCount;
using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

class SqliteStore final : public Store {
 public:
  // `path` may be ":memory:" for tests.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, const Cipher& cipher);

  Result<void> create_function(const Function& f) override;
  Result<Function> get_function(std::string_view name) override;
  Result<std::vector<Function>> list_functions(std::string_view after, size_t limit) override;
  Result<Function> update_function(std::string_view name,
                                   const std::function<Result<void>(Function&)>& mutate) override;
  Result<Function> delete_function(std::string_view name) override;
  Result<FunctionVersion> delete_version(
      std::string_view name, std::string_view version,
      const std::function<Result<void>(const Function&)>& check) override;
  Result<std::map<std::string, int64_t>> reserved_concurrency() override;
  Result<std::set<std::string>> referenced_code() override;
  Result<void> enqueue_event(const AsyncEvent& e) override;
  Result<std::vector<AsyncEvent>> due_events(int64_t now_ms, size_t limit) override;
  Result<void> update_event(const AsyncEvent& e) override;
  Result<void> finish_event(const std::string& id,
                            const std::vector<AsyncEvent>& follow_ups = {}) override;
  Result<int64_t> pending_events() override;
  Result<Layer> get_layer(std::string_view name) override;
  Result<std::vector<Layer>> list_layers(std::string_view after, size_t limit) override;
  Result<Layer> update_layer(std::string_view name,
                             const std::function<Result<void>(Layer&)>& mutate,
                             bool create) override;
  Result<AccountUsage> account_usage() override;
  Result<void> create_queue(const QueueRecord& q) override;
  Result<void> update_queue(const QueueRecord& q) override;
  Result<void> delete_queue(std::string_view name) override;
  Result<std::vector<QueueRecord>> list_queues() override;
  Result<std::vector<QueueMessage>> queue_messages() override;
  Result<void> write_messages(const QueueWrite& w) override;
  Result<std::vector<DedupRecord>> queue_dedup() override;
  Result<void> write_identities(const std::vector<IdentityRecord>& put,
                                const std::vector<IdentityRecord>& remove) override;
  Result<std::vector<IdentityRecord>> identities() override;
  Result<void> put_mapping(const EventSourceMappingRecord& m) override;
  Result<void> delete_mapping(std::string_view uuid) override;
  Result<std::vector<EventSourceMappingRecord>> list_mappings() override;

  Result<void> create_bucket(const BucketRecord& b) override;
  Result<BucketRecord> get_bucket(std::string_view name) override;
  Result<std::vector<BucketRecord>> list_buckets() override;
  Result<void> create_topic(const TopicRecord& t) override;
  Result<void> update_topic(const TopicRecord& t) override;
  Result<void> delete_topic(std::string_view name) override;
  Result<std::vector<TopicRecord>> list_topics() override;
  Result<void> put_subscription(const SubscriptionRecord& s) override;
  Result<void> delete_subscription(std::string_view arn) override;
  Result<std::vector<SubscriptionRecord>> list_subscriptions() override;
  Result<void> enqueue_events(const std::vector<AsyncEvent>& events) override;
  Result<void> put_event_bus(const EventBusRecord& b) override;
  Result<void> delete_event_bus(std::string_view name) override;
  Result<std::vector<EventBusRecord>> list_event_buses() override;
  Result<void> put_rule(const RuleRecord& r) override;
  Result<void> delete_rule(std::string_view bus, std::string_view name) override;
  Result<std::vector<RuleRecord>> list_rules() override;
  Result<bool> fire_tick(std::string_view bus, std::string_view name, int64_t tick_ms,
                         const std::vector<AsyncEvent>& events) override;
  Result<void> create_distribution(const DistributionRecord& d) override;
  Result<void> put_distribution(const DistributionRecord& d) override;
  Result<void> delete_distribution(std::string_view id) override;
  Result<std::vector<DistributionRecord>> list_distributions() override;
  Result<void> put_invalidation(const InvalidationRecord& i) override;
  Result<std::vector<InvalidationRecord>> list_invalidations() override;
  Result<BucketRecord> update_bucket(
      std::string_view name, const std::function<Result<void>(BucketRecord&)>& mutate) override;
  Result<void> delete_bucket(std::string_view name) override;
  Result<ObjectRecord> get_object(std::string_view bucket, std::string_view key) override;
  Result<void> put_object(const ObjectRecord& o, const ObjectCheck& check,
                          const std::vector<AsyncEvent>& events = {}) override;
  Result<bool> delete_object(std::string_view bucket, std::string_view key,
                             const std::vector<AsyncEvent>& events = {}) override;
  Result<std::vector<ObjectRecord>> list_objects(std::string_view bucket, std::string_view prefix,
                                                 std::string_view after, size_t limit) override;
  Result<void> create_upload(const UploadRecord& u) override;
  Result<UploadRecord> get_upload(std::string_view id) override;
  Result<std::vector<UploadRecord>> list_uploads(std::string_view bucket, std::string_view prefix,
                                                 std::string_view key_after,
                                                 std::string_view id_after, size_t limit) override;
  Result<void> put_part(const PartRecord& p) override;
  Result<std::vector<PartRecord>> list_parts(std::string_view upload_id, int after,
                                             size_t limit) override;
  Result<void> complete_upload(std::string_view upload_id, const ObjectRecord& o,
                               const ObjectCheck& check,
                               const std::vector<AsyncEvent>& events = {}) override;
  Result<void> abort_upload(std::string_view id) override;
  Result<std::vector<std::string>> object_garbage(size_t limit) override;
  Result<void> forget_object_garbage(const std::vector<std::string>& ids) override;
  Result<bool> object_data_referenced(std::string_view id) override;

  int schema_version() const { return schema_version_; }

 private:
  SqliteStore(std::unique_ptr<Database> db, const Cipher& cipher)
      : db_(std::move(db)), cipher_(cipher) {}
  Result<void> migrate();
  // Names in `table` ("functions", "layers") strictly after `after`, in order, at most `limit`.
  Result<std::vector<std::string>> names_after_locked(const char* table, std::string_view after,
                                                      size_t limit);
  // Those names' rows, each loaded by `load`.
  template <class T>
  Result<std::vector<T>> list_locked(const char* table, std::string_view after, size_t limit,
                                     Result<T> (SqliteStore::*load)(std::string_view));
  Result<Function> load_locked(std::string_view name);
  Result<void> write_version_locked(const std::string& name, const FunctionVersion& v,
                                    bool replace);
  Result<void> write_function_row_locked(const Function& f, bool insert);
  Result<Layer> load_layer_locked(std::string_view name);
  Result<void> insert_event_locked(const AsyncEvent& e);
  Result<void> write_messages_locked(const QueueWrite& w);
  Result<std::optional<ObjectRecord>> load_object_locked(std::string_view bucket,
                                                         std::string_view key, bool with_data);
  Result<void> bucket_exists_locked(std::string_view bucket);
  // Writes `o` over the current object (whose data joins the garbage), after `check`.
  Result<void> put_object_locked(const ObjectRecord& o, const ObjectCheck& check);
  Result<void> add_garbage_locked(const std::string& id);
  // Group commit for the frequent small writes (events, queue messages): concurrent callers'
  // work runs in one transaction, each in a savepoint of its own (a failure rolls back only that
  // caller's part), so one fsync serves them all. Blocks until the caller's work is durable.
  Result<void> group_write(const std::function<Result<void>()>& work);
  struct GroupItem {
    const std::function<Result<void>()>* work;
    Result<void> result;
    bool done = false;
  };
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::deque<GroupItem*> group_pending_;
  bool group_leader_ = false;

  std::mutex mu_;
  std::unique_ptr<Database> db_;
  const Cipher& cipher_;
  int schema_version_ = 0;
};

}  // namespace lambent::store

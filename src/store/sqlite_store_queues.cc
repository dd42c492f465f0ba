// The SQLite store's durable work items: asynchronous invocations (group-committed), the built-in
// queues and their messages, and event source mappings.
#include <boost/json.hpp>

#include "store/sqlite_store.h"
#include "store/stored_json.h"

namespace lambent::store {
namespace json = boost::json;

Result<void> SqliteStore::insert_event_locked(const AsyncEvent& e) {
  LAMBENT_TRY(st, db_->prepare("INSERT INTO async_events VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"));
  st->bind(1, e.id)
      .bind(2, e.function)
      .bind(3, e.qualifier)
      .bind_blob(4, e.payload)
      .bind(5, e.received_ms)
      .bind(6, e.attempts)
      .bind(7, e.throttles)
      .bind(8, e.due_ms)
      .bind(9, e.delivery);
  return st->run();
}

Result<void> SqliteStore::group_write(const std::function<Result<void>()>& work) {
  GroupItem mine{&work, {}, false};
  std::unique_lock lk(group_mu_);
  group_pending_.push_back(&mine);
  while (!mine.done) {
    if (group_leader_) {
      group_cv_.wait(lk);
      continue;
    }
    // Lead: commit everything queued so far (this caller's work included) in one transaction.
    group_leader_ = true;
    std::deque<GroupItem*> batch;
    batch.swap(group_pending_);
    lk.unlock();
    {
      std::lock_guard lock(mu_);
      auto tx = Transaction::begin(*db_);
      if (!tx) {
        for (auto* item : batch) item->result = tx.error();
      } else {
        for (auto* item : batch) {
          auto sp = db_->exec("SAVEPOINT g");
          item->result = sp ? (*item->work)() : sp;
          if (!item->result) (void)db_->exec("ROLLBACK TO g");
          (void)db_->exec("RELEASE g");
        }
        if (auto c = tx->commit(); !c) {
          for (auto* item : batch) item->result = c.error();
        }
      }
    }
    lk.lock();
    for (auto* item : batch) item->done = true;
    group_leader_ = false;
    group_cv_.notify_all();
  }
  return mine.result;
}

Result<void> SqliteStore::enqueue_event(const AsyncEvent& e) {
  return group_write([&] { return insert_event_locked(e); });
}

Result<std::vector<AsyncEvent>> SqliteStore::due_events(int64_t now, size_t limit) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(
      st, db_->prepare("SELECT id, function, qualifier, payload, received_ms, attempts, throttles, "
                       "due_ms, delivery FROM async_events WHERE due_ms <= ?1 ORDER BY due_ms "
                       "LIMIT ?2"));
  st->bind(1, now).bind(2, static_cast<int64_t>(limit));
  std::vector<AsyncEvent> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->text(1), st->text(2), st->blob(3), st->integer(4),
                   st->integer(5), st->integer(6), st->integer(7), st->text(8)});
  }));
  return out;
}

Result<void> SqliteStore::update_event(const AsyncEvent& e) {
  return group_write([&]() -> Result<void> {
    LAMBENT_TRY(st, db_->prepare("UPDATE async_events SET attempts = ?2, throttles = ?3, "
                                 "due_ms = ?4, delivery = ?5 WHERE id = ?1"));
    return st->bind(1, e.id)
        .bind(2, e.attempts)
        .bind(3, e.throttles)
        .bind(4, e.due_ms)
        .bind(5, e.delivery)
        .run();
  });
}

Result<void> SqliteStore::finish_event(const std::string& id,
                                       const std::vector<AsyncEvent>& follow_ups) {
  return group_write([&]() -> Result<void> {
    {
      LAMBENT_TRY(st, db_->prepare("DELETE FROM async_events WHERE id = ?1"));
      LAMBENT_TRY_VOID(st->bind(1, id).run());
    }
    for (const auto& f : follow_ups) LAMBENT_TRY_VOID(insert_event_locked(f));
    return {};
  });
}

Result<void> SqliteStore::enqueue_events(const std::vector<AsyncEvent>& events) {
  return group_write([&]() -> Result<void> {
    for (const auto& e : events) LAMBENT_TRY_VOID(insert_event_locked(e));
    return {};
  });
}

Result<int64_t> SqliteStore::pending_events() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT count(*) FROM async_events"));
  LAMBENT_TRY(row, st->step());
  int64_t n = row ? st->integer(0) : 0;
  st->reset();
  return n;
}

Result<void> SqliteStore::create_queue(const QueueRecord& q) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT INTO queues VALUES (?1, ?2, ?3, ?4, ?5)"));
  auto r = st->bind(1, q.name).bind(2, q.created_s).bind(3, q.modified_s)
               .bind(4, map_to_json(q.attributes)).bind(5, map_to_json(q.tags)).run();
  if (!r && r.error().code == Errc::kAlreadyExists) {
    return make_error(Errc::kAlreadyExists, "queue " + q.name + " exists");
  }
  return r;
}

Result<void> SqliteStore::update_queue(const QueueRecord& q) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare(
                      "UPDATE queues SET modified_s = ?2, attributes = ?3, tags = ?4 WHERE name = ?1"));
  LAMBENT_TRY_VOID(st->bind(1, q.name).bind(2, q.modified_s).bind(3, map_to_json(q.attributes))
                       .bind(4, map_to_json(q.tags)).run());
  if (db_->changes() == 0) return make_error(Errc::kNotFound, "queue " + q.name + " not found");
  return {};
}

Result<void> SqliteStore::delete_queue(std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM queues WHERE name = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, name).run());
    if (db_->changes() == 0) {
      return make_error(Errc::kNotFound, "queue " + std::string(name) + " not found");
    }
  }
  for (const char* sql : {"DELETE FROM queue_messages WHERE queue = ?1",
                          "DELETE FROM queue_dedup WHERE queue = ?1"}) {
    LAMBENT_TRY(st, db_->prepare(sql));
    LAMBENT_TRY_VOID(st->bind(1, name).run());
  }
  return tx.commit();
}

Result<std::vector<QueueRecord>> SqliteStore::list_queues() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT name, created_s, modified_s, attributes, tags FROM queues ORDER BY name"));
  std::vector<QueueRecord> out;
  LAMBENT_TRY_VOID(st->each([&]() -> Result<void> {
    QueueRecord q;
    q.name = st->text(0);
    q.created_s = st->integer(1);
    q.modified_s = st->integer(2);
    LAMBENT_TRY(attributes, map_from_json(st->text(3)));
    LAMBENT_TRY(tags, map_from_json(st->text(4)));
    q.attributes = std::move(attributes);
    q.tags = std::move(tags);
    out.push_back(std::move(q));
    return {};
  }));
  return out;
}

Result<std::vector<QueueMessage>> SqliteStore::queue_messages() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT seq, queue, id, body, attributes, sent_ms, "
                               "first_receive_ms, receive_count, visible_ms, receipt, system "
                               "FROM queue_messages ORDER BY seq"));
  std::vector<QueueMessage> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->integer(0), st->text(1), st->text(2), st->blob(3), st->text(4),
                   st->integer(5), st->integer(6), st->integer(7), st->integer(8), st->text(9),
                   st->text(10)});
  }));
  return out;
}

Result<std::vector<DedupRecord>> SqliteStore::queue_dedup() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT queue, key, message_id, sequence, expires_ms FROM "
                               "queue_dedup ORDER BY queue, key"));
  std::vector<DedupRecord> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->text(1), st->text(2), st->text(3), st->integer(4)});
  }));
  return out;
}

Result<void> SqliteStore::write_messages(const QueueWrite& w) {
  if (w.empty()) return {};
  return group_write([&] { return write_messages_locked(w); });
}

Result<void> SqliteStore::write_messages_locked(const QueueWrite& w) {
  if (!w.purge.empty()) {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM queue_messages WHERE queue = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, w.purge).run());
  }
  for (int64_t seq : w.remove) {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM queue_messages WHERE seq = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, seq).run());
  }
  for (const auto& m : w.put) {
    LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO queue_messages (seq, queue, id, body, "
                                 "attributes, sent_ms, first_receive_ms, receive_count, "
                                 "visible_ms, receipt, system) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                 "?7, ?8, ?9, ?10, ?11)"));
    LAMBENT_TRY_VOID(st->bind(1, m.seq)
                         .bind(2, m.queue)
                         .bind(3, m.id)
                         .bind_blob(4, m.body)
                         .bind(5, m.attributes)
                         .bind(6, m.sent_ms)
                         .bind(7, m.first_receive_ms)
                         .bind(8, m.receive_count)
                         .bind(9, m.visible_ms)
                         .bind(10, m.receipt)
                         .bind(11, m.system)
                         .run());
  }
  if (!w.dedup_prune_queue.empty()) {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM queue_dedup WHERE queue = ?1 AND expires_ms < ?2"));
    LAMBENT_TRY_VOID(st->bind(1, w.dedup_prune_queue).bind(2, w.dedup_expired_ms).run());
  }
  for (const auto& d : w.dedup) {
    LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO queue_dedup VALUES (?1, ?2, ?3, ?4, ?5)"));
    LAMBENT_TRY_VOID(st->bind(1, d.queue)
                         .bind(2, d.key)
                         .bind(3, d.message_id)
                         .bind(4, d.sequence)
                         .bind(5, d.expires_ms)
                         .run());
  }
  for (const auto& u : w.update) {
    LAMBENT_TRY(st, db_->prepare("UPDATE queue_messages SET first_receive_ms = ?2, "
                                 "receive_count = ?3, visible_ms = ?4, receipt = ?5 WHERE seq = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, u.seq).bind(2, u.first_receive_ms).bind(3, u.receive_count)
                         .bind(4, u.visible_ms).bind(5, u.receipt).run());
  }
  return {};
}

Result<void> SqliteStore::put_mapping(const EventSourceMappingRecord& m) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO event_source_mappings VALUES (?1, ?2)"));
  return st->bind(1, m.uuid).bind(2, m.config).run();
}

Result<void> SqliteStore::delete_mapping(std::string_view uuid) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("DELETE FROM event_source_mappings WHERE uuid = ?1"));
  return st->bind(1, uuid).run();
}

Result<std::vector<EventSourceMappingRecord>> SqliteStore::list_mappings() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT uuid, config FROM event_source_mappings ORDER BY uuid"));
  std::vector<EventSourceMappingRecord> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->text(1)});
  }));
  return out;
}

Result<void> SqliteStore::write_identities(const std::vector<IdentityRecord>& put,
                                           const std::vector<IdentityRecord>& remove) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  for (const auto& r : put) {
    LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO iam_entities VALUES (?1, ?2, ?3)"));
    LAMBENT_TRY_VOID(st->bind(1, r.kind).bind(2, r.name).bind(3, r.doc).run());
  }
  for (const auto& r : remove) {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM iam_entities WHERE kind = ?1 AND name = ?2"));
    LAMBENT_TRY_VOID(st->bind(1, r.kind).bind(2, r.name).run());
  }
  return tx.commit();
}

Result<std::vector<IdentityRecord>> SqliteStore::identities() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT kind, name, doc FROM iam_entities ORDER BY kind, name"));
  std::vector<IdentityRecord> out;
  LAMBENT_TRY_VOID(st->each([&] { out.push_back({st->text(0), st->text(1), st->text(2)}); }));
  return out;
}

}  // namespace lambent::store

// The SQLite store's topics and subscriptions (SNS).
#include "store/sqlite_store.h"
#include "store/stored_json.h"

namespace lambent::store {

Result<void> SqliteStore::create_topic(const TopicRecord& t) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT INTO topics VALUES (?1, ?2, ?3, ?4)"));
  auto r = st->bind(1, t.name)
               .bind(2, map_to_json(t.attributes))
               .bind(3, map_to_json(t.tags))
               .bind(4, t.created_ms)
               .run();
  if (!r && r.error().code == Errc::kAlreadyExists) {
    return make_error(Errc::kAlreadyExists, "topic " + t.name + " exists");
  }
  return r;
}

Result<void> SqliteStore::update_topic(const TopicRecord& t) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("UPDATE topics SET attributes = ?2, tags = ?3 WHERE name = ?1"));
  LAMBENT_TRY_VOID(
      st->bind(1, t.name).bind(2, map_to_json(t.attributes)).bind(3, map_to_json(t.tags)).run());
  if (db_->changes() == 0) return make_error(Errc::kNotFound, "topic " + t.name + " not found");
  return {};
}

Result<void> SqliteStore::delete_topic(std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM subscriptions WHERE topic = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, name).run());
  }
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM topics WHERE name = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, name).run());
  }
  return tx.commit();
}

Result<std::vector<TopicRecord>> SqliteStore::list_topics() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st,
              db_->prepare("SELECT name, attributes, tags, created_ms FROM topics ORDER BY name"));
  std::vector<TopicRecord> out;
  Result<void> bad;
  LAMBENT_TRY_VOID(st->each([&] {
    auto attributes = map_from_json(st->text(1));
    auto tags = map_from_json(st->text(2));
    if (!attributes || !tags) {
      bad = make_error(Errc::kCorrupt, "stored topic " + st->text(0) + " is not valid");
      return;
    }
    out.push_back({st->text(0), std::move(*attributes), std::move(*tags), st->integer(3)});
  }));
  if (!bad) return bad.error();
  return out;
}

Result<void> SqliteStore::put_subscription(const SubscriptionRecord& s) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("SELECT 1 FROM topics WHERE name = ?1"));
    st->bind(1, s.topic);
    LAMBENT_TRY(row, st->step());
    st->reset();
    if (!row) return make_error(Errc::kNotFound, "topic " + s.topic + " not found");
  }
  LAMBENT_TRY(
      st, db_->prepare("INSERT OR REPLACE INTO subscriptions VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"));
  LAMBENT_TRY_VOID(st->bind(1, s.arn)
                       .bind(2, s.topic)
                       .bind(3, s.protocol)
                       .bind(4, s.endpoint)
                       .bind(5, s.owner)
                       .bind(6, map_to_json(s.attributes))
                       .bind(7, static_cast<int64_t>(s.confirmed))
                       .bind(8, s.token)
                       .bind(9, s.created_ms)
                       .run());
  return tx.commit();
}

Result<void> SqliteStore::delete_subscription(std::string_view arn) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("DELETE FROM subscriptions WHERE arn = ?1"));
  return st->bind(1, arn).run();
}

Result<std::vector<SubscriptionRecord>> SqliteStore::list_subscriptions() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT arn, topic, protocol, endpoint, owner, attributes, "
                               "confirmed, token, created_ms FROM subscriptions ORDER BY arn"));
  std::vector<SubscriptionRecord> out;
  Result<void> bad;
  LAMBENT_TRY_VOID(st->each([&] {
    auto attributes = map_from_json(st->text(5));
    if (!attributes) {
      bad = make_error(Errc::kCorrupt, "stored subscription " + st->text(0) + " is not valid");
      return;
    }
    out.push_back({st->text(0), st->text(1), st->text(2), st->text(3), st->text(4),
                   std::move(*attributes), st->integer(6) != 0, st->text(7), st->integer(8)});
  }));
  if (!bad) return bad.error();
  return out;
}

}  // namespace lambent::store

// --- event buses and rules (EventBridge)

namespace lambent::store {

Result<void> SqliteStore::put_event_bus(const EventBusRecord& b) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO event_buses VALUES (?1, ?2, ?3)"));
  return st->bind(1, b.name).bind(2, map_to_json(b.tags)).bind(3, b.created_ms).run();
}

Result<void> SqliteStore::delete_event_bus(std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM event_rules WHERE bus = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, name).run());
  }
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM event_buses WHERE name = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, name).run());
  }
  return tx.commit();
}

Result<std::vector<EventBusRecord>> SqliteStore::list_event_buses() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT name, tags, created_ms FROM event_buses ORDER BY name"));
  std::vector<EventBusRecord> out;
  Result<void> bad;
  LAMBENT_TRY_VOID(st->each([&] {
    auto tags = map_from_json(st->text(1));
    if (!tags) {
      bad = make_error(Errc::kCorrupt, "stored event bus " + st->text(0) + " is not valid");
      return;
    }
    out.push_back({st->text(0), std::move(*tags), st->integer(2)});
  }));
  if (!bad) return bad.error();
  return out;
}

Result<void> SqliteStore::put_rule(const RuleRecord& r) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO event_rules VALUES "
                               "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"));
  return st->bind(1, r.bus)
      .bind(2, r.name)
      .bind(3, r.event_pattern)
      .bind(4, r.schedule)
      .bind(5, r.state)
      .bind(6, r.description)
      .bind(7, r.role_arn)
      .bind(8, r.targets)
      .bind(9, map_to_json(r.tags))
      .bind(10, r.created_ms)
      .bind(11, r.last_tick_ms)
      .run();
}

Result<void> SqliteStore::delete_rule(std::string_view bus, std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("DELETE FROM event_rules WHERE bus = ?1 AND name = ?2"));
  return st->bind(1, bus).bind(2, name).run();
}

Result<std::vector<RuleRecord>> SqliteStore::list_rules() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT bus, name, pattern, schedule, state, description, "
                               "role_arn, targets, tags, created_ms, last_tick_ms "
                               "FROM event_rules ORDER BY bus, name"));
  std::vector<RuleRecord> out;
  Result<void> bad;
  LAMBENT_TRY_VOID(st->each([&] {
    auto tags = map_from_json(st->text(8));
    if (!tags) {
      bad = make_error(Errc::kCorrupt, "stored rule " + st->text(1) + " is not valid");
      return;
    }
    out.push_back({st->text(0), st->text(1), st->text(2), st->text(3), st->text(4), st->text(5),
                   st->text(6), st->text(7), std::move(*tags), st->integer(9), st->integer(10)});
  }));
  if (!bad) return bad.error();
  return out;
}

Result<bool> SqliteStore::fire_tick(std::string_view bus, std::string_view name, int64_t tick_ms,
                                    const std::vector<AsyncEvent>& events) {
  bool fired = false;
  auto r = group_write([&]() -> Result<void> {
    LAMBENT_TRY(st, db_->prepare("UPDATE event_rules SET last_tick_ms = ?3 WHERE bus = ?1 AND "
                                 "name = ?2 AND last_tick_ms < ?3"));
    LAMBENT_TRY_VOID(st->bind(1, bus).bind(2, name).bind(3, tick_ms).run());
    fired = db_->changes() > 0;
    if (!fired) return {};
    for (const auto& e : events) LAMBENT_TRY_VOID(insert_event_locked(e));
    return {};
  });
  if (!r) return r.error();
  return fired;
}

}  // namespace lambent::store

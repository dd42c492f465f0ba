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

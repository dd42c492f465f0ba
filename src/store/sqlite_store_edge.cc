// The SQLite store's distributions and invalidations (the edge).
#include "store/sqlite_store.h"
#include "store/stored_json.h"

namespace lambent::store {

namespace {
const char* kInsertDistribution = "INTO distributions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

Statement& bind_distribution(Statement& st, const DistributionRecord& d) {
  return st.bind(1, d.id)
      .bind(2, d.caller_reference)
      .bind(3, d.etag)
      .bind(4, d.domain_label)
      .bind(5, d.config_xml)
      .bind(6, map_to_json(d.tags))
      .bind(7, d.created_ms)
      .bind(8, d.modified_ms);
}
}  // namespace

Result<void> SqliteStore::create_distribution(const DistributionRecord& d) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare(std::string("INSERT ") + kInsertDistribution));
  auto r = bind_distribution(*st, d).run();
  if (!r && r.error().code == Errc::kAlreadyExists) {
    return make_error(Errc::kAlreadyExists,
                      "distribution " + d.id + " or its caller reference exists");
  }
  return r;
}

Result<void> SqliteStore::put_distribution(const DistributionRecord& d) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare(std::string("INSERT OR REPLACE ") + kInsertDistribution));
  return bind_distribution(*st, d).run();
}

Result<void> SqliteStore::delete_distribution(std::string_view id) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM invalidations WHERE distribution_id = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, id).run());
  }
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM distributions WHERE id = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, id).run());
  }
  return tx.commit();
}

Result<std::vector<DistributionRecord>> SqliteStore::list_distributions() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT id, caller_reference, etag, domain_label, config, tags, "
                               "created_ms, modified_ms FROM distributions ORDER BY id"));
  std::vector<DistributionRecord> out;
  Result<void> bad;
  LAMBENT_TRY_VOID(st->each([&] {
    auto tags = map_from_json(st->text(5));
    if (!tags) {
      bad = make_error(Errc::kCorrupt, "stored distribution " + st->text(0) + " is not valid");
      return;
    }
    out.push_back({st->text(0), st->text(1), st->text(2), st->text(3), st->text(4),
                   std::move(*tags), st->integer(6), st->integer(7)});
  }));
  if (!bad) return bad.error();
  return out;
}

Result<void> SqliteStore::put_invalidation(const InvalidationRecord& i) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO invalidations VALUES (?1, ?2, ?3, ?4, ?5)"));
  return st->bind(1, i.distribution_id)
      .bind(2, i.id)
      .bind(3, i.caller_reference)
      .bind(4, strings_json(i.paths))
      .bind(5, i.created_ms)
      .run();
}

Result<std::vector<InvalidationRecord>> SqliteStore::list_invalidations() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT distribution_id, id, caller_reference, paths, created_ms "
                               "FROM invalidations ORDER BY distribution_id, created_ms, id"));
  std::vector<InvalidationRecord> out;
  Result<void> bad;
  LAMBENT_TRY_VOID(st->each([&] {
    auto paths = strings_from_json(st->text(3));
    if (!paths) {
      bad = make_error(Errc::kCorrupt, "stored invalidation " + st->text(1) + " is not valid");
      return;
    }
    out.push_back({st->text(0), st->text(1), st->text(2), std::move(*paths), st->integer(4)});
  }));
  if (!bad) return bad.error();
  return out;
}

}  // namespace lambent::store

// The SQLite store's object storage: buckets, objects (group-committed writes), multipart
// uploads and parts, and the garbage list of data files.
#include <charconv>

#include "store/sqlite_store.h"

namespace lambent::store {
namespace {

// Pieces as "id:size,id:size" (ids are hex).
std::string pieces_text(const std::vector<DataPiece>& pieces) {
  std::string out;
  for (const auto& p : pieces) {
    if (!out.empty()) out.push_back(',');
    out.append(p.id).push_back(':');
    out.append(std::to_string(p.size));
  }
  return out;
}

Result<std::vector<DataPiece>> pieces_from(std::string_view text) {
  std::vector<DataPiece> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view one = text.substr(0, comma);
    size_t colon = one.find(':');
    if (colon == std::string_view::npos) return make_error(Errc::kCorrupt, "bad object pieces");
    DataPiece p;
    p.id = std::string(one.substr(0, colon));
    auto sz = one.substr(colon + 1);
    if (std::from_chars(sz.data(), sz.data() + sz.size(), p.size).ec != std::errc()) {
      return make_error(Errc::kCorrupt, "bad object pieces");
    }
    out.push_back(std::move(p));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// The smallest string greater than every string starting with `prefix` ("" = none).
std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return "";
}

}  // namespace

Result<void> SqliteStore::create_bucket(const BucketRecord& b) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT INTO buckets VALUES (?1, ?2, ?3, ?4, ?5)"));
  return st->bind(1, b.name)
      .bind(2, b.region)
      .bind(3, b.owner)
      .bind(4, b.created_ms)
      .bind(5, b.config)
      .run();
}

Result<BucketRecord> SqliteStore::get_bucket(std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT name, region, owner, created_ms, config FROM buckets "
                               "WHERE name = ?1"));
  std::optional<BucketRecord> out;
  LAMBENT_TRY_VOID(st->bind(1, name).each([&] {
    out = BucketRecord{st->text(0), st->text(1), st->text(2), st->integer(3), st->text(4)};
  }));
  if (!out) return make_error(Errc::kNotFound, "no such bucket");
  return std::move(*out);
}

Result<std::vector<BucketRecord>> SqliteStore::list_buckets() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT name, region, owner, created_ms, config FROM buckets "
                               "ORDER BY name"));
  std::vector<BucketRecord> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->text(1), st->text(2), st->integer(3), st->text(4)});
  }));
  return out;
}

Result<BucketRecord> SqliteStore::update_bucket(
    std::string_view name, const std::function<Result<void>(BucketRecord&)>& mutate) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  LAMBENT_TRY(st, db_->prepare("SELECT name, region, owner, created_ms, config FROM buckets "
                               "WHERE name = ?1"));
  std::optional<BucketRecord> b;
  LAMBENT_TRY_VOID(st->bind(1, name).each([&] {
    b = BucketRecord{st->text(0), st->text(1), st->text(2), st->integer(3), st->text(4)};
  }));
  if (!b) return make_error(Errc::kNotFound, "no such bucket");
  LAMBENT_TRY_VOID(mutate(*b));
  LAMBENT_TRY(up, db_->prepare("UPDATE buckets SET config = ?2 WHERE name = ?1"));
  LAMBENT_TRY_VOID(up->bind(1, name).bind(2, b->config).run());
  LAMBENT_TRY_VOID(tx.commit());
  return std::move(*b);
}

Result<void> SqliteStore::delete_bucket(std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  LAMBENT_TRY_VOID(bucket_exists_locked(name));
  bool used = false;
  LAMBENT_TRY(objs, db_->prepare("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1"));
  LAMBENT_TRY_VOID(objs->bind(1, name).each([&] { used = true; }));
  LAMBENT_TRY(ups, db_->prepare("SELECT 1 FROM uploads WHERE bucket = ?1 LIMIT 1"));
  LAMBENT_TRY_VOID(ups->bind(1, name).each([&] { used = true; }));
  if (used) return make_error(Errc::kConflict, "The bucket you tried to delete is not empty");
  LAMBENT_TRY(st, db_->prepare("DELETE FROM buckets WHERE name = ?1"));
  LAMBENT_TRY_VOID(st->bind(1, name).run());
  return tx.commit();
}

Result<void> SqliteStore::bucket_exists_locked(std::string_view bucket) {
  LAMBENT_TRY(st, db_->prepare("SELECT 1 FROM buckets WHERE name = ?1"));
  bool found = false;
  LAMBENT_TRY_VOID(st->bind(1, bucket).each([&] { found = true; }));
  if (!found) return make_error(Errc::kNotFound, "no such bucket");
  return {};
}

Result<std::optional<ObjectRecord>> SqliteStore::load_object_locked(std::string_view bucket,
                                                                    std::string_view key,
                                                                    bool with_data) {
  LAMBENT_TRY(st,
              db_->prepare(with_data ? "SELECT size, etag, modified_ms, meta, pieces, inline_data "
                                       "FROM objects WHERE bucket = ?1 AND key = ?2"
                                     : "SELECT size, etag, modified_ms, meta, pieces FROM objects "
                                       "WHERE bucket = ?1 AND key = ?2"));
  std::optional<ObjectRecord> out;
  LAMBENT_TRY_VOID(st->bind(1, bucket).bind(2, key).each([&]() -> Result<void> {
    ObjectRecord o;
    o.bucket = std::string(bucket);
    o.key = std::string(key);
    o.size = static_cast<uint64_t>(st->integer(0));
    o.etag = st->text(1);
    o.modified_ms = st->integer(2);
    o.meta = st->text(3);
    LAMBENT_TRY(pieces, pieces_from(st->text(4)));
    o.pieces = std::move(pieces);
    if (with_data && !st->is_null(5)) o.inline_data = st->blob(5);
    out = std::move(o);
    return {};
  }));
  return out;
}

Result<ObjectRecord> SqliteStore::get_object(std::string_view bucket, std::string_view key) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(o, load_object_locked(bucket, key, true));
  if (!o) {
    LAMBENT_TRY_VOID(bucket_exists_locked(bucket));
    return make_error(Errc::kNotFound, "The specified key does not exist.");
  }
  return std::move(*o);
}

Result<void> SqliteStore::add_garbage_locked(const std::string& id) {
  LAMBENT_TRY(st, db_->prepare("INSERT OR IGNORE INTO object_garbage VALUES (?1)"));
  return st->bind(1, id).run();
}

Result<void> SqliteStore::put_object_locked(const ObjectRecord& o, const ObjectCheck& check) {
  LAMBENT_TRY_VOID(bucket_exists_locked(o.bucket));
  LAMBENT_TRY(current, load_object_locked(o.bucket, o.key, false));
  if (check) LAMBENT_TRY_VOID(check(current ? &*current : nullptr));
  if (current) {
    for (const auto& p : current->pieces) {
      // A copy onto itself keeps its data.
      bool kept = false;
      for (const auto& q : o.pieces) kept = kept || q.id == p.id;
      if (!kept) LAMBENT_TRY_VOID(add_garbage_locked(p.id));
    }
  }
  LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO objects (bucket, key, size, etag, "
                               "modified_ms, meta, inline_data, pieces) VALUES "
                               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  st->bind(1, o.bucket)
      .bind(2, o.key)
      .bind(3, static_cast<int64_t>(o.size))
      .bind(4, o.etag)
      .bind(5, o.modified_ms)
      .bind(6, o.meta);
  if (o.pieces.empty()) {
    st->bind_blob(7, o.inline_data);
  } else {
    st->bind_null(7);
  }
  return st->bind(8, pieces_text(o.pieces)).run();
}

Result<void> SqliteStore::put_object(const ObjectRecord& o, const ObjectCheck& check,
                                     const std::vector<AsyncEvent>& events) {
  return group_write([&]() -> Result<void> {
    LAMBENT_TRY_VOID(put_object_locked(o, check));
    for (const auto& e : events) LAMBENT_TRY_VOID(insert_event_locked(e));
    return {};
  });
}

Result<bool> SqliteStore::delete_object(std::string_view bucket, std::string_view key,
                                        const std::vector<AsyncEvent>& events) {
  bool removed = false;
  LAMBENT_TRY_VOID(group_write([&]() -> Result<void> {
    LAMBENT_TRY_VOID(bucket_exists_locked(bucket));
    LAMBENT_TRY(current, load_object_locked(bucket, key, false));
    if (!current) return {};
    for (const auto& p : current->pieces) LAMBENT_TRY_VOID(add_garbage_locked(p.id));
    LAMBENT_TRY(st, db_->prepare("DELETE FROM objects WHERE bucket = ?1 AND key = ?2"));
    LAMBENT_TRY_VOID(st->bind(1, bucket).bind(2, key).run());
    for (const auto& e : events) LAMBENT_TRY_VOID(insert_event_locked(e));
    removed = true;
    return {};
  }));
  return removed;
}

Result<std::vector<ObjectRecord>> SqliteStore::list_objects(std::string_view bucket,
                                                            std::string_view prefix,
                                                            std::string_view after, size_t limit) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY_VOID(bucket_exists_locked(bucket));
  std::string from(after);
  if (from < prefix) from = std::string(prefix);
  bool inclusive = from != after;  // starting at the prefix itself, which may be a key
  std::string end = prefix_end(prefix);
  std::string sql =
      "SELECT key, size, etag, modified_ms, meta, pieces FROM objects WHERE "
      "bucket = ?1 AND key ";
  sql += inclusive ? ">= ?2" : "> ?2";
  if (!end.empty()) sql += " AND key < ?3";
  sql += " ORDER BY key LIMIT ?4";
  LAMBENT_TRY(st, db_->prepare(sql));
  st->bind(1, bucket).bind(2, from).bind(4, static_cast<int64_t>(limit));
  if (!end.empty()) st->bind(3, end);
  std::vector<ObjectRecord> out;
  LAMBENT_TRY_VOID(st->each([&]() -> Result<void> {
    ObjectRecord o;
    o.bucket = std::string(bucket);
    o.key = st->text(0);
    o.size = static_cast<uint64_t>(st->integer(1));
    o.etag = st->text(2);
    o.modified_ms = st->integer(3);
    o.meta = st->text(4);
    LAMBENT_TRY(pieces, pieces_from(st->text(5)));
    o.pieces = std::move(pieces);
    out.push_back(std::move(o));
    return {};
  }));
  return out;
}

Result<void> SqliteStore::create_upload(const UploadRecord& u) {
  return group_write([&]() -> Result<void> {
    LAMBENT_TRY_VOID(bucket_exists_locked(u.bucket));
    LAMBENT_TRY(st, db_->prepare("INSERT INTO uploads VALUES (?1, ?2, ?3, ?4, ?5)"));
    return st->bind(1, u.id)
        .bind(2, u.bucket)
        .bind(3, u.key)
        .bind(4, u.initiated_ms)
        .bind(5, u.meta)
        .run();
  });
}

Result<UploadRecord> SqliteStore::get_upload(std::string_view id) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT id, bucket, key, initiated_ms, meta FROM uploads WHERE "
                               "id = ?1"));
  std::optional<UploadRecord> out;
  LAMBENT_TRY_VOID(st->bind(1, id).each([&] {
    out = UploadRecord{st->text(0), st->text(1), st->text(2), st->integer(3), st->text(4)};
  }));
  if (!out) return make_error(Errc::kNotFound, "no such upload");
  return std::move(*out);
}

Result<std::vector<UploadRecord>> SqliteStore::list_uploads(std::string_view bucket,
                                                            std::string_view prefix,
                                                            std::string_view key_after,
                                                            std::string_view id_after,
                                                            size_t limit) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY_VOID(bucket_exists_locked(bucket));
  std::string end = prefix_end(prefix);
  std::string sql =
      "SELECT id, bucket, key, initiated_ms, meta FROM uploads WHERE bucket = ?1 AND key >= ?2 "
      "AND (key > ?3 OR (key = ?3 AND id > ?4))";
  if (!end.empty()) sql += " AND key < ?5";
  sql += " ORDER BY key, id LIMIT ?6";
  LAMBENT_TRY(st, db_->prepare(sql));
  st->bind(1, bucket)
      .bind(2, prefix)
      .bind(3, key_after)
      .bind(4, id_after)
      .bind(6, static_cast<int64_t>(limit));
  if (!end.empty()) st->bind(5, end);
  std::vector<UploadRecord> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->text(1), st->text(2), st->integer(3), st->text(4)});
  }));
  return out;
}

Result<void> SqliteStore::put_part(const PartRecord& p) {
  return group_write([&]() -> Result<void> {
    LAMBENT_TRY(up, db_->prepare("SELECT 1 FROM uploads WHERE id = ?1"));
    bool found = false;
    LAMBENT_TRY_VOID(up->bind(1, p.upload_id).each([&] { found = true; }));
    if (!found) return make_error(Errc::kNotFound, "no such upload");
    LAMBENT_TRY(old, db_->prepare("SELECT data_id FROM parts WHERE upload = ?1 AND number = ?2"));
    std::string old_id;
    LAMBENT_TRY_VOID(
        old->bind(1, p.upload_id).bind(2, p.number).each([&] { old_id = old->text(0); }));
    if (!old_id.empty() && old_id != p.data.id) LAMBENT_TRY_VOID(add_garbage_locked(old_id));
    LAMBENT_TRY(st,
                db_->prepare("INSERT OR REPLACE INTO parts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    return st->bind(1, p.upload_id)
        .bind(2, p.number)
        .bind(3, p.data.id)
        .bind(4, static_cast<int64_t>(p.data.size))
        .bind(5, p.etag)
        .bind(6, p.checksum)
        .bind(7, p.modified_ms)
        .run();
  });
}

Result<std::vector<PartRecord>> SqliteStore::list_parts(std::string_view upload_id, int after,
                                                        size_t limit) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT number, data_id, size, etag, checksum, modified_ms FROM "
                               "parts WHERE upload = ?1 AND number > ?2 ORDER BY number LIMIT ?3"));
  std::vector<PartRecord> out;
  LAMBENT_TRY_VOID(
      st->bind(1, upload_id).bind(2, after).bind(3, static_cast<int64_t>(limit)).each([&] {
        PartRecord p;
        p.upload_id = std::string(upload_id);
        p.number = static_cast<int>(st->integer(0));
        p.data = {st->text(1), static_cast<uint64_t>(st->integer(2))};
        p.etag = st->text(3);
        p.checksum = st->text(4);
        p.modified_ms = st->integer(5);
        out.push_back(std::move(p));
      }));
  return out;
}

Result<void> SqliteStore::complete_upload(std::string_view upload_id, const ObjectRecord& o,
                                          const ObjectCheck& check,
                                          const std::vector<AsyncEvent>& events) {
  return group_write([&]() -> Result<void> {
    LAMBENT_TRY(up, db_->prepare("SELECT 1 FROM uploads WHERE id = ?1"));
    bool found = false;
    LAMBENT_TRY_VOID(up->bind(1, upload_id).each([&] { found = true; }));
    if (!found) return make_error(Errc::kNotFound, "no such upload");
    LAMBENT_TRY_VOID(put_object_locked(o, check));
    for (const auto& e : events) LAMBENT_TRY_VOID(insert_event_locked(e));
    LAMBENT_TRY(parts, db_->prepare("SELECT data_id FROM parts WHERE upload = ?1"));
    std::vector<std::string> unused;
    LAMBENT_TRY_VOID(parts->bind(1, upload_id).each([&] {
      std::string id = parts->text(0);
      bool used = false;
      for (const auto& p : o.pieces) used = used || p.id == id;
      if (!used) unused.push_back(std::move(id));
    }));
    for (const auto& id : unused) LAMBENT_TRY_VOID(add_garbage_locked(id));
    LAMBENT_TRY(dp, db_->prepare("DELETE FROM parts WHERE upload = ?1"));
    LAMBENT_TRY_VOID(dp->bind(1, upload_id).run());
    LAMBENT_TRY(du, db_->prepare("DELETE FROM uploads WHERE id = ?1"));
    return du->bind(1, upload_id).run();
  });
}

Result<void> SqliteStore::abort_upload(std::string_view id) {
  return group_write([&]() -> Result<void> {
    LAMBENT_TRY(up, db_->prepare("SELECT 1 FROM uploads WHERE id = ?1"));
    bool found = false;
    LAMBENT_TRY_VOID(up->bind(1, id).each([&] { found = true; }));
    if (!found) return make_error(Errc::kNotFound, "no such upload");
    LAMBENT_TRY(parts, db_->prepare("SELECT data_id FROM parts WHERE upload = ?1"));
    std::vector<std::string> ids;
    LAMBENT_TRY_VOID(parts->bind(1, id).each([&] { ids.push_back(parts->text(0)); }));
    for (const auto& d : ids) LAMBENT_TRY_VOID(add_garbage_locked(d));
    LAMBENT_TRY(dp, db_->prepare("DELETE FROM parts WHERE upload = ?1"));
    LAMBENT_TRY_VOID(dp->bind(1, id).run());
    LAMBENT_TRY(du, db_->prepare("DELETE FROM uploads WHERE id = ?1"));
    return du->bind(1, id).run();
  });
}

Result<std::vector<std::string>> SqliteStore::object_garbage(size_t limit) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT id FROM object_garbage LIMIT ?1"));
  std::vector<std::string> out;
  LAMBENT_TRY_VOID(
      st->bind(1, static_cast<int64_t>(limit)).each([&] { out.push_back(st->text(0)); }));
  return out;
}

Result<void> SqliteStore::forget_object_garbage(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  return group_write([&]() -> Result<void> {
    for (const auto& id : ids) {
      LAMBENT_TRY(st, db_->prepare("DELETE FROM object_garbage WHERE id = ?1"));
      LAMBENT_TRY_VOID(st->bind(1, id).run());
    }
    return {};
  });
}

Result<bool> SqliteStore::object_data_referenced(std::string_view id) {
  std::lock_guard lock(mu_);
  bool found = false;
  LAMBENT_TRY(p, db_->prepare("SELECT 1 FROM parts WHERE data_id = ?1 LIMIT 1"));
  LAMBENT_TRY_VOID(p->bind(1, id).each([&] { found = true; }));
  if (found) return true;
  // Recovery only (after a crash left a data file in flight): a scan is fine.
  LAMBENT_TRY(o, db_->prepare("SELECT 1 FROM objects WHERE instr(pieces, ?1) > 0 LIMIT 1"));
  LAMBENT_TRY_VOID(o->bind(1, id).each([&] { found = true; }));
  return found;
}

}  // namespace lambent::store

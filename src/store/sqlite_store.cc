#include "store/sqlite_store.h"

#include "store/stored_json.h"

#include <boost/json.hpp>

namespace lambent::store {
namespace json = boost::json;
namespace {

// The stored configuration's members: one table for writing and reading them back.
constexpr std::pair<const char*, std::string FunctionConfig::*> kConfigText[] = {
    {"runtime", &FunctionConfig::runtime},
    {"handler", &FunctionConfig::handler},
    {"role", &FunctionConfig::role},
    {"description", &FunctionConfig::description},
    {"architecture", &FunctionConfig::architecture},
    {"tracing_mode", &FunctionConfig::tracing_mode},
    {"dead_letter_target", &FunctionConfig::dead_letter_target},
    {"kms_key_arn", &FunctionConfig::kms_key_arn},
    {"log_format", &FunctionConfig::log_format},
    {"application_log_level", &FunctionConfig::application_log_level},
    {"system_log_level", &FunctionConfig::system_log_level},
    {"log_group", &FunctionConfig::log_group},
    {"snap_start_apply_on", &FunctionConfig::snap_start_apply_on},
};
constexpr std::pair<const char*, int FunctionConfig::*> kConfigInt[] = {
    {"timeout", &FunctionConfig::timeout},
    {"memory_size", &FunctionConfig::memory_size},
    {"ephemeral_storage", &FunctionConfig::ephemeral_storage},
};

json::object config_to_json(const FunctionConfig& c) {
  json::object o;
  for (const auto& [key, member] : kConfigText) o[key] = c.*member;
  for (const auto& [key, member] : kConfigInt) o[key] = c.*member;
  json::array layers;
  for (const auto& l : c.layers) {
    layers.emplace_back(json::object{{"arn", l.arn},
                                     {"digest", l.digest_hex},
                                     {"size", l.code_size},
                                     {"unzipped", l.unzipped_size}});
  }
  o["layers"] = std::move(layers);
  return o;
}

Result<FunctionConfig> config_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(Errc::kCorrupt, "stored configuration is not JSON");
  const auto& o = v.as_object();
  FunctionConfig c;
  for (const auto& [key, member] : kConfigText) {
    if (auto* p = o.if_contains(key); p && p->is_string()) c.*member = p->as_string();
  }
  for (const auto& [key, member] : kConfigInt) {
    if (auto* p = o.if_contains(key); p && p->is_int64()) c.*member = static_cast<int>(p->as_int64());
  }
  if (auto* p = o.if_contains("layers"); p && p->is_array()) {
    for (const auto& l : p->as_array()) {
      if (!l.is_object()) continue;
      const auto& lo = l.as_object();
      LayerRef ref;
      if (auto* a = lo.if_contains("arn"); a && a->is_string()) ref.arn = a->as_string();
      if (auto* d = lo.if_contains("digest"); d && d->is_string()) ref.digest_hex = d->as_string();
      if (auto* n = lo.if_contains("size"); n && n->is_int64()) ref.code_size = n->as_int64();
      if (auto* n = lo.if_contains("unzipped"); n && n->is_int64()) ref.unzipped_size = n->as_int64();
      c.layers.push_back(std::move(ref));
    }
  }
  return c;
}

std::string env_aad(std::string_view function, std::string_view version) {
  return "lambent-env:" + std::string(function) + ":" + std::string(version);
}

int64_t version_seq(const FunctionVersion& v) {
  return v.version == kLatest ? 0 : std::stoll(v.version);
}

std::string extras_to_json(const Function& f) {
  json::array aliases;
  for (const auto& a : f.aliases) {
    json::object w;
    for (const auto& [v, weight] : a.additional_weights) w[v] = weight;
    aliases.emplace_back(json::object{{"name", a.name},
                                      {"version", a.function_version},
                                      {"description", a.description},
                                      {"weights", std::move(w)},
                                      {"revision", a.revision_id}});
  }
  json::array provisioned;
  for (const auto& p : f.provisioned) {
    provisioned.emplace_back(json::object{{"qualifier", p.qualifier},
                                          {"requested", p.requested},
                                          {"modified", p.last_modified_ms}});
  }
  json::array events;
  for (const auto& c : f.event_configs) {
    json::object e{{"qualifier", c.qualifier},
                   {"on_success", c.on_success},
                   {"on_failure", c.on_failure},
                   {"modified", c.last_modified_ms}};
    if (c.max_retry_attempts) e["max_retry"] = *c.max_retry_attempts;
    if (c.max_event_age_seconds) e["max_age"] = *c.max_event_age_seconds;
    events.push_back(std::move(e));
  }
  json::array urls;
  for (const auto& u : f.urls) {
    urls.emplace_back(json::object{{"qualifier", u.qualifier},
                                   {"id", u.url_id},
                                   {"auth", u.auth_type},
                                   {"cors", u.cors},
                                   {"mode", u.invoke_mode},
                                   {"created", u.created_ms},
                                   {"modified", u.modified_ms}});
  }
  json::object o{{"aliases", std::move(aliases)},
                 {"provisioned", std::move(provisioned)},
                 {"event_configs", std::move(events)},
                 {"urls", std::move(urls)}};
  if (f.reserved_concurrency) o["reserved"] = *f.reserved_concurrency;
  return json::serialize(o);
}

Result<void> extras_from_json(std::string_view text, Function& f) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(Errc::kCorrupt, "stored function extras are not JSON");
  const auto& o = v.as_object();
  auto str = [](const json::object& x, const char* k) {
    auto* p = x.if_contains(k);
    return p && p->is_string() ? std::string(p->as_string()) : std::string();
  };
  auto num = [](const json::object& x, const char* k) -> int64_t {
    auto* p = x.if_contains(k);
    return p && p->is_int64() ? p->as_int64() : 0;
  };
  // Each object of the array member `key`; anything else there is skipped.
  auto each = [&o](const char* key, const auto& fn) {
    auto* a = o.if_contains(key);
    if (!a || !a->is_array()) return;
    for (const auto& e : a->as_array()) {
      if (e.is_object()) fn(e.as_object());
    }
  };
  each("aliases", [&](const json::object& ao) {
    Alias al{str(ao, "name"), str(ao, "version"), str(ao, "description"), {}, str(ao, "revision")};
    if (auto* w = ao.if_contains("weights"); w && w->is_object()) {
      for (const auto& [k, val] : w->as_object()) {
        if (val.is_number()) al.additional_weights[std::string(k)] = val.to_number<double>();
      }
    }
    f.aliases.push_back(std::move(al));
  });
  each("provisioned", [&](const json::object& po) {
    f.provisioned.push_back({str(po, "qualifier"), num(po, "requested"), num(po, "modified")});
  });
  if (auto* r = o.if_contains("reserved"); r && r->is_int64()) f.reserved_concurrency = r->as_int64();
  each("event_configs", [&](const json::object& eo) {
    EventInvokeConfig c;
    c.qualifier = str(eo, "qualifier");
    if (eo.contains("max_retry")) c.max_retry_attempts = num(eo, "max_retry");
    if (eo.contains("max_age")) c.max_event_age_seconds = num(eo, "max_age");
    c.on_success = str(eo, "on_success");
    c.on_failure = str(eo, "on_failure");
    c.last_modified_ms = num(eo, "modified");
    f.event_configs.push_back(std::move(c));
  });
  each("urls", [&](const json::object& uo) {
    f.urls.push_back({str(uo, "qualifier"), str(uo, "id"), str(uo, "auth"), str(uo, "cors"),
                      str(uo, "mode"), num(uo, "created"), num(uo, "modified")});
  });
  return {};
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const Cipher& cipher) {
  LAMBENT_TRY(db, Database::open(path));
  std::unique_ptr<SqliteStore> s(new SqliteStore(std::move(db), cipher));
  LAMBENT_TRY_VOID(s->migrate());
  return s;
}

Result<void> SqliteStore::migrate() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY_VOID(db_->migrate(kMigrations, kMigrationCount, "database"));
  schema_version_ = static_cast<int>(kMigrationCount);
  return {};
}

Result<void> SqliteStore::write_function_row_locked(const Function& f, bool insert) {
  json::object policies;
  for (const auto& [q, p] : f.policies) policies[q] = p;
  const char* sql = insert ? "INSERT INTO functions(tags, policies, next_version, created_ms, name, "
                             "extras) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                           : "UPDATE functions SET tags = ?1, policies = ?2, next_version = ?3, "
                             "created_ms = ?4, extras = ?6 WHERE name = ?5";
  LAMBENT_TRY(st, db_->prepare(sql));
  st->bind(1, map_to_json(f.tags))
      .bind(2, json::serialize(policies))
      .bind(3, f.next_version)
      .bind(4, f.created_ms)
      .bind(5, f.name)
      .bind(6, extras_to_json(f));
  return st->run();
}

Result<void> SqliteStore::write_version_locked(const std::string& name, const FunctionVersion& v,
                                               bool replace) {
  const char* sql =
      replace ? "INSERT OR REPLACE INTO versions VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
              : "INSERT INTO versions VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
  LAMBENT_TRY(st, db_->prepare(sql));
  st->bind(1, name).bind(2, v.version).bind(3, version_seq(v));
  st->bind(4, json::serialize(config_to_json(v.config)));
  if (v.config.environment) {
    st->bind_blob(5, cipher_.seal(map_to_json(*v.config.environment), env_aad(name, v.version)));
  } else {
    st->bind_null(5);
  }
  st->bind(6, v.code.digest_hex)
      .bind(7, v.code.sha256_b64)
      .bind(8, v.code.size)
      .bind(9, v.revision_id)
      .bind(10, v.last_modified_ms)
      .bind(11, v.state)
      .bind(12, v.last_update_status);
  return st->run();
}

Result<void> SqliteStore::create_function(const Function& f) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  auto inserted = write_function_row_locked(f, true);
  if (!inserted) {
    if (inserted.error().code == Errc::kAlreadyExists) {
      return make_error(Errc::kAlreadyExists, "Function already exist: " + f.name);
    }
    return inserted.error();
  }
  LAMBENT_TRY_VOID(write_version_locked(f.name, f.latest, false));
  for (const auto& v : f.versions) LAMBENT_TRY_VOID(write_version_locked(f.name, v, false));
  return tx.commit();
}

Result<Function> SqliteStore::load_locked(std::string_view name) {
  Function f;
  {
    LAMBENT_TRY(st, db_->prepare(
                        "SELECT name, created_ms, tags, policies, next_version, extras "
                        "FROM functions WHERE name = ?1"));
    st->bind(1, name);
    LAMBENT_TRY(row, st->step());
    if (!row) return make_error(Errc::kNotFound, "Function not found: " + std::string(name));
    f.name = st->text(0);
    f.created_ms = st->integer(1);
    LAMBENT_TRY(tags, map_from_json(st->text(2)));
    f.tags = std::move(tags);
    LAMBENT_TRY(policies, map_from_json(st->text(3)));
    f.policies = std::move(policies);
    f.next_version = st->integer(4);
    std::string extras = st->text(5);
    st->reset();
    LAMBENT_TRY_VOID(extras_from_json(extras, f));
  }
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT version, config, env, code_digest, code_sha256, code_size, "
                      "revision_id, last_modified_ms, state, update_status FROM versions "
                      "WHERE function = ?1 ORDER BY seq"));
  st->bind(1, f.name);
  bool have_latest = false;
  for (;;) {
    LAMBENT_TRY(row, st->step());
    if (!row) break;
    FunctionVersion v;
    v.version = st->text(0);
    LAMBENT_TRY(config, config_from_json(st->text(1)));
    v.config = std::move(config);
    if (!st->is_null(2)) {
      auto plain = cipher_.open(st->blob(2), env_aad(f.name, v.version));
      if (!plain) {
        st->reset();
        return make_error(Errc::kCorrupt, "environment of " + f.name + ":" + v.version +
                                              " failed decryption: " + plain.error().message);
      }
      LAMBENT_TRY(env, map_from_json(*plain));
      v.config.environment = std::move(env);
    }
    v.code.digest_hex = st->text(3);
    v.code.sha256_b64 = st->text(4);
    v.code.size = st->integer(5);
    v.revision_id = st->text(6);
    v.last_modified_ms = st->integer(7);
    v.state = st->text(8);
    v.last_update_status = st->text(9);
    if (v.version == kLatest) {
      f.latest = std::move(v);
      have_latest = true;
    } else {
      f.versions.push_back(std::move(v));
    }
  }
  st->reset();
  if (!have_latest) return make_error(Errc::kCorrupt, "function " + f.name + " has no $LATEST");
  return f;
}

Result<Function> SqliteStore::get_function(std::string_view name) {
  std::lock_guard lock(mu_);
  return load_locked(name);
}

Result<std::vector<std::string>> SqliteStore::names_after_locked(const char* table,
                                                                std::string_view after,
                                                                size_t limit) {
  LAMBENT_TRY(st, db_->prepare(std::string("SELECT name FROM ") + table +
                               " WHERE name > ?1 ORDER BY name LIMIT ?2"));
  st->bind(1, after).bind(2, static_cast<int64_t>(limit));
  std::vector<std::string> names;
  LAMBENT_TRY_VOID(st->each([&] {
    names.push_back(st->text(0));
  }));
  return names;
}

template <class T>
Result<std::vector<T>> SqliteStore::list_locked(const char* table, std::string_view after,
                                                size_t limit,
                                                Result<T> (SqliteStore::*load)(std::string_view)) {
  LAMBENT_TRY(names, names_after_locked(table, after, limit));
  std::vector<T> out;
  for (const auto& n : names) {
    LAMBENT_TRY(loaded, (this->*load)(n));
    out.push_back(std::move(loaded));
  }
  return out;
}

Result<std::vector<Function>> SqliteStore::list_functions(std::string_view after, size_t limit) {
  std::lock_guard lock(mu_);
  return list_locked("functions", after, limit, &SqliteStore::load_locked);
}

Result<Function> SqliteStore::update_function(
    std::string_view name, const std::function<Result<void>(Function&)>& mutate) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  LAMBENT_TRY(f, load_locked(name));
  const size_t published_before = f.versions.size();
  const std::string original_name = f.name;
  LAMBENT_TRY_VOID(mutate(f));
  if (f.name != original_name || f.versions.size() < published_before) {
    std::fprintf(stderr, "fatal: update_function may not rename or drop published versions\n");
    std::abort();
  }
  LAMBENT_TRY_VOID(write_function_row_locked(f, false));
  LAMBENT_TRY_VOID(write_version_locked(f.name, f.latest, true));
  for (size_t i = published_before; i < f.versions.size(); ++i) {
    LAMBENT_TRY_VOID(write_version_locked(f.name, f.versions[i], false));
  }
  LAMBENT_TRY_VOID(tx.commit());
  return f;
}

Result<Function> SqliteStore::delete_function(std::string_view name) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  LAMBENT_TRY(f, load_locked(name));
  LAMBENT_TRY(st, db_->prepare("DELETE FROM functions WHERE name = ?1"));
  st->bind(1, f.name);
  LAMBENT_TRY_VOID(st->run());
  LAMBENT_TRY_VOID(tx.commit());
  return f;
}

Result<FunctionVersion> SqliteStore::delete_version(
    std::string_view name, std::string_view version,
    const std::function<Result<void>(const Function&)>& check) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  LAMBENT_TRY(f, load_locked(name));
  for (const auto& v : f.versions) {
    if (v.version != version) continue;
    LAMBENT_TRY_VOID(check(f));
    // Provisioned concurrency of the version goes with it.
    if (std::erase_if(f.provisioned, [&](const auto& p) { return p.qualifier == version; })) {
      LAMBENT_TRY_VOID(write_function_row_locked(f, false));
    }
    LAMBENT_TRY(st, db_->prepare("DELETE FROM versions WHERE function = ?1 AND version = ?2"));
    st->bind(1, f.name).bind(2, v.version);
    LAMBENT_TRY_VOID(st->run());
    LAMBENT_TRY_VOID(tx.commit());
    return v;
  }
  return make_error(Errc::kNotFound, "Function not found: " + f.name + ":" + std::string(version));
}

Result<std::map<std::string, int64_t>> SqliteStore::reserved_concurrency() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT name, json_extract(extras, '$.reserved') FROM functions "
                      "WHERE json_type(extras, '$.reserved') = 'integer'"));
  std::map<std::string, int64_t> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out[st->text(0)] = st->integer(1);
  }));
  return out;
}

Result<std::set<std::string>> SqliteStore::referenced_code() {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT code_digest FROM versions "
                      "UNION SELECT code_digest FROM layer_versions WHERE deleted = 0 "
                      "UNION SELECT json_extract(j.value, '$.digest') FROM versions, "
                      "json_each(versions.config, '$.layers') AS j WHERE j.type = 'object'"));
  std::set<std::string> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.insert(st->text(0));
  }));
  return out;
}

Result<AccountUsage> SqliteStore::account_usage() {
  std::lock_guard lock(mu_);
  AccountUsage u;
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT (SELECT count(*) FROM functions), "
                      "(SELECT coalesce(sum(code_size), 0) FROM versions) + "
                      "(SELECT coalesce(sum(code_size), 0) FROM layer_versions WHERE deleted = 0)"));
  LAMBENT_TRY(row, st->step());
  if (row) {
    u.function_count = st->integer(0);
    u.total_code_size = st->integer(1);
  }
  st->reset();
  return u;
}

Result<Layer> SqliteStore::load_layer_locked(std::string_view name) {
  Layer l;
  {
    LAMBENT_TRY(st, db_->prepare("SELECT name, next_version FROM layers WHERE name = ?1"));
    st->bind(1, name);
    LAMBENT_TRY(row, st->step());
    if (!row) return make_error(Errc::kNotFound, "Layer not found: " + std::string(name));
    l.name = st->text(0);
    l.next_version = st->integer(1);
    st->reset();
  }
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT version, meta, code_digest, code_sha256, code_size, created_ms, "
                      "deleted FROM layer_versions WHERE layer = ?1 ORDER BY version"));
  st->bind(1, l.name);
  for (;;) {
    LAMBENT_TRY(row, st->step());
    if (!row) break;
    LayerVersion v;
    v.version = st->integer(0);
    boost::system::error_code ec;
    json::value meta = json::parse(st->text(1), ec);
    if (ec || !meta.is_object()) {
      st->reset();
      return make_error(Errc::kCorrupt, "stored layer metadata is not JSON");
    }
    const auto& m = meta.as_object();
    auto str = [&](const char* k) {
      auto* p = m.if_contains(k);
      return p && p->is_string() ? std::string(p->as_string()) : std::string();
    };
    auto list = [&](const char* k) {
      std::vector<std::string> out;
      if (auto* p = m.if_contains(k); p && p->is_array()) {
        for (const auto& x : p->as_array()) {
          if (x.is_string()) out.emplace_back(x.as_string());
        }
      }
      return out;
    };
    v.description = str("description");
    v.license = str("license");
    v.policy = str("policy");
    v.policy_revision = str("policy_revision");
    v.compatible_runtimes = list("runtimes");
    v.compatible_architectures = list("architectures");
    if (auto* u = m.if_contains("unzipped"); u && u->is_int64()) v.unzipped_size = u->as_int64();
    v.code.digest_hex = st->text(2);
    v.code.sha256_b64 = st->text(3);
    v.code.size = st->integer(4);
    v.created_ms = st->integer(5);
    v.deleted = st->integer(6) != 0;
    l.versions.push_back(std::move(v));
  }
  st->reset();
  return l;
}

Result<Layer> SqliteStore::get_layer(std::string_view name) {
  std::lock_guard lock(mu_);
  return load_layer_locked(name);
}

Result<std::vector<Layer>> SqliteStore::list_layers(std::string_view after, size_t limit) {
  std::lock_guard lock(mu_);
  return list_locked("layers", after, limit, &SqliteStore::load_layer_locked);
}

Result<Layer> SqliteStore::update_layer(std::string_view name,
                                        const std::function<Result<void>(Layer&)>& mutate,
                                        bool create) {
  std::lock_guard lock(mu_);
  LAMBENT_TRY(tx, Transaction::begin(*db_));
  auto loaded = load_layer_locked(name);
  Layer l;
  if (loaded) {
    l = std::move(*loaded);
  } else if (loaded.error().code == Errc::kNotFound && create) {
    l.name = std::string(name);
  } else {
    return loaded.error();
  }
  const size_t before = l.versions.size();
  LAMBENT_TRY_VOID(mutate(l));
  if (l.name != name || l.versions.size() < before) {
    std::fprintf(stderr, "fatal: update_layer may not rename or drop layer versions\n");
    std::abort();
  }
  {
    LAMBENT_TRY(st, db_->prepare(
                        "INSERT INTO layers(name, next_version) VALUES (?1, ?2) "
                        "ON CONFLICT(name) DO UPDATE SET next_version = excluded.next_version"));
    st->bind(1, l.name).bind(2, l.next_version);
    LAMBENT_TRY_VOID(st->run());
  }
  for (const auto& v : l.versions) {
    json::object meta{{"description", v.description},
                      {"license", v.license},
                      {"policy", v.policy},
                      {"policy_revision", v.policy_revision},
                      {"unzipped", v.unzipped_size},
                      {"runtimes", json::parse(strings_json(v.compatible_runtimes))},
                      {"architectures", json::parse(strings_json(v.compatible_architectures))}};
    LAMBENT_TRY(st, db_->prepare(
                        "INSERT OR REPLACE INTO layer_versions VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"));
    st->bind(1, l.name)
        .bind(2, v.version)
        .bind(3, json::serialize(meta))
        .bind(4, v.code.digest_hex)
        .bind(5, v.code.sha256_b64)
        .bind(6, v.code.size)
        .bind(7, v.created_ms)
        .bind(8, static_cast<int64_t>(v.deleted ? 1 : 0));
    LAMBENT_TRY_VOID(st->run());
  }
  LAMBENT_TRY_VOID(tx.commit());
  return l;
}

}  // namespace lambent::store

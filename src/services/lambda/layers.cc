// Layers: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayers,
// ListLayerVersions, DeleteLayerVersion and the layer version permissions (compat §1.7, §1.8).
// Layer zips live in the same sealed code store as function code.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <regex>

#include "services/lambda/errors.h"
#include "services/lambda/paging.h"
#include "services/lambda/json_body.h"
#include "services/lambda/function_config.h"
#include "services/lambda/lambda_api.h"
#include "base/codec.h"
#include "base/time.h"
#include "blob/zip.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kListPageMax = 50;
constexpr const char* kNoSuchLayer = "The resource you requested does not exist.";

// {LayerName} in a path: a name or a layer ARN of this node.
std::string layer_name(const std::string& value, const Names& names) {
  static const std::regex kName("[a-zA-Z0-9-_]+");
  static const std::regex kArn("arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\\d{12}):layer:([a-zA-Z0-9-_]+)");
  std::smatch m;
  if (value.size() <= 140 && std::regex_match(value, kName)) return value;
  if (value.size() <= 140 && std::regex_match(value, m, kArn)) {
    if (m[1] != names.region || m[2] != names.account_id) throw_not_found(kNoSuchLayer);
    return m[3];
  }
  throw_validation(fmt::format(
      "1 validation error detected: Value '{}' at 'layerName' failed to satisfy constraint: "
      "Member must satisfy regular expression pattern: "
      "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
      value));
}

int64_t version_number(const std::string& text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size()) {
    throw_validation("1 validation error detected: Value '" + text +
                     "' at 'versionNumber' failed to satisfy constraint: Member must be a number");
  }
  return n;
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

bool matches(const store::LayerVersion& v, const std::optional<std::string>& runtime,
             const std::optional<std::string>& arch) {
  auto has = [](const std::vector<std::string>& xs, const std::string& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  };
  return (!runtime || has(v.compatible_runtimes, *runtime)) &&
         (!arch || has(v.compatible_architectures, *arch));
}

// The layer version whose policy changes, checked against the caller's RevisionId.
Result<store::LayerVersion*> policy_target(store::Layer& l, int64_t n,
                                           const std::optional<std::string>& revision) {
  store::LayerVersion* v = l.find(n);
  if (!v) return make_error(Errc::kNotFound, kNoSuchLayer);
  if (revision && *revision != v->policy_revision) {
    return make_error(Errc::kPreconditionFailed,
                      "The Revision Id provided does not match the latest Revision Id. Call the "
                      "GetLayerPolicy API to retrieve the latest Revision Id");
  }
  return v;
}

}  // namespace

std::string LambdaApi::layer_arn(const std::string& name) const {
  return names_.layer_arn(name);
}

json::object LambdaApi::layer_version_json(const store::Layer& l, const store::LayerVersion& v,
                                           bool content) const {
  json::object o;
  if (content) {
    o["Content"] = json::object{{"Location", code_location(v.code.digest_hex)},
                                {"CodeSha256", v.code.sha256_b64},
                                {"CodeSize", v.code.size}};
    o["LayerArn"] = layer_arn(l.name);
  }
  o["LayerVersionArn"] = layer_arn(l.name) + ":" + std::to_string(v.version);
  o["Description"] = v.description;
  o["CreatedDate"] = format_timestamp(v.created_ms);
  o["Version"] = v.version;
  if (!v.compatible_runtimes.empty()) o["CompatibleRuntimes"] = strings(v.compatible_runtimes);
  if (!v.compatible_architectures.empty()) {
    o["CompatibleArchitectures"] = strings(v.compatible_architectures);
  }
  if (!v.license.empty()) o["LicenseInfo"] = v.license;
  return o;
}

http::Response LambdaApi::publish_layer_version(http::Request& req) {
  std::string name = layer_name(req.label("LayerName"), names_);
  JsonBody body(req.body);
  body.only({"Description", "Content", "CompatibleRuntimes", "LicenseInfo",
             "CompatibleArchitectures"});
  auto content = body.object("Content");
  if (auto missing = body.missing({{"Content", "content"}}); !missing.empty()) {
    throw_validation_errors(missing);
  }
  content->only({"S3Bucket", "S3Key", "S3ObjectVersion", "ZipFile"});
  store::LayerVersion v;
  v.description = body.str("Description").value_or("");
  v.license = body.str("LicenseInfo").value_or("");
  v.compatible_runtimes = body.str_list("CompatibleRuntimes").value_or(std::vector<std::string>{});
  v.compatible_architectures =
      body.str_list("CompatibleArchitectures").value_or(std::vector<std::string>{});
  std::vector<std::string> violations;
  if (v.description.size() > 256) {
    violations.push_back(fmt::format("Value '{}' at 'description' failed to satisfy constraint: "
                                     "Member must have length less than or equal to 256",
                                     v.description));
  }
  if (v.license.size() > 512) {
    violations.push_back(fmt::format("Value '{}' at 'licenseInfo' failed to satisfy constraint: "
                                     "Member must have length less than or equal to 512",
                                     v.license));
  }
  if (v.compatible_runtimes.size() > 15) {
    violations.push_back("Value at 'compatibleRuntimes' failed to satisfy constraint: Member must "
                         "have length less than or equal to 15");
  }
  for (size_t i = 0; i < v.compatible_runtimes.size(); ++i) {
    if (!runtime_supported(v.compatible_runtimes[i])) {
      violations.push_back(fmt::format(
          "Value '{}' at 'compatibleRuntimes.{}.member' failed to satisfy constraint: Member must "
          "satisfy enum value set",
          v.compatible_runtimes[i], i + 1));
    }
  }
  if (v.compatible_architectures.size() > 2) {
    violations.push_back("Value at 'compatibleArchitectures' failed to satisfy constraint: Member "
                         "must have length less than or equal to 2");
  }
  for (size_t i = 0; i < v.compatible_architectures.size(); ++i) {
    const auto& a = v.compatible_architectures[i];
    if (a != "x86_64" && a != "arm64") {
      violations.push_back(fmt::format(
          "Value '{}' at 'compatibleArchitectures.{}.member' failed to satisfy constraint: Member "
          "must satisfy enum value set: [x86_64, arm64]",
          a, i + 1));
    }
  }
  if (!violations.empty()) throw_validation_errors(violations);
  if (!content->has("S3Bucket") && !content->has("S3Key") && !content->has("ZipFile")) {
    throw_invalid_parameter("Please provide a source for the layer content.");
  }
  std::string zip = package_bytes(*content, req);

  std::shared_lock lock(code_lock_);
  blob::CodeInfo info = put_code(zip);
  v.code = {info.digest_hex, info.sha256_b64, info.size};
  v.unzipped_size = static_cast<int64_t>(info.unzipped_size);
  v.created_ms = now_ms();
  auto stored = deps_.store.update_layer(
      name,
      [&](store::Layer& l) -> Result<void> {
        v.version = l.next_version++;
        l.versions.push_back(v);
        return {};
      },
      true);
  lock.unlock();
  if (!stored) {
    drop_unreferenced_code({info.digest_hex});
    throw_error(stored.error());
  }
  return json_response(201, layer_version_json(*stored, v, true));
}

store::Layer LambdaApi::load_layer(const std::string& name) {
  auto l = deps_.store.get_layer(name);
  if (!l && l.error().code == Errc::kNotFound) throw_not_found(kNoSuchLayer);
  return unwrap(std::move(l));
}

store::LayerVersion LambdaApi::path_layer_version(const http::Request& req, store::Layer& layer) {
  layer = load_layer(layer_name(req.label("LayerName"), names_));
  const store::LayerVersion* v = layer.find(version_number(req.label("VersionNumber")));
  if (!v) throw_not_found(kNoSuchLayer);
  return *v;
}

http::Response LambdaApi::get_layer_version(http::Request& req) {
  store::Layer l;
  store::LayerVersion v = path_layer_version(req, l);
  return json_response(200, layer_version_json(l, v, true));
}

http::Response LambdaApi::get_layer_version_by_arn(http::Request& req) {
  std::string arn = req.query_param("Arn").value_or("");
  static const std::regex kArn(
      "arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)");
  std::smatch m;
  if (arn.size() > 140 || !std::regex_match(arn, m, kArn)) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at 'arn' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: "
        "(arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:"
        "layer:[a-zA-Z0-9-_]+:[0-9]+)",
        arn));
  }
  if (m[1] != names_.region || m[2] != names_.account_id) throw_not_found(kNoSuchLayer);
  store::Layer l = load_layer(m[3]);
  const store::LayerVersion* v = l.find(version_number(m[4]));
  if (!v) throw_not_found(kNoSuchLayer);
  return json_response(200, layer_version_json(l, *v, true));
}

http::Response LambdaApi::list_layers(http::Request& req) {
  size_t max_items = parse_max_items(req, kListPageMax);
  auto runtime = req.query_param("CompatibleRuntime");
  auto arch = req.query_param("CompatibleArchitecture");
  Pager pager(req, max_items);
  std::string cursor = pager.marker();
  json::array items;
  while (!pager.full()) {
    auto batch = unwrap(deps_.store.list_layers(cursor, kListPageMax));
    for (const auto& l : batch) {
      cursor = l.name;
      const store::LayerVersion* latest = nullptr;
      for (const auto& v : l.versions) {
        if (!v.deleted && matches(v, runtime, arch)) latest = &v;
      }
      if (latest && pager.take(l.name)) {
        items.push_back(
            json::object{{"LayerName", l.name},
                         {"LayerArn", layer_arn(l.name)},
                         {"LatestMatchingVersion", layer_version_json(l, *latest, false)}});
      }
      if (pager.full()) break;
    }
    if (batch.size() < kListPageMax) break;
  }
  json::object out{{"Layers", std::move(items)}};
  pager.finish(out);
  return json_response(200, out);
}

http::Response LambdaApi::list_layer_versions(http::Request& req) {
  std::string name = layer_name(req.label("LayerName"), names_);
  size_t max_items = parse_max_items(req, kListPageMax);
  auto runtime = req.query_param("CompatibleRuntime");
  auto arch = req.query_param("CompatibleArchitecture");
  int64_t before = INT64_MAX;
  if (auto marker = req.query_param("Marker")) before = version_number(*marker);
  json::array items;
  int64_t last = 0;
  bool more = false;
  auto l = deps_.store.get_layer(name);
  if (!l && l.error().code != Errc::kNotFound) throw_error(l.error());
  if (l) {
    // Newest first, as AWS lists them.
    for (auto it = l->versions.rbegin(); it != l->versions.rend(); ++it) {
      if (it->deleted || it->version >= before || !matches(*it, runtime, arch)) continue;
      if (items.size() == max_items) {
        more = true;
        break;
      }
      items.push_back(layer_version_json(*l, *it, false));
      last = it->version;
    }
  }
  json::object out{{"LayerVersions", std::move(items)}};
  if (more) out["NextMarker"] = std::to_string(last);
  return json_response(200, out);
}

http::Response LambdaApi::delete_layer_version(http::Request& req) {
  std::string name = layer_name(req.label("LayerName"), names_);
  int64_t n = version_number(req.label("VersionNumber"));
  std::string digest;
  auto r = deps_.store.update_layer(
      name,
      [&](store::Layer& l) -> Result<void> {
        if (store::LayerVersion* v = l.find(n)) {
          v->deleted = true;
          digest = v->code.digest_hex;
        }
        return {};
      },
      false);
  if (!r && r.error().code != Errc::kNotFound) throw_error(r.error());
  // Functions that use the version keep its code: it stays referenced through their layers.
  if (!digest.empty()) drop_unreferenced_code({digest});
  return no_content();
}

http::Response LambdaApi::add_layer_version_permission(http::Request& req) {
  std::string name = layer_name(req.label("LayerName"), names_);
  int64_t n = version_number(req.label("VersionNumber"));
  JsonBody body(req.body);
  body.only({"StatementId", "Action", "Principal", "OrganizationId"});
  auto sid = body.str("StatementId");
  auto action = body.str("Action");
  auto principal = body.str("Principal");
  auto violations = body.missing({{"StatementId", "statementId"}, {"Action", "action"},
                                  {"Principal", "principal"}});
  static const std::regex kSid("([a-zA-Z0-9-_]+)");
  if (sid && (sid->size() > 100 || !std::regex_match(*sid, kSid))) {
    violations.push_back(fmt::format("Value '{}' at 'statementId' failed to satisfy constraint: "
                                     "Member must satisfy regular expression pattern: "
                                     "([a-zA-Z0-9-_]+)",
                                     *sid));
  }
  if (action && *action != "lambda:GetLayerVersion") {
    violations.push_back(fmt::format("Value '{}' at 'action' failed to satisfy constraint: Member "
                                     "must satisfy regular expression pattern: "
                                     "lambda:GetLayerVersion",
                                     *action));
  }
  static const std::regex kPrincipal("\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
  if (principal && !std::regex_match(*principal, kPrincipal)) {
    violations.push_back(fmt::format("Value '{}' at 'principal' failed to satisfy constraint: "
                                     "Member must satisfy regular expression pattern: "
                                     "\\d{{12}}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{{12}}:root",
                                     *principal));
  }
  if (!violations.empty()) throw_validation_errors(violations);
  auto revision = req.query_param("RevisionId");
  auto org = body.str("OrganizationId");
  json::object statement{{"Sid", *sid},
                         {"Effect", "Allow"},
                         {"Principal", principal_json(*principal)},
                         {"Action", *action},
                         {"Resource", layer_arn(name) + ":" + std::to_string(n)}};
  if (org) {
    statement["Condition"] =
        json::object{{"StringEquals", json::object{{"aws:PrincipalOrgID", *org}}}};
  }
  std::string new_revision =
      update_layer_policy(name, n, revision, [&](json::array& statements) -> Result<void> {
        for (const auto& s : statements) {
          if (s.as_object().at("Sid").as_string() == *sid) {
            return make_error(Errc::kConflict,
                              "The statement id (" + *sid + ") provided already exists. Please "
                              "provide a new statement id, or remove the existing statement.");
          }
        }
        statements.push_back(statement);
        return {};
      });
  return json_response(201, json::object{{"Statement", json::serialize(statement)},
                                         {"RevisionId", new_revision}});
}

http::Response LambdaApi::get_layer_version_policy(http::Request& req) {
  store::Layer l;
  store::LayerVersion v = path_layer_version(req, l);
  json::array statements = parse_statements(v.policy);
  if (statements.empty()) throw_not_found("No policy is associated with the given resource.");
  return json_response(200, json::object{{"Policy", policy_document(statements)},
                                         {"RevisionId", v.policy_revision}});
}

http::Response LambdaApi::remove_layer_version_permission(http::Request& req) {
  std::string name = layer_name(req.label("LayerName"), names_);
  int64_t n = version_number(req.label("VersionNumber"));
  const std::string sid = req.label("StatementId");
  auto revision = req.query_param("RevisionId");
  update_layer_policy(name, n, revision, [&](json::array& statements) -> Result<void> {
    auto before = statements.size();
    statements.erase(std::remove_if(statements.begin(), statements.end(),
                                    [&](const json::value& s) {
                                      return s.as_object().at("Sid").as_string() == sid;
                                    }),
                     statements.end());
    if (statements.size() == before) {
      return make_error(Errc::kNotFound, "Statement " + sid + " is not found in resource policy.");
    }
    return {};
  });
  return no_content();
}

std::string LambdaApi::update_layer_policy(const std::string& name, int64_t n,
                                           const std::optional<std::string>& revision,
                                           const std::function<Result<void>(json::array&)>& edit) {
  std::string new_revision;
  bool found = false;  // the layer exists (the update ran): see LambdaApi::mutate
  auto r = deps_.store.update_layer(
      name,
      [&](store::Layer& l) -> Result<void> {
        found = true;
        LAMBENT_TRY(v, policy_target(l, n, revision));
        json::array statements = parse_statements(v->policy);
        LAMBENT_TRY_VOID(edit(statements));
        v->policy = statements.empty() ? "" : json::serialize(statements);
        v->policy_revision = new_revision = uuid4();
        return {};
      },
      false);
  if (!r && r.error().code == Errc::kNotFound && !found) throw_not_found(kNoSuchLayer);
  unwrap(std::move(r));
  return new_revision;
}

// Fills in the layer versions a configuration names (new ARNs have no digest yet) and checks the
// unzipped size of code plus layers (compat §1.9).
void LambdaApi::resolve_layers(store::FunctionConfig& cfg, const std::string& code_digest) {
  static const std::regex kArn(
      "arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)");
  uint64_t total = 0;
  bool any = false;
  for (auto& ref : cfg.layers) {
    if (ref.digest_hex.empty()) {
      std::smatch m;
      if (!std::regex_match(ref.arn, m, kArn)) {
        throw_invalid_parameter("Layer version " + ref.arn + " does not exist.");
      }
      auto l = deps_.store.get_layer(m[3].str());
      const store::LayerVersion* v = nullptr;
      int64_t n = 0;
      std::from_chars(m[4].first.base(), m[4].second.base(), n);
      if (l) v = l->find(n);
      if (m[1] != names_.region || m[2] != names_.account_id || !v) {
        throw_not_found("Layer version " + ref.arn + " does not exist.");
      }
      ref.digest_hex = v->code.digest_hex;
      ref.code_size = v->code.size;
      ref.unzipped_size = v->unzipped_size;
    }
    total += static_cast<uint64_t>(ref.unzipped_size);
    any = true;
  }
  if (!any) return;
  auto code = deps_.code.unzipped_size(code_digest);
  if (code) total += *code;
  if (total > blob::kMaxUnzippedBytes) {
    throw_invalid_parameter(fmt::format(
        "Function code combined with layers exceeds the maximum allowed size of {} bytes. The "
        "actual size is {} bytes.",
        blob::kMaxUnzippedBytes, total));
  }
}

}  // namespace lambent::lambda

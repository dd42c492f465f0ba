// Function resource: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
// UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json.hpp>
#include <charconv>
#include <mutex>

#include "base/codec.h"
#include "base/time.h"
#include "services/lambda/errors.h"
#include "services/lambda/function_config.h"
#include "services/lambda/lambda_api.h"
#include "services/lambda/validation.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr int64_t kCodeUrlTtlSeconds = 600;  // AWS pre-signed URLs last about 10 minutes
constexpr size_t kListPageMax = 50;

// Lambda's RevisionId check (compat §1.9): 412 when the caller's view is stale.
void check_revision(const std::optional<std::string>& expected, const std::string& actual) {
  if (expected && *expected != actual) {
    throw_precondition_failed(kStaleRevision);
  }
}

}  // namespace

std::string LambdaApi::package_bytes(const JsonObject& code, const http::Request& req) {
  bool s3 = code.has("S3Bucket") || code.has("S3Key") || code.has("S3ObjectVersion");
  bool image = code.has("ImageUri");
  auto zip = code.str("ZipFile");
  if (int(s3) + int(image) + int(zip.has_value()) > 1) {
    throw_invalid_parameter("Please provide only one source for function code.");
  }
  if (image) throw_invalid_parameter("Lambent does not run container images; use a .zip package.");
  if (zip) {
    auto bytes = base64_decode(*zip);
    if (!bytes) {
      throw_invalid_content("Could not parse request body into json: ZipFile is not valid base64");
    }
    return std::move(*bytes);
  }
  if (!s3) throw_invalid_parameter("Please provide a source for function code.");
  auto bucket = code.str("S3Bucket");
  auto key = code.str("S3Key");
  if (!bucket || !key || bucket->empty() || key->empty()) {
    throw_invalid_parameter("Please provide both S3Bucket and S3Key for function code.");
  }
  if (code.has("S3ObjectVersion")) {
    throw_invalid_parameter(
        "Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error "
        "Message: The specified version does not exist. (Buckets of this "
        "server are not versioned.)");
  }
  if (!object_reader_) throw_invalid_parameter("This server has no object storage.");
  // Lambda reads the object with the caller's own permissions.
  try {
    rest_.authorize(req, {{"s3:GetObject", "arn:aws:s3:::" + *bucket + "/" + *key, {}}});
  } catch (const aws::ServiceError&) {
    throw aws::ServiceError(403, "AccessDeniedException",
                            "Your access has been denied by S3, please make sure your request "
                            "credentials have permission to GetObject for " +
                                *bucket + "/" + *key +
                                ". S3 Error Code: AccessDenied. S3 Error Message: Access "
                                "Denied");
  }
  // A package from a bucket may be larger than a direct upload (up to the unzipped limit).
  auto bytes = object_reader_(*bucket, *key, 250ull * 1024 * 1024);
  if (!bytes) {
    if (bytes.error().code == Errc::kNotFound) {
      bool no_key = bytes.error().message.starts_with("The specified key");
      throw_invalid_parameter(
          no_key ? "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                   "The specified key does not exist."
                 : "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                   "Message: The specified bucket does not exist");
    }
    if (bytes.error().code == Errc::kInvalidArgument) {
      throw_invalid_parameter("Unzipped size must be smaller than 262144000 bytes");
    }
    throw_error(bytes.error());
  }
  return std::move(*bytes);
}

// Publishes $LATEST as a new version unless the newest version already has the same code and
// configuration, as PublishVersion does (compat §1.9).
const store::FunctionVersion& publish(store::Function& f, const std::string& description) {
  if (!f.versions.empty()) {
    const auto& last = f.versions.back();
    store::FunctionConfig cfg = f.latest.config;
    cfg.description = last.config.description;
    if (last.code == f.latest.code && last.config == cfg) return last;
  }
  store::FunctionVersion v = f.latest;
  v.version = std::to_string(f.next_version++);
  v.revision_id = uuid4();
  v.last_modified_ms = now_ms();
  if (!description.empty()) v.config.description = description;
  f.versions.push_back(std::move(v));
  return f.versions.back();
}

namespace {
// The qualifier to show on FunctionArn when the caller named an alias.
std::string_view alias_qualifier(const store::Function& f, const std::optional<std::string>& q) {
  return q && f.find_alias(*q) ? std::string_view(*q) : std::string_view();
}
}  // namespace

size_t parse_max_items(const http::Request& req, size_t page_max) {
  auto m = req.query_param("MaxItems");
  if (!m) return page_max;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(m->data(), m->data() + m->size(), n);
  if (ec != std::errc() || p != m->data() + m->size()) {
    throw_validation("1 validation error detected: Value '" + *m +
                     "' at 'maxItems' failed to satisfy constraint: Member must be an integer");
  }
  if (n < 1 || n > 10000) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at 'maxItems' failed to satisfy constraint: "
        "Member must have value {} {}",
        n, n < 1 ? "greater than or equal to" : "less than or equal to", n < 1 ? 1 : 10000));
  }
  return std::min<size_t>(static_cast<size_t>(n), page_max);
}

store::Function LambdaApi::load(const std::string& name) {
  auto f = deps_.store.get_function(name);
  if (!f && f.error().code == Errc::kNotFound) {
    throw_not_found("Function not found: " + names_.function_arn(name));
  }
  return unwrap(std::move(f));
}

store::Function LambdaApi::mutate(const std::string& name,
                                  const std::function<Result<void>(store::Function&)>& fn,
                                  const char* stale_message) {
  // `fn` runs only when the function exists: a kNotFound without it having run is the function
  // itself missing (AWS names its ARN), one from `fn` is fn's own.
  bool found = false;
  auto r = deps_.store.update_function(name, [&](store::Function& f) {
    found = true;
    return fn(f);
  });
  if (!r) {
    if (r.error().code == Errc::kNotFound && !found) {
      throw_not_found("Function not found: " + names_.function_arn(name));
    }
    if (r.error().code == Errc::kPreconditionFailed) throw_precondition_failed(stale_message);
    throw_error(r.error());
  }
  index_policies(name, &*r);  // AddPermission, RemovePermission
  return std::move(*r);
}

const store::FunctionVersion& LambdaApi::select_version(const store::Function& f,
                                                        const std::optional<std::string>& q) {
  if (!q || *q == store::kLatest) return f.latest;
  if (const auto* v = f.find_version(*q)) return *v;
  if (const auto* a = f.find_alias(*q)) {
    if (const auto* v = f.find_version(a->function_version)) return *v;
  }
  throw_not_found("Function not found: " + names_.function_arn(f.name, *q));
}

std::string LambdaApi::code_signature(const std::string& digest_hex, int64_t expires) const {
  return hex_encode(hmac_sha256(url_key_, digest_hex + "|" + std::to_string(expires)));
}

std::string LambdaApi::code_location(const std::string& digest) const {
  std::string base = public_url_.empty() ? fmt::format("http://{}:{}", deps_.config.listen_host,
                                                       deps_.config.listen_port)
                                         : public_url_;
  int64_t expires = now_ms() / 1000 + kCodeUrlTtlSeconds;
  return fmt::format("{}/_lambent/code/{}?Expires={}&Signature={}", base, digest, expires,
                     code_signature(digest, expires));
}

blob::CodeInfo LambdaApi::put_code(std::string_view zip) { return unwrap(deps_.code.put(zip)); }

http::Response LambdaApi::create_function(http::Request& req) {
  JsonBody body(req.body);
  body.only({"FunctionName", "Runtime", "Role", "Handler", "Code", "Description", "Timeout",
             "MemorySize", "Publish", "VpcConfig", "PackageType", "DeadLetterConfig", "Environment",
             "KMSKeyArn", "TracingConfig", "Tags", "Layers", "FileSystemConfigs", "ImageConfig",
             "CodeSigningConfigArn", "Architectures", "EphemeralStorage", "SnapStart",
             "LoggingConfig", "PublishTo", "TenancyConfig", "CapacityProviderConfig",
             "DurableConfig"});
  auto name_value = body.str("FunctionName");
  auto role = body.str("Role");
  auto code = body.object("Code");
  if (auto missing = body.missing({{"FunctionName", "functionName"}, {"Role", "role"},
                                   {"Code", "code"}});
      !missing.empty()) {
    throw_validation_errors(missing);
  }
  FunctionRef ref = parse_function_ref(*name_value, names_);
  if (ref.qualifier) {
    throw_invalid_parameter("Unsupported qualifier in function name: create the function without "
                            "a qualifier, then publish versions.");
  }
  rest_.authorize(req, {{"lambda:CreateFunction", names_.function_arn(ref.name), {}}});
  code->only({"ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri", "SourceKMSKeyArn",
              "S3ObjectStorageMode"});
  if (auto pt = body.str("PackageType"); pt && *pt != "Zip") {
    if (*pt == "Image") throw_invalid_parameter("Lambent does not run container images.");
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at 'packageType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Image, Zip]",
        *pt));
  }
  for (const char* unsupported : {"CodeSigningConfigArn", "PublishTo", "TenancyConfig",
                                  "CapacityProviderConfig", "DurableConfig"}) {
    if (body.has(unsupported)) {
      throw_invalid_parameter(std::string(unsupported) + " is not supported by Lambent.");
    }
  }

  store::Function f;
  f.name = ref.name;
  apply_config(body, f.latest.config);
  if (f.latest.config.runtime.empty() || f.latest.config.handler.empty()) {
    throw_invalid_parameter("Runtime and Handler are mandatory parameters for functions created "
                            "with deployment packages.");
  }
  check_execution_role(req, f.latest.config.role);
  check_delivery(f.latest.config.role, f.latest.config.dead_letter_target);
  if (auto tags = body.str_map("Tags")) {
    if (tags->size() > 50) throw_invalid_parameter("Number of tags exceeds resource tag limit.");
    for (const auto& [k, v] : *tags) validate_tag(k, v);
    f.tags = *tags;
  }
  bool do_publish = body.boolean("Publish").value_or(false);
  std::string zip = package_bytes(*code, req);

  std::shared_lock lock(code_lock_);
  blob::CodeInfo info = put_code(zip);
  try {
    resolve_layers(f.latest.config, info.digest_hex);
  } catch (const aws::ServiceError&) {
    lock.unlock();
    drop_unreferenced_code({info.digest_hex});
    throw;
  }
  f.created_ms = now_ms();
  f.latest.code = {info.digest_hex, info.sha256_b64, info.size};
  f.latest.revision_id = uuid4();
  f.latest.last_modified_ms = f.created_ms;
  const store::FunctionVersion* shown = &f.latest;
  if (do_publish) shown = &publish(f, "");
  auto created = deps_.store.create_function(f);
  lock.unlock();
  if (created) changed(f.name, &f);
  if (!created) {
    if (created.error().code == Errc::kAlreadyExists) {
      throw_conflict("Function already exist: " + f.name);
    }
    throw_error(created.error());
  }
  return json_response(201, configuration_json(f, *shown, names_));
}

http::Response LambdaApi::get_function(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_, "functionName", 170);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));
  store::Function f = load(ref.name);
  const auto& v = select_version(f, qualifier);
  json::object out;
  out["Configuration"] = configuration_json(f, v, names_, false, alias_qualifier(f, qualifier));
  out["Code"] =
      json::object{{"RepositoryType", "S3"}, {"Location", code_location(v.code.digest_hex)}};
  if (!f.tags.empty()) {
    json::object tags;
    for (const auto& [k, val] : f.tags) tags[k] = val;
    out["Tags"] = std::move(tags);
  }
  if (f.reserved_concurrency) {
    out["Concurrency"] = json::object{{"ReservedConcurrentExecutions", *f.reserved_concurrency}};
  }
  return json_response(200, out);
}

http::Response LambdaApi::get_function_configuration(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_, "functionName", 170);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));
  store::Function f = load(ref.name);
  return json_response(200, configuration_json(f, select_version(f, qualifier), names_, false,
                                               alias_qualifier(f, qualifier)));
}

http::Response LambdaApi::list_functions(http::Request& req) {
  size_t max_items = parse_max_items(req, kListPageMax);
  bool all_versions = false;
  if (auto fv = req.query_param("FunctionVersion")) {
    if (*fv != "ALL") {
      throw_validation("1 validation error detected: Value '" + *fv +
                       "' at 'functionVersion' failed to satisfy constraint: Member must satisfy "
                       "enum value set: [ALL]");
    }
    all_versions = true;
  }
  json::array items;
  json::object out;
  if (req.query_param("MasterRegion")) {
    // Lambda@Edge replicas of functions in another region: this node has none.
    out["Functions"] = std::move(items);
    return json_response(200, out);
  }
  // Marker: the last function name of the previous page, plus "/<version>" within a function when
  // listing all versions. Opaque to clients, as on AWS.
  std::string after_name;
  int64_t after_seq = -1;
  if (auto marker = req.query_param("Marker")) {
    auto slash = marker->find('/');
    after_name = marker->substr(0, slash);
    if (!valid_function_name(after_name)) throw_invalid_parameter("Invalid marker: " + *marker);
    if (slash != std::string::npos) {
      std::string seq = marker->substr(slash + 1);
      auto [p, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), after_seq);
      if (ec != std::errc() || p != seq.data() + seq.size() || !all_versions) {
        throw_invalid_parameter("Invalid marker: " + *marker);
      }
    }
  }
  std::string next_marker, last_name;
  int64_t last_seq = 0;
  // Adds one entry; when the page is already full, records where the next page starts instead.
  auto emit = [&](const store::Function& f, const store::FunctionVersion& v, int64_t seq) {
    if (items.size() == max_items) {
      next_marker = all_versions ? fmt::format("{}/{}", last_name, last_seq) : last_name;
      return false;
    }
    items.push_back(configuration_json(f, v, names_, all_versions));
    last_name = f.name;
    last_seq = seq;
    return true;
  };
  auto emit_function = [&](const store::Function& f, int64_t after) {
    if (after < 0 && !emit(f, f.latest, 0)) return false;
    if (!all_versions) return true;
    for (size_t i = 0; i < f.versions.size(); ++i) {
      int64_t seq = static_cast<int64_t>(i) + 1;
      if (seq > after && !emit(f, f.versions[i], seq)) return false;
    }
    return true;
  };
  bool more = true;
  if (after_seq >= 0) {
    // Resume inside the marker's function (it may have been deleted since: then just go on).
    if (auto f = deps_.store.get_function(after_name)) more = emit_function(*f, after_seq);
  }
  std::string cursor = after_name;
  while (more) {
    auto batch = unwrap(deps_.store.list_functions(cursor, kListPageMax + 1));
    for (const auto& f : batch) {
      cursor = f.name;
      if (!(more = emit_function(f, -1))) break;
    }
    if (batch.size() < kListPageMax + 1) break;
  }
  out["Functions"] = std::move(items);
  if (!next_marker.empty()) out["NextMarker"] = next_marker;
  return json_response(200, out);
}

namespace {
// The function of an update, which changes $LATEST only.
FunctionRef latest_only(const http::Request& req, const Names& names, const char* what) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names);
  if (ref.qualifier) {
    throw_invalid_parameter(
        fmt::format("Unsupported qualifier: only $LATEST {} can be updated.", what));
  }
  return ref;
}
}  // namespace

http::Response LambdaApi::update_function_code(http::Request& req) {
  FunctionRef ref = latest_only(req, names_, "code");
  JsonBody body(req.body);
  body.only({"ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri", "Publish", "DryRun",
             "RevisionId", "Architectures", "SourceKMSKeyArn", "PublishTo", "S3ObjectStorageMode"});
  if (auto archs = body.str_list("Architectures")) {
    if (archs->size() != 1 || (*archs)[0] != "x86_64") {
      throw_invalid_parameter("This Lambent node runs x86_64 functions only.");
    }
  }
  if (body.has("PublishTo")) throw_invalid_parameter("PublishTo is not supported by Lambent.");
  std::string zip = package_bytes(body, req);
  auto revision = body.str("RevisionId");
  bool do_publish = body.boolean("Publish").value_or(false);
  bool dry_run = body.boolean("DryRun").value_or(false);

  if (dry_run) {
    // Validate everything, store nothing: the response shows the configuration as it would be.
    store::Function f = load(ref.name);
    check_revision(revision, f.latest.revision_id);
    auto info = unwrap(deps_.code.validate(zip));
    f.latest.code = {info.digest_hex, info.sha256_b64, info.size};
    return json_response(200, configuration_json(f, f.latest, names_));
  }

  std::shared_lock lock(code_lock_);
  blob::CodeInfo info = put_code(zip);
  try {
    store::FunctionConfig current = load(ref.name).latest.config;
    resolve_layers(current, info.digest_hex);
  } catch (const aws::ServiceError&) {
    lock.unlock();
    drop_unreferenced_code({info.digest_hex});
    throw;
  }
  std::string previous_digest;
  std::string shown_version = store::kLatest;
  auto updated = deps_.store.update_function(ref.name, [&](store::Function& f) -> Result<void> {
    if (revision && *revision != f.latest.revision_id) {
      return make_error(Errc::kPreconditionFailed, "stale");
    }
    previous_digest = f.latest.code.digest_hex;
    f.latest.code = {info.digest_hex, info.sha256_b64, info.size};
    f.latest.revision_id = uuid4();
    f.latest.last_modified_ms = now_ms();
    f.latest.last_update_status = "Successful";
    if (do_publish) shown_version = publish(f, "").version;
    return {};
  });
  lock.unlock();
  if (!updated) {
    drop_unreferenced_code({info.digest_hex});
    if (updated.error().code == Errc::kNotFound) {
      throw_not_found("Function not found: " + names_.function_arn(ref.name));
    }
    if (updated.error().code == Errc::kPreconditionFailed) throw_precondition_failed(kStaleRevision);
    throw_error(updated.error());
  }
  if (previous_digest != info.digest_hex) drop_unreferenced_code({previous_digest});
  changed(ref.name, &*updated);
  return json_response(200, configuration_json(*updated, select_version(*updated, shown_version),
                                               names_));
}

http::Response LambdaApi::update_function_configuration(http::Request& req) {
  FunctionRef ref = latest_only(req, names_, "configuration");
  JsonBody body(req.body);
  body.only({"Role", "Handler", "Description", "Timeout", "MemorySize", "VpcConfig", "Environment",
             "Runtime", "DeadLetterConfig", "KMSKeyArn", "TracingConfig", "RevisionId", "Layers",
             "FileSystemConfigs", "ImageConfig", "EphemeralStorage", "SnapStart", "LoggingConfig",
             "CapacityProviderConfig", "DurableConfig"});
  for (const char* unsupported : {"CapacityProviderConfig", "DurableConfig"}) {
    if (body.has(unsupported)) {
      throw_invalid_parameter(std::string(unsupported) + " is not supported by Lambent.");
    }
  }
  auto revision = body.str("RevisionId");
  std::vector<store::LayerRef> resolved_layers;
  // Validate against the current configuration first, so that a bad request fails before the
  // write transaction; the transaction re-applies onto what is stored then.
  {
    store::Function current = load(ref.name);
    check_revision(revision, current.latest.revision_id);
    apply_config(body, current.latest.config);
    if (auto role = body.str("Role")) check_execution_role(req, *role);
    if (body.has("DeadLetterConfig") || body.has("Role")) {
      check_delivery(current.latest.config.role, current.latest.config.dead_letter_target);
    }
    resolve_layers(current.latest.config, current.latest.code.digest_hex);
    resolved_layers = current.latest.config.layers;
  }
  store::Function updated = mutate(ref.name, [&](store::Function& f) -> Result<void> {
    if (revision && *revision != f.latest.revision_id) {
      return make_error(Errc::kPreconditionFailed, "stale");
    }
    apply_config(body, f.latest.config);
    if (body.has("Layers")) f.latest.config.layers = resolved_layers;
    f.latest.revision_id = uuid4();
    f.latest.last_modified_ms = now_ms();
    f.latest.last_update_status = "Successful";
    return {};
  });
  changed(ref.name, &updated);
  return json_response(200, configuration_json(updated, updated.latest, names_));
}

http::Response LambdaApi::delete_function(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));
  std::set<std::string> digests;
  if (qualifier && *qualifier != store::kLatest) {
    auto removed = deps_.store.delete_version(
        ref.name, *qualifier, [&](const store::Function& f) -> Result<void> {
          std::vector<std::string> aliases;
          for (const auto& a : f.aliases) {
            if (a.function_version == *qualifier || a.additional_weights.count(*qualifier)) {
              aliases.push_back(a.name);
            }
          }
          if (aliases.empty()) return {};
          return make_error(Errc::kConflict,
                            fmt::format("Unable to delete version because the following aliases "
                                        "reference it: [{}]",
                                        fmt::join(aliases, ", ")));
        });
    if (!removed && removed.error().code == Errc::kNotFound) {
      throw_not_found("Function not found: " + names_.function_arn(ref.name, *qualifier));
    }
    digests.insert(unwrap(std::move(removed)).code.digest_hex);
    auto now = deps_.store.get_function(ref.name);
    changed(ref.name, now ? &*now : nullptr);
  } else if (qualifier) {
    throw_invalid_parameter("$LATEST version cannot be deleted without deleting the function.");
  } else {
    auto removed = deps_.store.delete_function(ref.name);
    if (!removed && removed.error().code == Errc::kNotFound) {
      throw_not_found("Function not found: " + names_.function_arn(ref.name));
    }
    store::Function f = unwrap(std::move(removed));
    digests.insert(f.latest.code.digest_hex);
    for (const auto& v : f.versions) digests.insert(v.code.digest_hex);
    changed(ref.name, nullptr);
  }
  drop_unreferenced_code(digests);
  return no_content();
}

}  // namespace lambent::lambda

// FunctionUrlConfig: Create, Get, Update, Delete, List (compat §1.4, §8) — one URL per function
// or alias, kept with the function; and the index of URLs by url-id that serving reads.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <mutex>
#include <regex>
#include <shared_mutex>

#include "base/codec.h"
#include "base/time.h"
#include "services/lambda/errors.h"
#include "services/lambda/function_url.h"
#include "services/lambda/json_body.h"
#include "services/lambda/lambda_api.h"
#include "services/lambda/paging.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kListPageMax = 50;

// 32 lower-case letters and digits, as AWS's url-ids.
std::string new_url_id() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string bytes = random_bytes(32);
  std::string id(32, 'a');
  for (size_t i = 0; i < 32; ++i) id[i] = kAlphabet[static_cast<unsigned char>(bytes[i]) % 36];
  return id;
}

// ?Qualifier (or the name's): $LATEST or an alias name; a version number is refused by the
// model's pattern. "" = the unqualified function.
std::string url_qualifier(const std::optional<std::string>& q) {
  if (!q || *q == store::kLatest) return "";
  static const std::regex kPattern("(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  if (q->size() > 128 || !std::regex_match(*q, kPattern)) {
    throw_validation("1 validation error detected: Value '" + *q +
                     "' at 'qualifier' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))");
  }
  return *q;
}

void check_enum(const std::optional<std::string>& v, const char* field,
                std::initializer_list<const char*> allowed, std::vector<std::string>& errors) {
  if (!v) return;
  std::string set;
  for (const char* a : allowed) {
    if (*v == a) return;
    set += std::string(set.empty() ? "" : ", ") + a;
  }
  errors.push_back("Value '" + *v + "' at '" + field +
                   "' failed to satisfy constraint: Member must satisfy enum value set: [" + set +
                   "]");
}

// The Cors member, checked against the model and AWS's rules, as the JSON to keep.
std::string read_cors(const JsonObject& body) {
  auto cors = body.object("Cors");
  if (!cors) return "";
  cors->only({"AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders",
              "MaxAge"});
  std::vector<std::string> errors;
  json::object out;
  auto list = [&](const char* member, const char* field, size_t max_items, size_t max_len) {
    auto v = cors->str_list(member);
    if (!v) return;
    if (v->size() > max_items) {
      errors.push_back(
          fmt::format("Value at 'cors.{}' failed to satisfy constraint: Member must "
                      "have length less than or equal to {}",
                      field, max_items));
    }
    json::array a;
    for (const auto& s : *v) {
      if (s.size() > max_len || s.empty()) {
        errors.push_back(
            fmt::format("Value '{}' at 'cors.{}' failed to satisfy constraint: "
                        "Member must have length between 1 and {}",
                        s, field, max_len));
      }
      a.emplace_back(s);
    }
    out[member] = std::move(a);
  };
  if (auto c = cors->boolean("AllowCredentials")) out["AllowCredentials"] = *c;
  list("AllowHeaders", "allowHeaders", 100, 1024);
  list("AllowMethods", "allowMethods", 6, 6);
  list("AllowOrigins", "allowOrigins", 100, 253);
  list("ExposeHeaders", "exposeHeaders", 100, 1024);
  if (auto m = cors->integer("MaxAge")) {
    if (*m < 0 || *m > 86400) {
      errors.push_back(
          fmt::format("Value '{}' at 'cors.maxAge' failed to satisfy constraint: "
                      "Member must have value between 0 and 86400",
                      *m));
    }
    out["MaxAge"] = *m;
  }
  if (!errors.empty()) throw_validation_errors(errors);
  if (auto* methods = out.if_contains("AllowMethods")) {
    for (const auto& m : methods->as_array()) {
      static const std::set<std::string, std::less<>> kMethods{"GET",   "PUT",    "HEAD", "POST",
                                                               "PATCH", "DELETE", "*"};
      if (!kMethods.count(std::string_view(m.as_string()))) {
        throw_invalid_parameter(
            "Invalid value for the AllowMethods property of the Cors "
            "configuration: " +
            std::string(m.as_string()));
      }
    }
  }
  return json::serialize(out);
}

// Create's and Update's body: AuthType (required by Create), InvokeMode, Cors.
struct UrlBody {
  std::optional<std::string> auth, mode;
  bool has_cors = false;
  std::string cors;  // as kept ("" = none)
};
UrlBody read_url_body(std::string_view text, bool create) {
  JsonBody body(text);
  body.only({"AuthType", "Cors", "InvokeMode"});
  UrlBody in{body.str("AuthType"), body.str("InvokeMode"), body.has("Cors"), ""};
  std::vector<std::string> errors;
  if (create) errors = body.missing({{"AuthType", "authType"}});
  check_enum(in.auth, "authType", {"NONE", "AWS_IAM"}, errors);
  check_enum(in.mode, "invokeMode", {"BUFFERED", "RESPONSE_STREAM"}, errors);
  if (!errors.empty()) throw_validation_errors(errors);
  in.cors = read_cors(body);
  return in;
}

}  // namespace

std::string LambdaApi::function_url(const std::string& url_id) const {
  std::string base = public_url_.empty() ? fmt::format("http://{}:{}", deps_.config.listen_host,
                                                       deps_.config.listen_port)
                                         : public_url_;
  if (deps_.config.url_domain.empty()) return base + "/_lambent/url/" + url_id + "/";
  // scheme://host[:port][/prefix]: the host becomes <url-id>.lambda-url.<region>.<domain>.
  size_t scheme_end = base.find("://") + 3;
  size_t host_end = base.find_first_of(":/", base.front() == '[' ? base.find(']') : scheme_end);
  std::string port;
  if (host_end != std::string::npos && base[host_end] == ':') {
    size_t slash = base.find('/', host_end);
    port = base.substr(host_end, slash == std::string::npos ? std::string::npos : slash - host_end);
  }
  return base.substr(0, scheme_end) + url_id + ".lambda-url." + deps_.config.region + "." +
         deps_.config.url_domain + port + "/";
}

json::object LambdaApi::url_config_json(const store::Function& f, const store::FunctionUrlConfig& u,
                                        bool with_modified) const {
  json::object o{{"FunctionUrl", function_url(u.url_id)},
                 {"FunctionArn", names_.function_arn(f.name, u.qualifier)},
                 {"AuthType", u.auth_type}};
  if (!u.cors.empty()) o["Cors"] = json::parse(u.cors);
  o["CreationTime"] = format_timestamp(u.created_ms);
  if (with_modified) o["LastModifiedTime"] = format_timestamp(u.modified_ms);
  o["InvokeMode"] = u.invoke_mode;
  return o;
}

http::Response LambdaApi::create_function_url_config(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = url_qualifier(merge_qualifier(ref, req.query_param("Qualifier")));
  UrlBody in = read_url_body(req.body, true);
  const auto& auth = in.auth;
  const auto& mode = in.mode;
  const std::string& cors = in.cors;
  store::FunctionUrlConfig made;
  store::Function f = mutate(ref.name, [&](store::Function& f) -> Result<void> {
    if (!qualifier.empty() && !f.find_alias(qualifier)) {
      return make_error(Errc::kNotFound,
                        "Function not found: " + names_.function_arn(f.name, qualifier));
    }
    if (f.find_url(qualifier)) {
      return make_error(Errc::kConflict,
                        "Failed to create function url config for [functionArn = " +
                            names_.function_arn(f.name, qualifier) +
                            "]. Error message:  FunctionUrlConfig exists for this Lambda function");
    }
    made.qualifier = qualifier;
    made.url_id = new_url_id();
    made.auth_type = *auth;
    made.cors = cors;
    made.invoke_mode = mode.value_or("BUFFERED");
    made.created_ms = made.modified_ms = now_ms();
    f.urls.push_back(made);
    return {};
  });
  changed(f.name, &f);
  return json_response(201, url_config_json(f, made, false));
}

http::Response LambdaApi::get_function_url_config(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = url_qualifier(merge_qualifier(ref, req.query_param("Qualifier")));
  store::Function f = load(ref.name);
  const store::FunctionUrlConfig* u = f.find_url(qualifier);
  if (!u) throw_not_found("The resource you requested does not exist.");
  return json_response(200, url_config_json(f, *u, true));
}

http::Response LambdaApi::update_function_url_config(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = url_qualifier(merge_qualifier(ref, req.query_param("Qualifier")));
  UrlBody in = read_url_body(req.body, false);
  const auto& auth = in.auth;
  const auto& mode = in.mode;
  const bool has_cors = in.has_cors;
  const std::string& cors = in.cors;
  store::FunctionUrlConfig now;
  store::Function f = mutate(ref.name, [&](store::Function& f) -> Result<void> {
    store::FunctionUrlConfig* u = f.find_url(qualifier);
    if (!u) return make_error(Errc::kNotFound, "The resource you requested does not exist.");
    if (auth) u->auth_type = *auth;
    if (mode) u->invoke_mode = *mode;
    if (has_cors) u->cors = cors;
    u->modified_ms = now_ms();
    now = *u;
    return {};
  });
  changed(f.name, &f);
  return json_response(200, url_config_json(f, now, true));
}

http::Response LambdaApi::delete_function_url_config(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = url_qualifier(merge_qualifier(ref, req.query_param("Qualifier")));
  store::Function f = mutate(ref.name, [&](store::Function& f) -> Result<void> {
    if (!std::erase_if(f.urls, [&](const auto& u) { return u.qualifier == qualifier; })) {
      return make_error(Errc::kNotFound, "The resource you requested does not exist.");
    }
    return {};
  });
  changed(f.name, &f);
  return no_content();
}

http::Response LambdaApi::list_function_url_configs(http::Request& req) {
  std::string fn = unqualified_function(req.label("FunctionName"), names_,
                                        "ListFunctionUrlConfigs takes no qualifier");
  size_t max_items = parse_max_items(req, kListPageMax);
  if (auto m = req.query_param("MaxItems"); m && std::atoll(m->c_str()) > 50) {
    throw_validation("1 validation error detected: Value '" + *m +
                     "' at 'maxItems' failed to satisfy constraint: Member must have value less "
                     "than or equal to 50");
  }
  store::Function f = load(fn);
  std::vector<store::FunctionUrlConfig> urls = f.urls;
  // In qualifier order, the unqualified function ($LATEST) first.
  auto key = [](const store::FunctionUrlConfig& u) {
    return u.qualifier.empty() ? std::string(store::kLatest) : u.qualifier;
  };
  std::sort(urls.begin(), urls.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  json::object out =
      Pager(req, max_items).page("FunctionUrlConfigs", urls, key, [&](const auto& u) {
        return url_config_json(f, u, true);
      });
  return json_response(200, out);
}

void LambdaApi::index_urls(const std::string& name, const store::Function* f) {
  std::unique_lock lock(urls_mu_);
  for (auto it = url_index_.begin(); it != url_index_.end();) {
    it = it->second.function == name ? url_index_.erase(it) : std::next(it);
  }
  if (!f) return;
  for (const auto& u : f->urls) {
    url_index_[u.url_id] = UrlTarget{u.url_id,    f->name,       u.qualifier,
                                     u.auth_type, u.invoke_mode, parse_url_cors(u.cors)};
  }
}

std::optional<UrlTarget> LambdaApi::find_url(std::string_view url_id) const {
  std::shared_lock lock(urls_mu_);
  auto it = url_index_.find(url_id);
  if (it == url_index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace lambent::lambda

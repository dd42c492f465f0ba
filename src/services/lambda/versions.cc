// Versions and aliases: PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias,
// UpdateAlias, DeleteAlias, ListAliases (compat §1.7, §1.10).
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

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kListPageMax = 50;

// The function named by the path, which takes no qualifier for these operations.
std::string unqualified_name(const http::Request& req, const Names& names) {
  return unqualified_function(req.label("FunctionName"), names,
                              "these operations take an unqualified function name.");
}

void validate_alias_name(const std::string& name, std::vector<std::string>& violations) {
  static const std::regex kPattern("(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  if (name.empty() || name.size() > 128) {
    violations.push_back(fmt::format(
        "Value '{}' at 'name' failed to satisfy constraint: Member must have length {} {}", name,
        name.empty() ? "greater than or equal to" : "less than or equal to",
        name.empty() ? 1 : 128));
  } else if (!std::regex_match(name, kPattern)) {
    violations.push_back(fmt::format(
        "Value '{}' at 'name' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        name));
  }
}

void validate_version_value(const std::string& v, std::vector<std::string>& violations) {
  static const std::regex kPattern("(\\$LATEST|[0-9]+)");
  if (v.empty() || v.size() > 1024 || !std::regex_match(v, kPattern)) {
    violations.push_back(fmt::format(
        "Value '{}' at 'functionVersion' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: (\\$LATEST|[0-9]+)",
        v));
  }
}

// RoutingConfig.AdditionalVersionWeights: {"<version>": weight 0..1}.
std::optional<std::map<std::string, double>> read_routing(const JsonObject& body,
                                                          std::vector<std::string>& violations) {
  auto routing = body.object("RoutingConfig");
  if (!routing) return std::nullopt;
  routing->only({"AdditionalVersionWeights"});
  std::map<std::string, double> weights;
  if (!routing->has("AdditionalVersionWeights")) return weights;
  auto w = routing->object("AdditionalVersionWeights");
  static const std::regex kKey("[0-9]+");
  for (const auto& [k, val] : w->raw()) {
    std::string key(k);
    if (!val.is_number()) {
      throw_invalid_content("Could not parse request body into json: Cannot deserialize value of "
                            "type `java.lang.Double` from String");
    }
    double weight = val.to_number<double>();
    if (key.empty() || key.size() > 1024 || !std::regex_match(key, kKey)) {
      violations.push_back(fmt::format(
          "Value '{}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
          "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
          "[0-9]+]",
          key));
    }
    if (weight < 0.0 || weight > 1.0) {
      violations.push_back(fmt::format(
          "Value '{}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
          "Map value must satisfy constraint: [Member must have value {} {}]",
          weight, weight < 0 ? "greater than or equal to" : "less than or equal to",
          weight < 0 ? "0.0" : "1.0"));
    }
    weights[key] = weight;
  }
  return weights;
}

// The service rules of an alias's targets (compat §1.10).
void check_alias_targets(const store::Function& f, const store::Alias& a, const Names& names) {
  const store::FunctionVersion* primary = f.find_version(a.function_version);
  if (!primary) {
    throw_not_found("Function not found: " + names.function_arn(f.name, a.function_version));
  }
  if (a.additional_weights.empty()) return;
  if (a.additional_weights.size() > 1) {
    throw_invalid_parameter("Number of Additional Versions cannot be more than 1.");
  }
  const std::string& extra = a.additional_weights.begin()->first;
  if (a.function_version == store::kLatest) {
    throw_invalid_parameter(
        "$LATEST is not supported for an alias pointing to more than 1 version");
  }
  if (extra == a.function_version) {
    throw_invalid_parameter(
        "Alias can't point to the same version in the primary version and in the additional "
        "version weights.");
  }
  const store::FunctionVersion* secondary = f.find_version(extra);
  if (!secondary) throw_not_found("Function not found: " + names.function_arn(f.name, extra));
  if (secondary->config.role != primary->config.role) {
    throw_invalid_parameter("Version " + extra + " and version " + a.function_version +
                            " must have the same execution role to be used by the same alias.");
  }
  if (secondary->config.dead_letter_target != primary->config.dead_letter_target) {
    throw_invalid_parameter("Version " + extra + " and version " + a.function_version +
                            " must have the same DeadLetterConfig to be used by the same alias.");
  }
}

json::object alias_json(const store::Function& f, const store::Alias& a, const Names& names) {
  json::object o{{"AliasArn", names.function_arn(f.name, a.name)},
                 {"Name", a.name},
                 {"FunctionVersion", a.function_version},
                 {"Description", a.description},
                 {"RevisionId", a.revision_id}};
  if (!a.additional_weights.empty()) {
    json::object w;
    for (const auto& [v, weight] : a.additional_weights) w[v] = weight;
    o["RoutingConfig"] = json::object{{"AdditionalVersionWeights", std::move(w)}};
  }
  return o;
}

store::Alias* find_alias(store::Function& f, const std::string& name) {
  for (auto& a : f.aliases) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string alias_not_found(const Names& names, const std::string& fn, const std::string& alias) {
  return "Cannot find alias arn: " + names.function_arn(fn, alias);
}

}  // namespace

http::Response LambdaApi::publish_version(http::Request& req) {
  std::string name = unqualified_name(req, names_);
  JsonBody body(req.body);
  body.only({"CodeSha256", "Description", "RevisionId", "PublishTo"});
  if (body.has("PublishTo")) throw_invalid_parameter("PublishTo is not supported by Lambent.");
  auto sha = body.str("CodeSha256");
  auto description = body.str("Description").value_or("");
  auto revision = body.str("RevisionId");
  if (description.size() > 256) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at 'description' failed to satisfy constraint: "
        "Member must have length less than or equal to 256",
        description));
  }
  std::string shown;
  store::Function f = mutate(name, [&](store::Function& fn) -> Result<void> {
    if (sha && *sha != fn.latest.code.sha256_b64) {
      return make_error(Errc::kInvalidArgument,
                        "CodeSHA256 (" + *sha + ") is different from current CodeSHA256 in "
                        "$LATEST (" + fn.latest.code.sha256_b64 +
                        "). Please try again with the CodeSHA256 in $LATEST.");
    }
    if (revision && *revision != fn.latest.revision_id) {
      return make_error(Errc::kPreconditionFailed, "stale");
    }
    shown = publish(fn, description).version;
    return {};
  });
  changed(name, &f);
  return json_response(201, configuration_json(f, *f.find_version(shown), names_));
}

http::Response LambdaApi::list_versions_by_function(http::Request& req) {
  std::string name = unqualified_name(req, names_);
  size_t max_items = parse_max_items(req, kListPageMax);
  store::Function f = load(name);
  // Marker: the last version shown ("$LATEST" or a number), opaque to clients.
  size_t start = 0;
  if (auto marker = req.query_param("Marker")) {
    std::vector<std::string> order{store::kLatest};
    for (const auto& v : f.versions) order.push_back(v.version);
    auto it = std::find(order.begin(), order.end(), *marker);
    if (it == order.end()) {
      // The marker's version may have been deleted since: resume after the next lower number.
      int64_t n = 0;
      auto [p, ec] = std::from_chars(marker->data(), marker->data() + marker->size(), n);
      if (ec != std::errc() || p != marker->data() + marker->size()) {
        throw_invalid_parameter("Invalid marker: " + *marker);
      }
      start = 1;
      while (start < order.size() && std::stoll(order[start]) <= n) ++start;
    } else {
      start = static_cast<size_t>(it - order.begin()) + 1;
    }
  }
  json::array items;
  std::string last;
  bool more = false;
  for (size_t i = start; i < f.versions.size() + 1; ++i) {
    if (items.size() == max_items) {
      more = true;
      break;
    }
    const store::FunctionVersion& v = i == 0 ? f.latest : f.versions[i - 1];
    items.push_back(configuration_json(f, v, names_, true));
    last = v.version;
  }
  json::object out{{"Versions", std::move(items)}};
  if (more) out["NextMarker"] = last;
  return json_response(200, out);
}

http::Response LambdaApi::create_alias(http::Request& req) {
  std::string fn = unqualified_name(req, names_);
  JsonBody body(req.body);
  body.only({"Name", "FunctionVersion", "Description", "RoutingConfig"});
  auto name = body.str("Name");
  auto version = body.str("FunctionVersion");
  auto violations = body.missing({{"Name", "name"}, {"FunctionVersion", "functionVersion"}});
  if (name) validate_alias_name(*name, violations);
  if (version) validate_version_value(*version, violations);
  store::Alias a;
  a.description = body.str("Description").value_or("");
  if (a.description.size() > 256) {
    violations.push_back(fmt::format("Value '{}' at 'description' failed to satisfy constraint: "
                                     "Member must have length less than or equal to 256",
                                     a.description));
  }
  auto routing = read_routing(body, violations);
  if (!violations.empty()) throw_validation_errors(violations);
  a.name = *name;
  a.function_version = *version;
  if (routing) a.additional_weights = *routing;
  a.revision_id = uuid4();
  store::Function f = mutate(fn, [&](store::Function& f) -> Result<void> {
    if (f.find_alias(a.name)) {
      return make_error(Errc::kAlreadyExists,
                        "Alias already exists: " + names_.function_arn(f.name, a.name));
    }
    check_alias_targets(f, a, names_);
    f.aliases.push_back(a);
    std::sort(f.aliases.begin(), f.aliases.end(),
              [](const auto& x, const auto& y) { return x.name < y.name; });
    return {};
  });
  changed(fn, &f);
  return json_response(201, alias_json(f, *f.find_alias(a.name), names_));
}

http::Response LambdaApi::get_alias(http::Request& req) {
  std::string fn = unqualified_name(req, names_);
  const std::string& name = req.label("Name");
  store::Function f = load(fn);
  const store::Alias* a = f.find_alias(name);
  if (!a) throw_not_found(alias_not_found(names_, f.name, name));
  return json_response(200, alias_json(f, *a, names_));
}

http::Response LambdaApi::update_alias(http::Request& req) {
  std::string fn = unqualified_name(req, names_);
  const std::string name = req.label("Name");
  JsonBody body(req.body);
  body.only({"FunctionVersion", "Description", "RoutingConfig", "RevisionId"});
  auto version = body.str("FunctionVersion");
  auto description = body.str("Description");
  auto revision = body.str("RevisionId");
  std::vector<std::string> violations;
  if (version) validate_version_value(*version, violations);
  if (description && description->size() > 256) {
    violations.push_back(fmt::format("Value '{}' at 'description' failed to satisfy constraint: "
                                     "Member must have length less than or equal to 256",
                                     *description));
  }
  auto routing = read_routing(body, violations);
  if (!violations.empty()) throw_validation_errors(violations);
  store::Function f = mutate(
      fn,
      [&](store::Function& f) -> Result<void> {
        store::Alias* a = find_alias(f, name);
        if (!a) return make_error(Errc::kNotFound, alias_not_found(names_, f.name, name));
        if (revision && *revision != a->revision_id) {
          return make_error(Errc::kPreconditionFailed, "stale");
        }
        store::Alias next = *a;
        if (version) next.function_version = *version;
        if (description) next.description = *description;
        if (routing) next.additional_weights = *routing;
        check_alias_targets(f, next, names_);
        next.revision_id = uuid4();
        *a = std::move(next);
        return {};
      },
      "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to "
      "retrieve the latest Revision Id");
  changed(fn, &f);
  return json_response(200, alias_json(f, *f.find_alias(name), names_));
}

http::Response LambdaApi::delete_alias(http::Request& req) {
  std::string fn = unqualified_name(req, names_);
  const std::string name = req.label("Name");
  store::Function f = mutate(fn, [&](store::Function& f) -> Result<void> {
    // Deleting an absent alias succeeds, as on AWS.
    std::erase_if(f.aliases, [&](const auto& a) { return a.name == name; });
    std::erase_if(f.provisioned, [&](const auto& p) { return p.qualifier == name; });
    // The alias's function URL goes with it, as on AWS.
    std::erase_if(f.urls, [&](const auto& u) { return u.qualifier == name; });
    f.policies.erase(name);
    return {};
  });
  changed(fn, &f);
  return no_content();
}

http::Response LambdaApi::list_aliases(http::Request& req) {
  std::string fn = unqualified_name(req, names_);
  size_t max_items = parse_max_items(req, kListPageMax);
  auto version = req.query_param("FunctionVersion");
  if (version) {
    std::vector<std::string> violations;
    validate_version_value(*version, violations);
    if (!violations.empty()) throw_validation_errors(violations);
  }
  store::Function f = load(fn);
  std::vector<store::Alias> aliases;  // those routing to ?FunctionVersion, when given
  for (const auto& a : f.aliases) {
    if (!version || a.function_version == *version || a.additional_weights.count(*version)) {
      aliases.push_back(a);
    }
  }
  json::object out = Pager(req, max_items)
                         .page("Aliases", aliases, [](const store::Alias& a) { return a.name; },
                               [&](const store::Alias& a) { return alias_json(f, a, names_); });
  return json_response(200, out);
}

}  // namespace lambent::lambda

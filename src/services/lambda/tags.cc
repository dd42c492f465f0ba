// Tags on functions: TagResource, UntagResource, ListTags (resource = unqualified function ARN).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "net/egress.h"
#include "services/lambda/errors.h"
#include "services/lambda/json_body.h"
#include "services/lambda/lambda_api.h"
#include "services/lambda/validation.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kMaxTags = 50;

// The function named by a tag resource ARN. Versions and aliases carry no tags of their own.
std::string tagged_function(const std::string& arn, const Names& names) {
  if (arn.rfind("arn:", 0) != 0) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at 'resource' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}"
        "((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:(function:[a-zA-Z0-9-_]+)",
        arn));
  }
  FunctionRef ref = parse_function_ref(arn, names, "resource", 256);
  if (ref.qualifier) {
    throw_invalid_parameter("Tags are only supported on functions, not on versions or aliases: " +
                            arn);
  }
  return ref.name;
}

}  // namespace

void validate_tag(const std::string& key, const std::string& value) {
  if (key.empty() || key.size() > 128) {
    // (A key over the limit is shown cut: it is the caller's, and may be megabytes.)
    throw_validation("1 validation error detected: Value '" + key.substr(0, 128) +
                     "' at 'tags' failed to satisfy constraint: Map keys must have length "
                     "between 1 and 128");
  }
  if (value.size() > 256) {
    throw_validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                     "Map values must have length less than or equal to 256");
  }
  if (key.rfind("aws:", 0) == 0) {
    throw_invalid_parameter("Tag keys prefixed with 'aws:' are reserved for AWS use: " + key);
  }
  // Lambent's per-function egress (docs/config.md, "Network"): refused here when malformed,
  // not when an environment starts.
  if (key == "lambent:egress" && !net::parse_egress_mode(value)) {
    throw_invalid_parameter("The tag lambent:egress must be none, platform or internet, not '" +
                            value + "'.");
  }
  if (key == "lambent:egress-allow" || key == "lambent:egress-deny") {
    std::string bad;
    if (!net::parse_cidr_list(value, &bad)) {
      throw_invalid_parameter("The tag " + key +
                              " must list IPv4 prefixes (such as 198.51.100.0/24) separated by "
                              "spaces; '" +
                              bad + "' is not one.");
    }
  }
}

http::Response LambdaApi::tag_resource(http::Request& req) {
  std::string name = tagged_function(req.label("Resource"), names_);
  JsonBody body(req.body);
  body.only({"Tags"});
  auto tags = body.str_map("Tags");
  if (!tags) throw_null("tags");
  for (const auto& [k, v] : *tags) validate_tag(k, v);
  mutate(name, [&](store::Function& f) -> Result<void> {
    for (const auto& [k, v] : *tags) f.tags[k] = v;
    if (f.tags.size() > kMaxTags) {
      return make_error(Errc::kInvalidArgument, "Number of tags exceeds resource tag limit.");
    }
    return {};
  });
  return no_content();
}

http::Response LambdaApi::untag_resource(http::Request& req) {
  std::string name = tagged_function(req.label("Resource"), names_);
  auto keys = req.query_all("tagKeys");
  if (keys.empty()) throw_null("tagKeys");
  mutate(name, [&](store::Function& f) -> Result<void> {
    for (const auto& k : keys) f.tags.erase(k);
    return {};
  });
  return no_content();
}

http::Response LambdaApi::list_tags(http::Request& req) {
  std::string name = tagged_function(req.label("Resource"), names_);
  store::Function f = load(name);
  json::object tags;
  for (const auto& [k, v] : f.tags) tags[k] = v;
  return json_response(200, json::object{{"Tags", std::move(tags)}});
}

}  // namespace lambent::lambda

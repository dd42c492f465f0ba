// A distribution's configuration as the edge uses it, read from CloudFront's DistributionConfig
// XML (API 2020-05-31): origins (HTTP servers or Lambent buckets), the default and ordered cache
// behaviours with their cache key and TTLs (the legacy ForwardedValues form, or one of the
// managed cache policies), and the Lambda@Edge associations. Parsing checks what CloudFront
// checks of the document itself (required members, quantities, TTL order, origins named by
// behaviours, one association per event type) and answers with its error codes; what needs the
// functions (Lambda@Edge's rules) is checked by the caller (edge/lambda_edge.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambent::edge {

// A refusal in CloudFront's words: HTTP status, error code, message.
struct ConfigError {
  unsigned status = 400;
  std::string code;
  std::string message;
};

struct Origin {
  std::string id;
  std::string domain_name;
  std::string path;    // OriginPath: "" or /a/b (no trailing slash)
  bool s3 = false;     // S3OriginConfig (or an OriginAccessControlId): a bucket
  std::string bucket;  // for s3 origins: the bucket the domain name names
  int http_port = 80;
  int https_port = 443;
  std::string protocol_policy = "http-only";  // http-only | match-viewer | https-only
  int read_timeout_s = 30;
  int keepalive_timeout_s = 5;
  int connection_attempts = 3;
  int connection_timeout_s = 10;
  std::vector<std::pair<std::string, std::string>> custom_headers;
  std::string access_control_id;  // OriginAccessControlId ("" = none)
};

struct Association {
  std::string arn;         // arn:aws:lambda:us-east-1:<account>:function:<name>:<version>
  std::string event_type;  // viewer-request | origin-request | origin-response | viewer-response
  bool include_body = false;
};

// What makes two requests the same cached object, besides the path.
struct CacheKey {
  enum class Items { kNone, kAll, kList };
  Items query = Items::kNone;
  std::vector<std::string> query_names;
  Items headers = Items::kNone;           // kAll: every header (nothing is cached)
  std::vector<std::string> header_names;  // lower-case
  Items cookies = Items::kNone;
  std::vector<std::string> cookie_names;
};

struct Behavior {
  std::string path_pattern;  // "" for the default behaviour ("*")
  std::string target_origin;
  std::string viewer_protocol_policy = "allow-all";  // allow-all | https-only | redirect-to-https
  std::vector<std::string> allowed_methods{"GET", "HEAD"};
  std::vector<std::string> cached_methods{"GET", "HEAD"};
  int64_t min_ttl = 0;
  int64_t default_ttl = 86400;
  int64_t max_ttl = 31536000;
  CacheKey key;
  std::string cache_policy_id;  // "" = ForwardedValues
  bool compress = false;
  std::vector<Association> associations;

  const Association* association(std::string_view event_type) const;
  bool allows(std::string_view method) const;
  bool caches(std::string_view method) const;
};

struct DistributionConfig {
  std::string caller_reference;
  std::string comment;
  bool enabled = true;
  std::vector<std::string> aliases;  // lower-case
  std::string default_root_object;
  std::vector<Origin> origins;
  Behavior default_behavior;
  std::vector<Behavior> behaviors;  // in order: the first whose pattern matches wins
  std::string price_class = "PriceClass_All";
  std::string http_version = "http2";

  const Origin* origin(std::string_view id) const;
  // The behaviour for a request path (the default when no pattern matches).
  const Behavior& behavior_for(std::string_view path) const;
  // Every association of every behaviour.
  std::vector<const Association*> associations() const;
};

// A parsed document: the configuration and the XML to store and hand back (the document as
// given, with the defaults CloudFront fills in added), or the refusal.
struct ParsedConfig {
  std::optional<ConfigError> error;
  DistributionConfig config;
  std::string xml;  // <DistributionConfig>…</DistributionConfig>, without a namespace
};
// `xml_text` is a request body whose root is DistributionConfig (or, with `with_tags`,
// DistributionConfigWithTags; the tags are then returned in `tags`).
ParsedConfig parse_distribution_config(
    std::string_view xml_text, bool with_tags = false,
    std::vector<std::pair<std::string, std::string>>* tags = nullptr);

// CloudFront's path patterns: * matches any run of characters, ? one; case-sensitive; the
// pattern may omit the leading slash.
bool path_matches(std::string_view pattern, std::string_view path);

// CloudFront's managed cache policies, by id (nullptr for others: Lambent has no custom ones).
struct ManagedCachePolicy {
  const char* id;
  const char* name;
  int64_t min_ttl, default_ttl, max_ttl;
  CacheKey key;
};
const ManagedCachePolicy* managed_cache_policy(std::string_view id);

}  // namespace lambent::edge

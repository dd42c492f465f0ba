#include "edge/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include "edge/headers.h"

namespace lambent::edge {

namespace {

struct Refused {
  ConfigError error;
};

[[noreturn]] void refuse(std::string code, std::string message, unsigned status = 400) {
  throw Refused{{status, std::move(code), std::move(message)}};
}

std::string text(pugi::xml_node n, const char* child) { return n.child(child).text().as_string(); }

bool has(pugi::xml_node n, const char* child) { return static_cast<bool>(n.child(child)); }

void require(pugi::xml_node n, const char* child, const char* where) {
  if (!has(n, child)) {
    refuse("MalformedInput", fmt::format("The parameter {} is required in {}.", child, where));
  }
}

bool boolean(pugi::xml_node n, const char* child, bool fallback) {
  if (!has(n, child)) return fallback;
  std::string v = text(n, child);
  if (v == "true") return true;
  if (v == "false") return false;
  refuse("MalformedInput", fmt::format("{} must be true or false.", child));
}

int64_t integer(pugi::xml_node n, const char* child, int64_t fallback, int64_t lo, int64_t hi) {
  if (!has(n, child)) return fallback;
  std::string v = text(n, child);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  bool ok = !v.empty() && ec == std::errc() && end == v.data() + v.size();
  if (!ok || out < lo || out > hi) {
    refuse("InvalidArgument", fmt::format("The parameter {} has an invalid value: {}.", child, v));
  }
  return out;
}

// A CloudFront list: <Quantity>n</Quantity><Items><X/>…</Items>; the items, after checking that
// their count is the quantity.
std::vector<pugi::xml_node> items(pugi::xml_node list, const char* what) {
  std::vector<pugi::xml_node> out;
  if (!list) return out;
  if (!has(list, "Quantity")) refuse("MalformedInput", fmt::format("{} needs a Quantity.", what));
  int64_t quantity = integer(list, "Quantity", 0, 0, 10'000);
  for (pugi::xml_node c : list.child("Items").children()) {
    if (c.type() == pugi::node_element) out.push_back(c);
  }
  if (static_cast<int64_t>(out.size()) != quantity) {
    refuse("InconsistentQuantities",
           fmt::format("The value of Quantity and the size of Items don't match for {}.", what));
  }
  return out;
}

std::vector<std::string> item_texts(pugi::xml_node list, const char* what) {
  std::vector<std::string> out;
  for (auto n : items(list, what)) out.emplace_back(n.text().as_string());
  return out;
}

// Adds <child>value</child> when absent (CloudFront's defaults, as its answers show them).
pugi::xml_node ensure(pugi::xml_node n, const char* child, const char* value = nullptr) {
  pugi::xml_node c = n.child(child);
  if (!c) {
    c = n.append_child(child);
    if (value) c.text().set(value);
  }
  return c;
}

void ensure_list(pugi::xml_node n, const char* child) {
  if (!n.child(child)) ensure(ensure(n, child), "Quantity", "0");
}

const std::set<std::string, std::less<>> kEventTypes = {"viewer-request", "origin-request",
                                                        "origin-response", "viewer-response"};
const std::set<std::string, std::less<>> kMethods = {"GET",  "HEAD",  "OPTIONS", "PUT",
                                                     "POST", "PATCH", "DELETE"};

// The bucket an S3 origin's domain names: <bucket>.s3.amazonaws.com,
// <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>.amazonaws.com, or any
// <bucket>.s3.<domain> (Lambent's own virtual-hosted names).
std::string bucket_of(std::string_view domain) {
  size_t at = domain.find(".s3.");
  if (at == std::string_view::npos) at = domain.find(".s3-");
  return at == std::string_view::npos ? "" : std::string(domain.substr(0, at));
}

Origin read_origin(pugi::xml_node n) {
  require(n, "Id", "Origin");
  require(n, "DomainName", "Origin");
  Origin o;
  o.id = text(n, "Id");
  o.domain_name = lower(text(n, "DomainName"));
  o.path = text(n, "OriginPath");
  if (o.id.empty()) refuse("InvalidArgument", "The parameter origin Id cannot be empty.");
  if (o.domain_name.empty() || o.domain_name.size() > 253) {
    refuse("InvalidArgument", "The parameter origin name cannot be empty.");
  }
  if (!o.path.empty() && (o.path[0] != '/' || o.path.back() == '/' || o.path.size() > 255)) {
    refuse("InvalidArgument",
           "The parameter origin path must start with a slash and must not end with one.");
  }
  auto s3 = n.child("S3OriginConfig");
  auto custom = n.child("CustomOriginConfig");
  o.access_control_id = text(n, "OriginAccessControlId");
  if (s3 && custom) {
    refuse("InvalidOrigin",
           "The specified origin server does not exist or is not valid: an origin has either "
           "S3OriginConfig or CustomOriginConfig.");
  }
  if (!s3 && !custom) {
    refuse("InvalidOrigin",
           "The specified origin server does not exist or is not valid: an origin needs "
           "S3OriginConfig or CustomOriginConfig.");
  }
  // Neither origin access identities nor controls exist on this server (their APIs are not
  // served): naming one is naming one that does not exist, as CloudFront answers.
  if (s3 && !text(s3, "OriginAccessIdentity").empty()) {
    refuse("InvalidOriginAccessIdentity",
           "The specified origin access identity does not exist or is not valid.");
  }
  if (!o.access_control_id.empty()) {
    refuse("InvalidOriginAccessControl",
           "The specified origin access control does not exist or is not valid.");
  }
  if (s3) {
    o.s3 = true;
    o.bucket = bucket_of(o.domain_name);
    if (o.bucket.empty()) {
      refuse("InvalidArgument",
             "The parameter Origin DomainName does not refer to a valid S3 bucket.");
    }
  } else {
    for (const char* k : {"HTTPPort", "HTTPSPort", "OriginProtocolPolicy"}) {
      require(custom, k, "CustomOriginConfig");
    }
    o.http_port = static_cast<int>(integer(custom, "HTTPPort", 80, 1, 65535));
    o.https_port = static_cast<int>(integer(custom, "HTTPSPort", 443, 1, 65535));
    o.protocol_policy = text(custom, "OriginProtocolPolicy");
    if (o.protocol_policy != "http-only" && o.protocol_policy != "match-viewer" &&
        o.protocol_policy != "https-only") {
      refuse("InvalidArgument", "The parameter OriginProtocolPolicy has an invalid value.");
    }
    // 1-180 s (CloudFront's upper bound once raised by a quota request).
    auto timeout = [&](const char* member, int fallback, const char* code, const char* what) {
      int64_t t = integer(custom, member, fallback, 0, 1'000'000);
      if (t < 1 || t > 180) {
        refuse(code, fmt::format("The {} timeout specified for the origin is not valid.", what));
      }
      return static_cast<int>(t);
    };
    o.read_timeout_s = timeout("OriginReadTimeout", 30, "InvalidOriginReadTimeout", "read");
    o.keepalive_timeout_s =
        timeout("OriginKeepaliveTimeout", 5, "InvalidOriginKeepaliveTimeout", "keep alive");
    ensure(custom, "OriginReadTimeout", std::to_string(o.read_timeout_s).c_str());
    ensure(custom, "OriginKeepaliveTimeout", std::to_string(o.keepalive_timeout_s).c_str());
  }
  o.connection_attempts = static_cast<int>(integer(n, "ConnectionAttempts", 3, 1, 3));
  o.connection_timeout_s = static_cast<int>(integer(n, "ConnectionTimeout", 10, 1, 10));
  for (auto h : items(n.child("CustomHeaders"), "CustomHeaders")) {
    o.custom_headers.emplace_back(text(h, "HeaderName"), text(h, "HeaderValue"));
  }
  ensure(n, "OriginPath", "");
  ensure_list(n, "CustomHeaders");
  ensure(n, "ConnectionAttempts", "3");
  ensure(n, "ConnectionTimeout", "10");
  return o;
}

CacheKey::Items forward_items(pugi::xml_node list, std::vector<std::string>* names,
                              const char* what) {
  *names = item_texts(list, what);
  if (names->empty()) return CacheKey::Items::kNone;
  if (std::find(names->begin(), names->end(), "*") != names->end()) {
    names->clear();
    return CacheKey::Items::kAll;
  }
  return CacheKey::Items::kList;
}

Behavior read_behavior(pugi::xml_node n, bool is_default, const std::vector<Origin>& origins) {
  const char* where = is_default ? "DefaultCacheBehavior" : "CacheBehavior";
  if (!is_default) require(n, "PathPattern", where);
  require(n, "TargetOriginId", where);
  require(n, "ViewerProtocolPolicy", where);
  Behavior b;
  b.path_pattern = is_default ? "" : text(n, "PathPattern");
  b.target_origin = text(n, "TargetOriginId");
  if (std::none_of(origins.begin(), origins.end(),
                   [&](const Origin& o) { return o.id == b.target_origin; })) {
    refuse("NoSuchOrigin", "One or more of your origins or origin groups do not exist.", 404);
  }
  b.viewer_protocol_policy = text(n, "ViewerProtocolPolicy");
  if (b.viewer_protocol_policy != "allow-all" && b.viewer_protocol_policy != "https-only" &&
      b.viewer_protocol_policy != "redirect-to-https") {
    refuse("InvalidArgument", "The parameter ViewerProtocolPolicy has an invalid value.");
  }
  if (auto allowed = n.child("AllowedMethods")) {
    b.allowed_methods = item_texts(allowed, "AllowedMethods");
    b.cached_methods = {"GET", "HEAD"};
    if (auto cached = allowed.child("CachedMethods")) {
      b.cached_methods = item_texts(cached, "CachedMethods");
    }
    std::set<std::string> set(b.allowed_methods.begin(), b.allowed_methods.end());
    const std::set<std::string> get{"GET", "HEAD"}, options{"GET", "HEAD", "OPTIONS"};
    if (set != get && set != options &&
        set != std::set<std::string>(kMethods.begin(), kMethods.end())) {
      refuse("InvalidArgument",
             "The parameter AllowedMethods must be GET, HEAD; GET, HEAD, OPTIONS; or all seven "
             "methods.");
    }
    std::set<std::string> cached(b.cached_methods.begin(), b.cached_methods.end());
    if (cached != get && cached != options) {
      refuse("InvalidArgument",
             "The parameter CachedMethods must be GET, HEAD or GET, HEAD, OPTIONS.");
    }
  } else {
    auto added = n.append_child("AllowedMethods");
    ensure(added, "Quantity", "2");
    auto it = added.append_child("Items");
    it.append_child("Method").text().set("HEAD");
    it.append_child("Method").text().set("GET");
    auto cached = added.append_child("CachedMethods");
    ensure(cached, "Quantity", "2");
    auto ci = cached.append_child("Items");
    ci.append_child("Method").text().set("HEAD");
    ci.append_child("Method").text().set("GET");
  }
  b.compress = boolean(n, "Compress", false);
  auto forwarded = n.child("ForwardedValues");
  b.cache_policy_id = text(n, "CachePolicyId");
  if (!forwarded && b.cache_policy_id.empty()) {
    refuse("InvalidArgument", "The parameter ForwardedValues is required.");
  }
  if (forwarded && !b.cache_policy_id.empty()) {
    refuse("InvalidArgument",
           "The parameter ForwardedValues cannot be used when a cache policy is associated to "
           "the cache behavior.");
  }
  if (forwarded) {
    require(forwarded, "QueryString", "ForwardedValues");
    require(forwarded, "Cookies", "ForwardedValues");
    if (boolean(forwarded, "QueryString", false)) {
      auto keys = item_texts(forwarded.child("QueryStringCacheKeys"), "QueryStringCacheKeys");
      b.key.query = keys.empty() ? CacheKey::Items::kAll : CacheKey::Items::kList;
      b.key.query_names = std::move(keys);
    }
    auto cookies = forwarded.child("Cookies");
    require(cookies, "Forward", "Cookies");
    std::string forward = text(cookies, "Forward");
    if (forward == "all") {
      b.key.cookies = CacheKey::Items::kAll;
    } else if (forward == "whitelist") {
      b.key.cookies = CacheKey::Items::kList;
      b.key.cookie_names = item_texts(cookies.child("WhitelistedNames"), "WhitelistedNames");
    } else if (forward != "none") {
      refuse("InvalidForwardCookies",
             "Your request contains forward cookies option which doesn't match with the "
             "expectation for the whitelisted list of cookie names.");
    }
    b.key.headers = forward_items(forwarded.child("Headers"), &b.key.header_names, "Headers");
    for (auto& h : b.key.header_names) h = lower(h);
    ensure_list(forwarded, "Headers");
    ensure_list(forwarded, "QueryStringCacheKeys");
    require(n, "MinTTL", where);
    b.min_ttl = integer(n, "MinTTL", 0, 0, 3'153'600'000);
    b.default_ttl = integer(n, "DefaultTTL", 86400, 0, 3'153'600'000);
    b.max_ttl = integer(n, "MaxTTL", 31536000, 0, 3'153'600'000);
    if (b.min_ttl > b.default_ttl || b.default_ttl > b.max_ttl) {
      refuse("InvalidTTLOrder", "The TTL order specified in CacheBehavior is not valid.");
    }
    ensure(n, "DefaultTTL", std::to_string(b.default_ttl).c_str());
    ensure(n, "MaxTTL", std::to_string(b.max_ttl).c_str());
  } else {
    const ManagedCachePolicy* p = managed_cache_policy(b.cache_policy_id);
    if (!p) refuse("NoSuchCachePolicy", "The cache policy does not exist.", 404);
    b.min_ttl = p->min_ttl;
    b.default_ttl = p->default_ttl;
    b.max_ttl = p->max_ttl;
    b.key = p->key;
  }
  std::set<std::string> seen;
  for (auto a : items(n.child("LambdaFunctionAssociations"), "LambdaFunctionAssociations")) {
    Association as;
    require(a, "LambdaFunctionARN", "LambdaFunctionAssociation");
    require(a, "EventType", "LambdaFunctionAssociation");
    as.arn = text(a, "LambdaFunctionARN");
    as.event_type = text(a, "EventType");
    as.include_body = boolean(a, "IncludeBody", false);
    if (!kEventTypes.count(as.event_type)) {
      refuse("InvalidArgument", "The parameter EventType has an invalid value: " + as.event_type);
    }
    if (!seen.insert(as.event_type).second) {
      refuse(
          "InvalidLambdaFunctionAssociation",
          "You can't associate more than one function with the same event type: " + as.event_type);
    }
    if (as.include_body &&
        (as.event_type == "origin-response" || as.event_type == "viewer-response")) {
      refuse("InvalidLambdaFunctionAssociation",
             "IncludeBody is only supported for viewer-request and origin-request events.");
    }
    ensure(a, "IncludeBody", as.include_body ? "true" : "false");
    b.associations.push_back(std::move(as));
  }
  ensure_list(n, "LambdaFunctionAssociations");
  ensure_list(n, "FunctionAssociations");
  auto signers = ensure(n, "TrustedSigners");
  ensure(signers, "Enabled", "false");
  ensure(signers, "Quantity", "0");
  auto groups = ensure(n, "TrustedKeyGroups");
  ensure(groups, "Enabled", "false");
  ensure(groups, "Quantity", "0");
  ensure(n, "SmoothStreaming", "false");
  ensure(n, "Compress", "false");
  ensure(n, "FieldLevelEncryptionId", "");
  return b;
}

// The pattern with its leading slash, for matching.
std::string_view strip_slash(std::string_view s) {
  return !s.empty() && s[0] == '/' ? s.substr(1) : s;
}

bool glob(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

bool path_matches(std::string_view pattern, std::string_view path) {
  return glob(strip_slash(pattern), strip_slash(path));
}

const Association* Behavior::association(std::string_view event_type) const {
  for (const auto& a : associations) {
    if (a.event_type == event_type) return &a;
  }
  return nullptr;
}

bool Behavior::allows(std::string_view method) const {
  return std::find(allowed_methods.begin(), allowed_methods.end(), method) != allowed_methods.end();
}

bool Behavior::caches(std::string_view method) const {
  return std::find(cached_methods.begin(), cached_methods.end(), method) != cached_methods.end();
}

const Origin* DistributionConfig::origin(std::string_view id) const {
  for (const auto& o : origins) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

const Behavior& DistributionConfig::behavior_for(std::string_view path) const {
  for (const auto& b : behaviors) {
    if (path_matches(b.path_pattern, path)) return b;
  }
  return default_behavior;
}

std::vector<const Association*> DistributionConfig::associations() const {
  std::vector<const Association*> out;
  for (const auto& a : default_behavior.associations) out.push_back(&a);
  for (const auto& b : behaviors) {
    for (const auto& a : b.associations) out.push_back(&a);
  }
  return out;
}

const ManagedCachePolicy* managed_cache_policy(std::string_view id) {
  using I = CacheKey::Items;
  static const ManagedCachePolicy kPolicies[] = {
      {"658327ea-f89d-4fab-a63d-7e88639e58f6", "Managed-CachingOptimized", 1, 86400, 31536000, {}},
      {"4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "Managed-CachingDisabled", 0, 0, 0, {}},
      {"b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
       "Managed-CachingOptimizedForUncompressedObjects",
       1,
       86400,
       31536000,
       {}},
      {"83da9c7e-98b4-4e11-a168-04f0df8e2c65", "Managed-UseOriginCacheControlHeaders", 0, 0,
       31536000,
       CacheKey{I::kNone,
                {},
                I::kList,
                {"host", "origin", "x-http-method", "x-http-method-override", "x-method-override"},
                I::kAll,
                {}}},
      {"4cc15a8a-d715-48a4-82b8-cc0b614638fe", "Managed-UseOriginCacheControlHeaders-QueryStrings",
       0, 0, 31536000,
       CacheKey{I::kAll,
                {},
                I::kList,
                {"host", "origin", "x-http-method", "x-http-method-override", "x-method-override"},
                I::kAll,
                {}}},
  };
  for (const auto& p : kPolicies) {
    if (id == p.id) return &p;
  }
  return nullptr;
}

ParsedConfig parse_distribution_config(std::string_view xml_text, bool with_tags,
                                       std::vector<std::pair<std::string, std::string>>* tags) {
  ParsedConfig out;
  try {
    pugi::xml_document doc;
    if (xml_text.empty()) {
      refuse("MissingBody",
             "This operation requires a body. Ensure that the body is present and the "
             "Content-Type header is set.");
    }
    if (!doc.load_buffer(xml_text.data(), xml_text.size())) {
      refuse("MalformedInput", "Could not parse the XML document.");
    }
    pugi::xml_node root = doc.document_element();
    if (with_tags) {
      if (std::string_view(root.name()) != "DistributionConfigWithTags") {
        refuse("MalformedInput", "The root element must be DistributionConfigWithTags.");
      }
      for (auto t : root.child("Tags").child("Items").children("Tag")) {
        if (tags) tags->emplace_back(text(t, "Key"), text(t, "Value"));
      }
      root = root.child("DistributionConfig");
    }
    if (!root || std::string_view(root.name()) != "DistributionConfig") {
      refuse("MalformedInput", "The root element must be DistributionConfig.");
    }
    root.remove_attribute("xmlns");
    for (const char* k :
         {"CallerReference", "Origins", "DefaultCacheBehavior", "Comment", "Enabled"}) {
      require(root, k, "DistributionConfig");
    }
    DistributionConfig& c = out.config;
    c.caller_reference = text(root, "CallerReference");
    if (c.caller_reference.empty()) {
      refuse("InvalidArgument", "The parameter CallerReference cannot be empty.");
    }
    c.comment = text(root, "Comment");
    if (c.comment.size() > 128) {
      refuse("InvalidArgument", "The parameter Comment is too long (128 characters at most).");
    }
    c.enabled = boolean(root, "Enabled", true);
    for (auto& a : item_texts(root.child("Aliases"), "Aliases")) c.aliases.push_back(lower(a));
    c.default_root_object = text(root, "DefaultRootObject");
    if (!c.default_root_object.empty() && c.default_root_object[0] == '/') {
      refuse("InvalidDefaultRootObject", "The specified default root object is invalid.");
    }
    std::set<std::string> ids;
    for (auto o : items(root.child("Origins"), "Origins")) {
      c.origins.push_back(read_origin(o));
      if (!ids.insert(c.origins.back().id).second) {
        refuse("InvalidArgument", "The parameter Origin Id must be unique: " + c.origins.back().id);
      }
    }
    if (c.origins.empty())
      refuse("InvalidArgument", "The parameter Origins must have at least one item.");
    if (c.origins.size() > 25) {
      refuse("TooManyOrigins", "You cannot create more origins for the distribution.");
    }
    c.default_behavior = read_behavior(root.child("DefaultCacheBehavior"), true, c.origins);
    for (auto b : items(root.child("CacheBehaviors"), "CacheBehaviors")) {
      c.behaviors.push_back(read_behavior(b, false, c.origins));
    }
    if (c.behaviors.size() > 25) {
      refuse("TooManyCacheBehaviors",
             "You cannot create more cache behaviors for the distribution.");
    }
    if (c.associations().size() > 100) {
      refuse("TooManyLambdaFunctionAssociations",
             "Your request contains more Lambda function associations than are allowed per "
             "distribution.");
    }
    if (has(root, "PriceClass")) {
      c.price_class = text(root, "PriceClass");
      if (c.price_class != "PriceClass_100" && c.price_class != "PriceClass_200" &&
          c.price_class != "PriceClass_All" && c.price_class != "None") {
        refuse("InvalidArgument", "The parameter PriceClass has an invalid value.");
      }
    }
    if (has(root, "HttpVersion")) {
      c.http_version = text(root, "HttpVersion");
      if (c.http_version != "http1.1" && c.http_version != "http2" && c.http_version != "http3" &&
          c.http_version != "http2and3") {
        refuse("InvalidArgument", "The parameter HttpVersion has an invalid value.");
      }
    }
    // CloudFront's defaults, as its answers carry them.
    ensure_list(root, "Aliases");
    ensure(root, "DefaultRootObject", "");
    ensure_list(root, "OriginGroups");
    ensure_list(root, "CacheBehaviors");
    ensure_list(root, "CustomErrorResponses");
    if (!has(root, "Logging")) {
      auto logging = root.append_child("Logging");
      ensure(logging, "Enabled", "false");
      ensure(logging, "IncludeCookies", "false");
      ensure(logging, "Bucket", "");
      ensure(logging, "Prefix", "");
    }
    ensure(root, "PriceClass", "PriceClass_All");
    if (!has(root, "ViewerCertificate")) {
      auto cert = root.append_child("ViewerCertificate");
      ensure(cert, "CloudFrontDefaultCertificate", "true");
      ensure(cert, "SSLSupportMethod", "vip");
      ensure(cert, "MinimumProtocolVersion", "TLSv1");
      ensure(cert, "CertificateSource", "cloudfront");
    }
    if (!has(root, "Restrictions")) {
      auto geo = root.append_child("Restrictions").append_child("GeoRestriction");
      ensure(geo, "RestrictionType", "none");
      ensure(geo, "Quantity", "0");
    }
    ensure(root, "WebACLId", "");
    ensure(root, "HttpVersion", "http2");
    ensure(root, "IsIPV6Enabled", "true");
    ensure(root, "Staging", "false");
    std::ostringstream os;
    root.print(os, "", pugi::format_raw | pugi::format_no_empty_element_tags);
    out.xml = os.str();
  } catch (const Refused& r) {
    out.error = r.error;
  }
  return out;
}

}  // namespace lambent::edge

#include "edge/lambda_edge.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <map>
#include <set>

#include "base/codec.h"
#include "edge/headers.h"

namespace lambent::edge {
namespace json = boost::json;

namespace {

ConfigError invalid_association(std::string message) {
  return {400, "InvalidLambdaFunctionAssociation", std::move(message)};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Headers CloudFront keeps for itself: a function may not add or change them anywhere.
bool disallowed(std::string_view lower_name) {
  static const std::set<std::string, std::less<>> kNames = {"connection",
                                                            "expect",
                                                            "keep-alive",
                                                            "proxy-authenticate",
                                                            "proxy-authorization",
                                                            "proxy-connection",
                                                            "trailer",
                                                            "upgrade",
                                                            "x-accel-buffering",
                                                            "x-accel-charset",
                                                            "x-accel-limit-rate",
                                                            "x-accel-redirect",
                                                            "x-amzn-auth",
                                                            "x-amzn-cf-billing",
                                                            "x-amzn-cf-id",
                                                            "x-amzn-cf-xff",
                                                            "x-amzn-errortype",
                                                            "x-amzn-fle-profile",
                                                            "x-amzn-header-count",
                                                            "x-amzn-header-order",
                                                            "x-amzn-lambda-integration-tag",
                                                            "x-amzn-requestid",
                                                            "x-cache",
                                                            "x-forwarded-proto",
                                                            "x-real-ip"};
  return kNames.count(lower_name) > 0 || lower_name.rfind("x-amz-cf-", 0) == 0 ||
         lower_name.rfind("x-edge-", 0) == 0;
}

// Headers a function sees but may not change, per event type (CloudFront's lists).
const std::set<std::string, std::less<>>& read_only(std::string_view event_type) {
  static const std::set<std::string, std::less<>> kViewerRequest = {"content-length", "host",
                                                                    "transfer-encoding", "via"};
  static const std::set<std::string, std::less<>> kOriginRequest = {
      "accept-encoding", "content-length",      "if-modified-since", "if-none-match",
      "if-range",        "if-unmodified-since", "transfer-encoding", "via"};
  static const std::set<std::string, std::less<>> kOriginResponse = {"transfer-encoding", "via"};
  static const std::set<std::string, std::less<>> kViewerResponse = {
      "content-encoding", "content-length", "transfer-encoding", "warning", "via"};
  if (event_type == "viewer-request") return kViewerRequest;
  if (event_type == "origin-request") return kOriginRequest;
  if (event_type == "origin-response") return kOriginResponse;
  return kViewerResponse;
}

json::object headers_json(const Headers& headers) {
  json::object out;
  for (const auto& [k, v] : headers) {
    auto& list = out[lower(k)];
    if (!list.is_array()) list = json::array();
    list.as_array().push_back(json::object{{"key", k}, {"value", v}});
  }
  return out;
}

struct Invalid {
  std::string why;
};

[[noreturn]] void fail(std::string why) { throw Invalid{std::move(why)}; }

const char* kReadOnly =
    "The Lambda function result failed validation: The function tried to add, delete, or change "
    "a read-only header.";

// The function's headers object, as a list (Title-Case keys where it left them out).
Headers read_headers(const json::value& v) {
  if (!v.is_object())
    fail("The Lambda function result failed validation: The headers are not an object.");
  Headers out;
  for (const auto& [name, list] : v.as_object()) {
    if (!list.is_array()) {
      fail("The Lambda function result failed validation: The header " + std::string(name) +
           " is not a list.");
    }
    for (const auto& entry : list.as_array()) {
      const json::object* e = entry.if_object();
      const json::value* value = e ? e->if_contains("value") : nullptr;
      if (!value || !value->is_string()) {
        fail("The Lambda function result failed validation: The header " + std::string(name) +
             " has an entry without a string value.");
      }
      std::string key = title_case(name);
      if (const json::value* k = e->if_contains("key")) {
        if (!k->is_string() || lower(k->as_string()) != lower(name)) {
          fail("The Lambda function result failed validation: The header key " + std::string(name) +
               " does not match its name.");
        }
        key = std::string(k->as_string());
      }
      std::string val(value->as_string());
      if (val.find_first_of("\r\n") != std::string::npos || key.empty() ||
          key.find_first_of(" :\r\n\t") != std::string::npos) {
        fail("The Lambda function result failed validation: The header " + std::string(name) +
             " is not a valid HTTP header.");
      }
      out.emplace_back(std::move(key), std::move(val));
    }
  }
  return out;
}

std::multiset<std::string> values_of(const Headers& h, std::string_view lower_name) {
  std::multiset<std::string> out;
  for (const auto& [k, v] : h) {
    if (iequals(k, lower_name)) out.insert(v);
  }
  return out;
}

void check_headers(std::string_view event_type, const Headers& before, const Headers& after,
                   bool same_kind) {
  std::set<std::string> names;
  for (const auto& [k, v] : before) names.insert(lower(k));
  for (const auto& [k, v] : after) names.insert(lower(k));
  for (const auto& name : names) {
    bool changed = values_of(before, name) != values_of(after, name);
    if (!changed) continue;
    if (disallowed(name)) {
      fail(
          "The Lambda function result failed validation: The function tried to add, delete, or "
          "change a disallowed header: " +
          name + ".");
    }
    if (same_kind && read_only(event_type).count(name)) fail(kReadOnly);
  }
}

std::string read_body(const json::object& o, const char* data_key, const char* encoding_key,
                      size_t limit) {
  const json::value* data = o.if_contains(data_key);
  if (!data || data->is_null()) return "";
  if (!data->is_string()) {
    fail(
        "The Lambda function result failed validation: The body is not a string, is not an "
        "object, or exceeds the maximum size.");
  }
  std::string encoding = "text";
  if (const json::value* e = o.if_contains(encoding_key); e && e->is_string()) {
    encoding = std::string(e->as_string());
  }
  std::string body;
  if (encoding == "base64") {
    auto decoded = base64_decode(data->as_string());
    if (!decoded)
      fail("The Lambda function result failed validation: The body is not valid base64.");
    body = std::move(*decoded);
  } else if (encoding == "text") {
    body = std::string(data->as_string());
  } else {
    fail("The Lambda function result failed validation: The body encoding must be text or base64.");
  }
  if (body.size() > limit) {
    fail(
        "The Lambda function result failed validation: The body is not a string, is not an "
        "object, or exceeds the maximum size.");
  }
  return body;
}

EdgeResponse read_response(std::string_view event_type, const json::object& o, size_t limit) {
  EdgeResponse r;
  const json::value* status = o.if_contains("status");
  int64_t code = 0;
  if (status && status->is_string() && all_digits(status->as_string()) &&
      status->as_string().size() <= 3) {
    code = std::stoll(std::string(status->as_string()));
  } else if (status && status->is_int64()) {
    code = status->as_int64();
  }
  if (code < 200 || code > 599) {
    fail(
        "The Lambda function result failed validation: The status code is not valid (it must "
        "be from 200 to 599).");
  }
  r.status = static_cast<unsigned>(code);
  if (const json::value* d = o.if_contains("statusDescription"); d && d->is_string()) {
    r.status_description = std::string(d->as_string());
  }
  if (const json::value* h = o.if_contains("headers"); h && !h->is_null())
    r.headers = read_headers(*h);
  r.body = read_body(o, "body", "bodyEncoding", limit);
  size_t size = r.body.size();
  for (const auto& [k, v] : r.headers) size += k.size() + v.size() + 4;
  if (size > limit) {
    fail(
        fmt::format("The Lambda function result failed validation: The size of the generated "
                    "response exceeds the maximum of {} bytes for {} events.",
                    limit, event_type));
  }
  return r;
}

void read_origin(const json::object& o, Origin& origin) {
  if (const json::value* c = o.if_contains("custom"); c && c->is_object()) {
    const json::object& custom = c->as_object();
    origin.s3 = false;
    origin.bucket.clear();
    if (auto* d = custom.if_contains("domainName"); d && d->is_string()) {
      origin.domain_name = lower(d->as_string());
    }
    if (origin.domain_name.empty() || origin.domain_name.size() > 253) {
      fail("The Lambda function result failed validation: The origin domain name is not valid.");
    }
    if (auto* p = custom.if_contains("port"); p && p->is_int64()) {
      int64_t port = p->as_int64();
      if (port != 80 && port != 443 && (port < 1024 || port > 65535)) {
        fail("The Lambda function result failed validation: The origin port is not valid.");
      }
      if (auto* proto = custom.if_contains("protocol");
          proto && proto->is_string() && proto->as_string() == "https") {
        origin.https_port = static_cast<int>(port);
      } else {
        origin.http_port = static_cast<int>(port);
      }
    }
    if (auto* proto = custom.if_contains("protocol"); proto && proto->is_string()) {
      if (proto->as_string() != "http" && proto->as_string() != "https") {
        fail("The Lambda function result failed validation: The origin protocol is not valid.");
      }
      origin.protocol_policy = proto->as_string() == "https" ? "https-only" : "http-only";
    }
    if (auto* p = custom.if_contains("path"); p && p->is_string()) {
      origin.path = std::string(p->as_string());
      if (!origin.path.empty() && (origin.path[0] != '/' || origin.path.back() == '/')) {
        fail("The Lambda function result failed validation: The origin path is not valid.");
      }
    }
    if (auto* h = custom.if_contains("customHeaders"); h && h->is_object()) {
      origin.custom_headers = read_headers(*h);
    }
  } else if (const json::value* s = o.if_contains("s3"); s && s->is_object()) {
    const json::object& s3 = s->as_object();
    if (auto* d = s3.if_contains("domainName"); d && d->is_string()) {
      std::string domain = lower(d->as_string());
      size_t at = domain.find(".s3.");
      if (at == std::string::npos || at == 0) {
        fail(
            "The Lambda function result failed validation: The S3 origin domain name is not "
            "valid.");
      }
      origin.domain_name = domain;
      origin.bucket = domain.substr(0, at);
      origin.s3 = true;
    }
    if (auto* p = s3.if_contains("path"); p && p->is_string())
      origin.path = std::string(p->as_string());
    if (auto* h = s3.if_contains("customHeaders"); h && h->is_object()) {
      origin.custom_headers = read_headers(*h);
    }
  } else {
    fail("The Lambda function result failed validation: The origin is not valid.");
  }
}

}  // namespace

std::string title_case(std::string_view name) {
  std::string out(name);
  bool start = true;
  for (char& c : out) {
    c = static_cast<char>(start ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
    start = c == '-';
  }
  return out;
}

std::pair<std::string, std::string> function_of(std::string_view arn) {
  size_t at = arn.find(":function:");
  if (at == std::string_view::npos) return {};
  std::string_view rest = arn.substr(at + 10);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return {std::string(rest), ""};
  return {std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
}

bool is_viewer_event(std::string_view event_type) { return event_type.rfind("viewer-", 0) == 0; }

size_t generated_response_limit(std::string_view event_type) {
  return is_viewer_event(event_type) ? 40 * 1024 : 1024 * 1024;
}

size_t body_limit(std::string_view event_type) {
  return is_viewer_event(event_type) ? 40 * 1024 : 1024 * 1024;
}

std::optional<ConfigError> check_associations(const DistributionConfig& config,
                                              std::string_view account,
                                              const FunctionLookup& lookup) {
  for (const Association* a : config.associations()) {
    const std::string& arn = a->arn;
    // arn:aws:lambda:<region>:<account>:function:<name>:<version>
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= arn.size(); ++i) {
      if (i == arn.size() || arn[i] == ':') {
        parts.push_back(arn.substr(start, i - start));
        start = i + 1;
      }
    }
    const std::string retrieve = fmt::format(
        "Lambda@Edge cannot retrieve the specified Lambda function. Update the IAM policy to add "
        "permission: lambda:GetFunction for resource: {} and try again.",
        arn);
    if (parts.size() < 7 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function") {
      return invalid_association(
          fmt::format("The function ARN must reference a specific function version. (The ARN "
                      "must end with the version number.) ARN: {}",
                      arn));
    }
    if (parts.size() != 8 || !all_digits(parts[7])) {
      return invalid_association(
          fmt::format("The function ARN must reference a specific function version. (The ARN "
                      "must end with the version number.) ARN: {}",
                      arn));
    }
    if (parts[3] != "us-east-1") {
      return invalid_association(
          fmt::format("The function must be in region 'us-east-1'. ARN: {}", arn));
    }
    if (parts[4] != account) return invalid_association(retrieve);
    std::optional<FunctionFacts> f = lookup(parts[6], parts[7]);
    if (!f || !f->readable) return invalid_association(retrieve);
    if (!f->role_trusted) {
      return invalid_association(fmt::format(
          "The function execution role must be assumable with edgelambda.amazonaws.com as well "
          "as lambda.amazonaws.com principals. Update the IAM role and try again. Role: {}",
          f->role));
    }
    if (f->runtime.rfind("nodejs", 0) != 0 && f->runtime.rfind("python", 0) != 0) {
      return invalid_association(fmt::format(
          "The function has an invalid runtime for functions that are triggered by a CloudFront "
          "event: {} Function: {}",
          f->runtime, arn));
    }
    if (f->has_environment) {
      return invalid_association(
          fmt::format("The function cannot have environment variables. Function: {}", arn));
    }
    if (f->layers > 0) {
      return invalid_association(fmt::format("The function cannot have layers. Function: {}", arn));
    }
    if (f->has_dead_letter) {
      return invalid_association(
          fmt::format("The function cannot have a DeadLetterConfig. Function: {}", arn));
    }
    const bool viewer = is_viewer_event(a->event_type);
    const int64_t max_timeout = viewer ? 5 : 30;
    if (f->timeout_s > max_timeout) {
      return invalid_association(fmt::format(
          "The function timeout is larger than the maximum allowed for functions that are "
          "triggered by a CloudFront event: {} Max allowed: {} Function: {}",
          f->timeout_s, max_timeout, arn));
    }
    if (viewer && f->memory_mb > 128) {
      return invalid_association(fmt::format(
          "The function memory size is larger than the maximum allowed size for functions that "
          "are triggered by a CloudFront viewer event: {} Max allowed: 128 Function: {}",
          f->memory_mb, arn));
    }
  }
  return std::nullopt;
}

std::string build_event(const EventContext& ctx, const EdgeRequest& request,
                        const EdgeResponse* response) {
  json::object req{{"clientIp", request.client_ip},
                   {"headers", headers_json(request.headers)},
                   {"method", request.method},
                   {"querystring", request.querystring},
                   {"uri", request.uri}};
  const bool request_event =
      ctx.event_type == "viewer-request" || ctx.event_type == "origin-request";
  if (ctx.include_body && request_event) {
    req["body"] = json::object{{"inputTruncated", request.body_truncated},
                               {"action", "read-only"},
                               {"encoding", "base64"},
                               {"data", base64_encode(request.body)}};
  }
  if (ctx.event_type.rfind("origin-", 0) == 0) {
    const Origin& o = request.origin;
    Headers custom(o.custom_headers.begin(), o.custom_headers.end());
    if (o.s3) {
      req["origin"] = json::object{
          {"s3", json::object{{"authMethod",
                               o.access_control_id.empty() ? "none" : "origin-access-identity"},
                              {"customHeaders", headers_json(custom)},
                              {"domainName", o.domain_name},
                              {"path", o.path},
                              {"region", "us-east-1"}}}};
    } else {
      const bool https = o.protocol_policy == "https-only";
      req["origin"] =
          json::object{{"custom", json::object{{"customHeaders", headers_json(custom)},
                                               {"domainName", o.domain_name},
                                               {"keepaliveTimeout", o.keepalive_timeout_s},
                                               {"path", o.path},
                                               {"port", https ? o.https_port : o.http_port},
                                               {"protocol", https ? "https" : "http"},
                                               {"readTimeout", o.read_timeout_s},
                                               {"sslProtocols", json::array{"TLSv1.2"}}}}};
    }
  }
  json::object cf{{"config", json::object{{"distributionDomainName", ctx.distribution_domain},
                                          {"distributionId", ctx.distribution_id},
                                          {"eventType", ctx.event_type},
                                          {"requestId", ctx.request_id}}},
                  {"request", std::move(req)}};
  if (response) {
    cf["response"] = json::object{{"headers", headers_json(response->headers)},
                                  {"status", std::to_string(response->status)},
                                  {"statusDescription", response->status_description}};
  }
  return json::serialize(
      json::object{{"Records", json::array{json::object{{"cf", std::move(cf)}}}}});
}

TriggerResult apply_result(const EventContext& ctx, std::string_view payload, EdgeRequest& request,
                           EdgeResponse* response) {
  TriggerResult out;
  try {
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec) fail("The Lambda function returned invalid JSON: The JSON output is not parsable.");
    if (!v.is_object()) {
      fail("The Lambda function returned invalid JSON: The JSON output is not an object.");
    }
    const json::object& o = v.as_object();
    const std::string& type = ctx.event_type;
    if (!response) {
      if (o.contains("status")) {
        // A generated response: the origin (and, from a viewer request, the cache) is skipped.
        EdgeResponse generated = read_response(type, o, generated_response_limit(type));
        check_headers(type, {}, generated.headers, false);
        out.generated = std::move(generated);
        return out;
      }
      EdgeRequest changed = request;
      if (auto* m = o.if_contains("method");
          m && (!m->is_string() || m->as_string() != request.method)) {
        fail(
            "The Lambda function result failed validation: The function tried to change the "
            "read-only method.");
      }
      if (auto* ip = o.if_contains("clientIp");
          ip && (!ip->is_string() || ip->as_string() != request.client_ip)) {
        fail(
            "The Lambda function result failed validation: The function tried to change the "
            "read-only clientIp.");
      }
      if (auto* u = o.if_contains("uri")) {
        if (!u->is_string() || u->as_string().empty() || u->as_string()[0] != '/') {
          fail("The Lambda function result failed validation: The URI must start with a slash.");
        }
        changed.uri = std::string(u->as_string());
      }
      if (auto* q = o.if_contains("querystring")) {
        if (!q->is_string() || (!q->as_string().empty() && q->as_string()[0] == '?') ||
            std::string_view(q->as_string()).find_first_of(" #") != std::string_view::npos) {
          fail("The Lambda function result failed validation: The query string is not valid.");
        }
        changed.querystring = std::string(q->as_string());
      }
      if (changed.uri.size() + changed.querystring.size() >= 8192) {
        fail(
            "The Lambda function result failed validation: The URI and query string are too "
            "long.");
      }
      if (auto* h = o.if_contains("headers")) changed.headers = read_headers(*h);
      check_headers(type, request.headers, changed.headers, true);
      if (auto* b = o.if_contains("body"); b && b->is_object()) {
        const json::object& body = b->as_object();
        if (auto* action = body.if_contains("action");
            action && action->is_string() && action->as_string() == "replace") {
          changed.body = read_body(body, "data", "encoding", body_limit(type));
          changed.body_truncated = false;
        }
      }
      if (type == "origin-request") {
        if (auto* origin = o.if_contains("origin"); origin && origin->is_object()) {
          read_origin(origin->as_object(), changed.origin);
        }
      }
      request = std::move(changed);
      return out;
    }
    // Response events: the (changed) response.
    EdgeResponse changed = read_response(type, o, generated_response_limit(type));
    check_headers(type, response->headers, changed.headers, true);
    out.body_replaced = o.contains("body");
    if (!out.body_replaced) changed.body = std::move(response->body);
    *response = std::move(changed);
  } catch (const Invalid& e) {
    out.invalid = e.why;
  }
  return out;
}

}  // namespace lambent::edge

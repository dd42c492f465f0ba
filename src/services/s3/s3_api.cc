#include "services/s3/s3_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/pct_string_view.hpp>
#include <ctime>
#include <pugixml.hpp>
#include <set>

#include "aws/sigv4.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"
#include "base/time.h"
#include "http/stream.h"
#include "services/s3/internal.h"

namespace lambent::s3 {
namespace asio = boost::asio;
namespace json = boost::json;

// --- helpers shared by the service's files

bool S3Api::Ctx::has_query(std::string_view name) const {
  for (const auto& [k, v] : req.query) {
    if (k == name) return true;
  }
  return false;
}

std::string S3Api::Ctx::query(std::string_view name) const {
  auto v = req.query_param(name);
  return v ? *v : "";
}

std::string S3Api::Ctx::header(std::string_view name) const {
  const std::string* v = req.find_header(name);
  return v ? *v : "";
}

aws::ServiceError s3_error(unsigned status, std::string code, std::string message,
                           std::vector<std::pair<std::string, std::string>> extra) {
  aws::ServiceError e(status, std::move(code), std::move(message));
  e.extra = std::move(extra);
  return e;
}

aws::ServiceError no_such_bucket(const std::string& bucket) {
  return s3_error(404, "NoSuchBucket", "The specified bucket does not exist",
                  {{"BucketName", bucket}});
}

aws::ServiceError no_such_key(const std::string& key) {
  return s3_error(404, "NoSuchKey", "The specified key does not exist.", {{"Key", key}});
}

aws::ServiceError malformed_xml() {
  return s3_error(400, "MalformedXML",
                  "The XML you provided was not well-formed or did not validate against our "
                  "published schema");
}

void throw_store(const Error& e, const std::string& bucket) {
  if (e.code == Errc::kNotFound) throw no_such_bucket(bucket);
  log::error("s3: store: {}", e.message);
  throw s3_error(500, "InternalError", "We encountered an internal error. Please try again.");
}

http::Response s3_response(const http::Request& req, unsigned status, std::string xml) {
  http::Response r;
  r.status = status;
  r.set_header("x-amz-request-id", req.request_id);
  r.set_header("x-amz-id-2", base64_encode(req.request_id));
  r.set_header("Server", "AmazonS3");
  if (!xml.empty()) {
    r.content_type = "application/xml";
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + std::move(xml);
  }
  return r;
}

void xml_elem(std::string& out, std::string_view name, std::string_view text) {
  out.push_back('<');
  out.append(name);
  out.push_back('>');
  out.append(xml_escape(text));
  out.append("</");
  out.append(name);
  out.push_back('>');
}

std::string url_encode_key(std::string_view s) { return aws::sigv4::uri_encode(s, true); }

std::optional<std::string> pct_decode(std::string_view s) {
  auto pct = boost::urls::make_pct_string_view(s);
  if (!pct) return std::nullopt;
  return pct->decode();
}

// --- the service

aws::ServiceInfo S3Api::info() {
  aws::ServiceInfo i;
  i.name = "s3";
  i.protocol = aws::Protocol::kRestXml;
  i.skew_seconds = 900;
  return i;
}

S3Api::S3Api(Deps deps) : deps_(std::move(deps)), info_(info()) {}

namespace {

// "<bucket>.s3.<rest>" (virtual-hosted style): the bucket, or "".
std::string bucket_of_host(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  size_t at = host.find(".s3.");
  if (at == std::string_view::npos || at == 0) return "";
  return std::string(host.substr(0, at));
}

// The service a request is signed for (the credential scope of its Authorization header or
// presigned X-Amz-Credential), "" when unsigned.
std::string signed_service(const http::Request& r) {
  if (const std::string* auth = r.find_header("authorization")) {
    return aws::credential_scope_service(*auth);
  }
  for (const auto& [k, v] : r.query) {
    if (k == "X-Amz-Credential") return aws::credential_scope_service("Credential=" + v);
  }
  return "";
}
bool signed_for_other(const http::Request& r) {
  std::string service = signed_service(r);
  return !service.empty() && service != "s3";
}

}  // namespace

void S3Api::add_routes(http::Router& router) {
  constexpr size_t kMaxBody = (5ull << 30) + (64ull << 20);  // 5 GiB and aws-chunked framing
  auto handler = [this](http::Request& req) { return handle(req); };
  router.add({.name = "S3",
              .method = "",
              .pattern = "",
              .body_limit = kMaxBody,
              .handler = handler,
              .stream_body = true,
              .claim = [](const http::Request& r) {
                if (signed_service(r) == "s3") return true;
                // A bucket's host name — unless the request is another service's (a server
                // reached by a name such as "lambent.s3.corp" still serves Lambda there).
                const std::string* host = r.find_header("host");
                return host && !bucket_of_host(*host).empty() && !signed_for_other(r);
              }});
  // Unknown paths are S3's unless signed for another service (which answers its own 404).
  router.set_fallback({.name = "S3",
                       .method = "",
                       .pattern = "",
                       .body_limit = kMaxBody,
                       .handler = handler,
                       .stream_body = true,
                       .claim = [](const http::Request& r) { return !signed_for_other(r); }});
}

Result<void> S3Api::load() {
  LAMBENT_TRY(buckets, deps_.objects.store().list_buckets());
  std::lock_guard lock(mu_);
  for (const auto& b : buckets) {
    known_.insert(b.name);
    auto cfg = json::parse(b.config);
    if (auto* p = cfg.as_object().if_contains("policy"); p && p->is_string()) {
      policies_[b.name] = std::string(p->as_string());
    }
    if (auto* n = cfg.as_object().if_contains("notification")) {
      notifications_[b.name] = notification_from_json(*n);
    }
    if (auto* x = cfg.as_object().if_contains("cors"); x && x->is_string()) {
      cors_[b.name] = parse_cors(std::string(x->as_string()));
    }
  }
  return {};
}

std::optional<std::string> S3Api::policy_of(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:aws:s3:::";
  if (!arn.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = arn.substr(kPrefix.size());
  std::string_view bucket = rest.substr(0, rest.find('/'));
  std::lock_guard lock(mu_);
  auto it = policies_.find(bucket);
  if (it == policies_.end()) return std::nullopt;
  return it->second;
}

void S3Api::authorize(Ctx& c, const char* action, bool object_level) {
  authorize_arn(c, action, object_level ? c.object_arn() : c.bucket_arn());
}

std::optional<std::string> S3Api::denied(Ctx& c, const char* action, const std::string& arn) {
  if (!guard_) return std::nullopt;
  aws::Access access{action, arn, {}};
  if (!c.caller) {
    // Unsigned: only a bucket policy granting everyone lets it through.
    if (guard_->authorize_anonymous(access, c.req)) return std::string("Access Denied");
    return std::nullopt;
  }
  if (auto d = guard_->authorize(*c.caller, access, c.req)) return d->message;
  return std::nullopt;
}

void S3Api::authorize_arn(Ctx& c, const char* action, const std::string& arn) {
  if (auto message = denied(c, action, arn)) throw s3_error(403, "AccessDenied", *message);
}

asio::awaitable<std::string> S3Api::small_body(Ctx& c, size_t limit) {
  std::string out;
  if (!c.req.body_stream) co_return c.req.body;
  char buf[16 * 1024];
  for (;;) {
    auto n = co_await c.req.body_stream->read(buf, sizeof buf);
    if (!n) throw s3_error(400, "IncompleteBody", "The request body could not be read.");
    if (*n == 0) break;
    out.append(buf, *n);
    if (out.size() > limit) {
      throw s3_error(400, "MaxMessageLengthExceeded", "Your request was too big.");
    }
  }
  co_return out;
}

asio::awaitable<http::Response> S3Api::handle(http::Request& req) {
  Ctx c{req};
  try {
    // Where the bucket and key are: the Host (virtual-hosted style) or the path, whose key is
    // taken as sent (it may hold "//", a trailing "/"), percent-decoded once.
    std::string_view target = req.target;
    std::string_view path = target.substr(0, target.find('?'));
    if (path.empty() || path.front() != '/')
      throw s3_error(400, "InvalidURI", "Couldn't parse the specified URI.");
    path.remove_prefix(1);
    std::string host_bucket;
    if (const std::string* host = req.find_header("host")) host_bucket = bucket_of_host(*host);
    std::string_view key_part;
    if (!host_bucket.empty()) {
      c.bucket = host_bucket;
      key_part = path;
      c.has_key = !path.empty();
    } else {
      size_t slash = path.find('/');
      auto b = pct_decode(path.substr(0, slash));
      if (!b) throw s3_error(400, "InvalidURI", "Couldn't parse the specified URI.");
      c.bucket = *b;
      if (slash != std::string_view::npos && slash + 1 < path.size()) {
        key_part = path.substr(slash + 1);
        c.has_key = true;
      }
    }
    if (c.has_key) {
      auto k = pct_decode(key_part);
      if (!k) throw s3_error(400, "InvalidURI", "Couldn't parse the specified URI.");
      c.key = std::move(*k);
    }
    // The payload's declared hash or framing (also without authentication: aws-chunked).
    c.payload = c.header("x-amz-content-sha256");
    // Authentication, with S3's rules and words.
    if (guard_) {
      const std::string* auth = req.find_header("authorization");
      if (auth && auth->starts_with("AWS ")) {
        throw s3_error(400, "InvalidRequest", "Please use AWS4-HMAC-SHA256.");
      }
      bool presigned = !auth && c.has_query("X-Amz-Signature");
      if (!auth && !presigned && (c.has_query("Signature") || c.has_query("AWSAccessKeyId"))) {
        throw s3_error(400, "InvalidRequest", "Please use AWS4-HMAC-SHA256.");
      }
      if (auth && c.payload.empty()) {
        throw s3_error(400, "InvalidRequest",
                       "Missing required header for this request: x-amz-content-sha256");
      }
      if (!c.payload.empty() && c.payload.size() != 64 && c.payload != "UNSIGNED-PAYLOAD" &&
          !c.payload.starts_with("STREAMING-")) {
        throw s3_error(400, "InvalidArgument",
                       "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                       "STREAMING-…, or a valid sha256 value.",
                       {{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", c.payload}});
      }
      if (presigned) {
        auto expires = c.query("X-Amz-Expires");
        int64_t e = 0;
        try {
          e = std::stoll(expires);
        } catch (...) {
          throw s3_error(400, "AuthorizationQueryParametersError",
                         "X-Amz-Expires should be a number");
        }
        if (e < 0) {
          throw s3_error(400, "AuthorizationQueryParametersError",
                         "X-Amz-Expires must be non-negative");
        }
        if (e > 604800) {
          throw s3_error(400, "AuthorizationQueryParametersError",
                         "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                         "X-Amz-Expires must be less than 604800 seconds");
        }
      }
      auto result =
          guard_->authenticate(req, info_, c.payload.empty() ? "UNSIGNED-PAYLOAD" : c.payload);
      if (result.failure && result.failure->kind != aws::sigv4::Failure::kMissing) {
        const auto& f = *result.failure;
        using aws::sigv4::Failure;
        switch (f.kind) {
          case Failure::kMissing:
            break;  // anonymous: authorized by bucket policies granting everyone, if any
          case Failure::kIncomplete:
            if (presigned) throw s3_error(400, "AuthorizationQueryParametersError", f.message);
            throw s3_error(400, "AuthorizationHeaderMalformed",
                           "The authorization header is malformed; " + f.message);
          case Failure::kUnknownKey: {
            auto parsed = aws::sigv4::parse(req);
            std::string id = parsed.material ? std::string(parsed.material->access_key_id) : "";
            if (parsed.material && !parsed.material->session_token.empty()) {
              throw s3_error(400, "InvalidToken",
                             "The provided token is malformed or otherwise invalid.");
            }
            throw s3_error(403, "InvalidAccessKeyId",
                           "The AWS Access Key Id you provided does not exist in our records.",
                           {{"AWSAccessKeyId", id}});
          }
          case Failure::kExpiredToken:
            throw s3_error(400, "ExpiredToken", "The provided token has expired.");
          case Failure::kMismatch:
            if (f.message.starts_with("Signature expired") && presigned) {
              throw s3_error(403, "AccessDenied", "Request has expired",
                             {{"X-Amz-Expires", c.query("X-Amz-Expires")},
                              {"ServerTime", format_iso8601_millis(now_ms())}});
            }
            if (f.message.starts_with("Signature expired") ||
                f.message.starts_with("Signature not yet current")) {
              throw s3_error(403, "RequestTimeTooSkewed",
                             "The difference between the request time and the current time is "
                             "too large.",
                             {{"ServerTime", format_iso8601_millis(now_ms())},
                              {"MaxAllowedSkewMilliseconds", "900000"}});
            }
            if (f.message.starts_with("Credential should be scoped to a valid region")) {
              auto parsed = aws::sigv4::parse(req);
              std::string sent = parsed.material ? std::string(parsed.material->region) : "";
              throw s3_error(400, "AuthorizationHeaderMalformed",
                             fmt::format("The authorization header is malformed; the region '{}' "
                                         "is wrong; expecting '{}'",
                                         sent, deps_.region),
                             {{"Region", deps_.region}});
            }
            throw s3_error(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your key and signing method.");
        }
      }
      c.caller = result.caller;
      c.signing_key = result.signing_key;
      aws::set_caller(req, c.caller);
    }
    if (req.method == "OPTIONS") co_return cors_preflight(c);
    auto res = co_await dispatch(c);
    add_cors(c, res);
    co_return res;
  } catch (const aws::ServiceError& e) {
    auto res = aws::error_response(info_, aws::Protocol::kRestXml, e, req.request_id);
    res.set_header("x-amz-request-id", req.request_id);
    res.set_header("x-amz-id-2", base64_encode(req.request_id));
    add_cors(c, res);
    co_return res;
  }
}

http::Response S3Api::cors_preflight(Ctx& c) {
  std::string origin = c.header("origin");
  std::string method = c.header("access-control-request-method");
  if (origin.empty() || method.empty()) {
    throw s3_error(400, "BadRequest", "Insufficient information. Origin request header needed.");
  }
  std::vector<CorsRule> rules;
  {
    std::lock_guard lock(mu_);
    if (auto it = cors_.find(c.bucket); it != cors_.end()) rules = it->second;
  }
  if (rules.empty()) {
    throw s3_error(403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.",
                   {{"Method", method}, {"ResourceType", c.has_key ? "OBJECT" : "BUCKET"}});
  }
  auto headers =
      cors_headers(rules, origin, method, c.header("access-control-request-headers"), true);
  if (!headers) {
    throw s3_error(403, "AccessForbidden",
                   "CORSResponse: This CORS request is not allowed. This is usually because the "
                   "evalution of Origin, request method / Access-Control-Request-Method or "
                   "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
                   "spec.",
                   {{"Method", method}, {"ResourceType", c.has_key ? "OBJECT" : "BUCKET"}});
  }
  auto res = s3_response(c.req, 200);
  for (auto& [k, v] : *headers) res.set_header(k, v);
  return res;
}

void S3Api::add_cors(Ctx& c, http::Response& res) {
  if (c.bucket.empty() || c.req.method == "OPTIONS") return;
  const std::string* origin = c.req.find_header("origin");
  if (!origin) return;
  std::vector<CorsRule> rules;
  {
    std::lock_guard lock(mu_);
    auto it = cors_.find(c.bucket);
    if (it == cors_.end()) return;
    rules = it->second;
  }
  if (auto headers = cors_headers(rules, *origin, c.req.method, "", false)) {
    for (auto& [k, v] : *headers) res.set_header(k, v);
  }
}

asio::awaitable<http::Response> S3Api::dispatch(Ctx& c) {
  const std::string& m = c.req.method;
  if (c.bucket.empty()) {
    if (m == "GET") co_return co_await list_buckets(c);
    throw s3_error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.");
  }
  if (!c.has_key) {
    for (const char* sub : {"policy",
                            "tagging",
                            "cors",
                            "location",
                            "versioning",
                            "acl",
                            "encryption",
                            "notification",
                            "lifecycle",
                            "website",
                            "logging",
                            "replication",
                            "ownershipControls",
                            "publicAccessBlock",
                            "accelerate",
                            "requestPayment",
                            "object-lock",
                            "intelligent-tiering",
                            "inventory",
                            "metrics",
                            "analytics"}) {
      if (c.has_query(sub)) co_return co_await bucket_config(c);
    }
    if (m == "PUT") co_return co_await create_bucket(c);
    if (m == "DELETE") co_return co_await delete_bucket(c);
    if (m == "HEAD") co_return co_await head_bucket(c);
    if (m == "POST" && c.has_query("delete")) co_return co_await delete_objects(c);
    if (m == "GET") {
      if (c.has_query("uploads")) co_return co_await list_uploads(c);
      if (c.has_query("versions")) {
        throw s3_error(501, "NotImplemented",
                       "Bucket versioning is not supported by this server: there are no "
                       "object versions to list.");
      }
      const bool v2 = c.query("list-type") == "2";
      co_return co_await list_objects(c, v2);
    }
  } else {
    if (c.has_query("tagging")) co_return co_await object_tagging(c);
    if (c.has_query("uploadId")) {
      if (m == "PUT") co_return co_await upload_part(c);
      if (m == "POST") co_return co_await complete_upload(c);
      if (m == "DELETE") co_return co_await abort_upload(c);
      if (m == "GET") co_return co_await list_parts(c);
    }
    if (m == "POST" && c.has_query("uploads")) co_return co_await create_upload(c);
    for (const char* sub : {"acl", "attributes", "restore", "select", "retention", "legal-hold",
                            "torrent", "renameObject"}) {
      if (c.has_query(sub)) {
        throw s3_error(501, "NotImplemented",
                       std::string("The ") + sub + " subresource is not supported by this server.");
      }
    }
    if (m == "PUT") {
      if (!c.header("x-amz-copy-source").empty()) co_return co_await copy_object(c);
      co_return co_await put_object(c);
    }
    if (m == "GET" || m == "HEAD") co_return co_await get_object(c);
    if (m == "DELETE") co_return co_await delete_object(c);
  }
  throw s3_error(405, "MethodNotAllowed",
                 "The specified method is not allowed against this resource.");
}

// --- buckets

asio::awaitable<http::Response> S3Api::list_buckets(Ctx& c) {
  authorize_arn(c, "s3:ListAllMyBuckets", "*");
  auto job = [this] { return deps_.objects.store().list_buckets(); };
  auto buckets = co_await offload(deps_.pool, std::move(job));
  if (!buckets) throw_store(buckets.error(), "");
  std::string prefix = c.query("prefix");
  std::string xml = fmt::format(
      "<ListAllMyBucketsResult xmlns=\"{}\"><Owner><ID>{}</ID>"
      "<DisplayName>{}</DisplayName></Owner><Buckets>",
      kXmlns, deps_.account, deps_.account);
  for (const auto& b : *buckets) {
    if (!b.name.starts_with(prefix)) continue;
    xml += "<Bucket>";
    xml_elem(xml, "Name", b.name);
    xml_elem(xml, "CreationDate", format_iso8601_millis(b.created_ms));
    xml_elem(xml, "BucketRegion", b.region);
    xml += "</Bucket>";
  }
  xml += "</Buckets>";
  if (!prefix.empty()) xml_elem(xml, "Prefix", prefix);
  xml += "</ListAllMyBucketsResult>";
  co_return s3_response(c.req, 200, std::move(xml));
}

asio::awaitable<http::Response> S3Api::create_bucket(Ctx& c) {
  authorize_arn(c, "s3:CreateBucket", c.bucket_arn());
  if (auto ok = objects::check_bucket_name(c.bucket); !ok) {
    throw s3_error(400, "InvalidBucketName", ok.error().message, {{"BucketName", c.bucket}});
  }
  std::string body = co_await small_body(c, 64 * 1024);
  std::string constraint;
  if (!body.empty()) {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size())) throw malformed_xml();
    auto root = doc.child("CreateBucketConfiguration");
    if (!root) throw malformed_xml();
    constraint = root.child("LocationConstraint").text().as_string();
  }
  if (constraint == "us-east-1") {
    throw s3_error(400, "InvalidLocationConstraint",
                   "The specified location-constraint is not valid",
                   {{"LocationConstraint", constraint}});
  }
  std::string effective = constraint.empty() ? "us-east-1" : constraint;
  if (effective != deps_.region) {
    if (constraint.empty()) {
      throw s3_error(400, "IllegalLocationConstraintException",
                     fmt::format("The unspecified location constraint is incompatible for the "
                                 "region specific endpoint this request was sent to."));
    }
    throw s3_error(400, "IllegalLocationConstraintException",
                   fmt::format("The {} location constraint is incompatible for the region "
                               "specific endpoint this request was sent to.",
                               constraint));
  }
  store::BucketRecord rec{c.bucket, deps_.region, deps_.account, now_ms(), "{}"};
  auto job = [this, rec] { return deps_.objects.store().create_bucket(rec); };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) {
    if (r.error().code == Errc::kAlreadyExists) {
      // One account owns every bucket of this node.
      if (deps_.region == "us-east-1") {
        auto res = s3_response(c.req, 200);
        res.set_header("Location", "/" + c.bucket);
        co_return res;
      }
      throw s3_error(409, "BucketAlreadyOwnedByYou",
                     "Your previous request to create the named bucket succeeded and you already "
                     "own it.",
                     {{"BucketName", c.bucket}});
    }
    throw_store(r.error(), c.bucket);
  }
  auto res = s3_response(c.req, 200);
  res.set_header("Location", "/" + c.bucket);
  co_return res;
}

asio::awaitable<http::Response> S3Api::delete_bucket(Ctx& c) {
  authorize(c, "s3:DeleteBucket", false);
  auto job = [this, b = c.bucket] { return deps_.objects.store().delete_bucket(b); };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) {
    if (r.error().code == Errc::kConflict) {
      throw s3_error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                     {{"BucketName", c.bucket}});
    }
    throw_store(r.error(), c.bucket);
  }
  {
    std::lock_guard lock(mu_);
    policies_.erase(c.bucket);
    notifications_.erase(c.bucket);
    known_.erase(c.bucket);
    cors_.erase(c.bucket);
  }
  co_return s3_response(c.req, 204);
}

asio::awaitable<http::Response> S3Api::head_bucket(Ctx& c) {
  authorize(c, "s3:ListBucket", false);
  auto job = [this, b = c.bucket] { return deps_.objects.store().get_bucket(b); };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) throw_store(r.error(), c.bucket);
  auto res = s3_response(c.req, 200);
  res.set_header("x-amz-bucket-region", r->region);
  res.set_header("x-amz-access-point-alias", "false");
  co_return res;
}

}  // namespace lambent::s3

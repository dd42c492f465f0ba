// Bucket sub-resources (policy, tagging, CORS, location, versioning, ACL, encryption,
// notifications) and the listings (ListObjects v1 and v2, DeleteObjects).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <pugixml.hpp>

#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"
#include "base/time.h"
#include "http/stream.h"
#include "iam/policy.h"
#include "services/s3/internal.h"

namespace lambent::s3 {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object config_of(const store::BucketRecord& b) {
  auto v = json::parse(b.config);
  return v.is_object() ? v.as_object() : json::object{};
}

bool has_integrity_header(const http::Request& req) {
  if (req.find_header("content-md5")) return true;
  for (const auto& [k, v] : req.headers) {
    if (k.starts_with("x-amz-checksum-")) return true;
  }
  return false;
}

}  // namespace

// <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging> → {key: value}.
json::object parse_tagging_xml(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) throw malformed_xml();
  auto set = doc.child("Tagging").child("TagSet");
  if (!set) throw malformed_xml();
  json::object tags;
  for (auto tag : set.children("Tag")) {
    std::string k = tag.child("Key").text().as_string();
    std::string v = tag.child("Value").text().as_string();
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      throw s3_error(400, "InvalidTag", "The TagKey you have provided is invalid");
    }
    if (tags.contains(k)) {
      throw s3_error(400, "InvalidTag", "Cannot provide multiple Tags with the same key");
    }
    tags[k] = v;
  }
  return tags;
}

std::string tagging_to_xml(const json::object& tags) {
  std::string xml = fmt::format("<Tagging xmlns=\"{}\"><TagSet>", kXmlns);
  for (const auto& [k, v] : tags) {
    xml += "<Tag>";
    xml_elem(xml, "Key", k);
    xml_elem(xml, "Value", v.as_string());
    xml += "</Tag>";
  }
  return xml + "</TagSet></Tagging>";
}

asio::awaitable<http::Response> S3Api::bucket_config(Ctx& c) {
  const std::string& m = c.req.method;
  auto load = [this, b = c.bucket] { return deps_.objects.store().get_bucket(b); };
  // Read-modify-write of the bucket's config under one transaction. (The change is always a
  // named object: GCC 12 destroys temporaries inside a co_await expression twice.)
  using Change = std::function<void(json::object&)>;
  auto update = [this, &c](Change& change) -> asio::awaitable<void> {
    auto job = [this, b = c.bucket, change] {
      return deps_.objects.store().update_bucket(b, [&](store::BucketRecord& rec) -> Result<void> {
        json::object cfg = config_of(rec);
        change(cfg);
        rec.config = json::serialize(cfg);
        return {};
      });
    };
    auto r = co_await offload(deps_.pool, std::move(job));
    if (!r) throw_store(r.error(), c.bucket);
  };

  if (c.has_query("policy")) {
    if (m == "GET") {
      authorize(c, "s3:GetBucketPolicy", false);
      auto b = co_await offload(deps_.pool, std::move(load));
      if (!b) throw_store(b.error(), c.bucket);
      auto cfg = config_of(*b);
      auto* p = cfg.if_contains("policy");
      if (!p) {
        throw s3_error(404, "NoSuchBucketPolicy", "The bucket policy does not exist",
                       {{"BucketName", c.bucket}});
      }
      auto res = s3_response(c.req, 200);
      res.content_type = "application/json";
      res.body = std::string(p->as_string());
      co_return res;
    }
    if (m == "PUT") {
      authorize(c, "s3:PutBucketPolicy", false);
      std::string doc = co_await small_body(c, 20 * 1024);
      auto parsed = iam::parse_policy(doc, iam::PolicyKind::kResource);
      if (!parsed) {
        throw s3_error(400, "MalformedPolicy", parsed.error().message);
      }
      Change change = [doc](json::object& cfg) { cfg["policy"] = doc; };
      co_await update(change);
      std::lock_guard lock(mu_);
      policies_[c.bucket] = doc;
      co_return s3_response(c.req, 204);
    }
    if (m == "DELETE") {
      authorize(c, "s3:DeleteBucketPolicy", false);
      Change change = [](json::object& cfg) { cfg.erase("policy"); };
      co_await update(change);
      std::lock_guard lock(mu_);
      policies_.erase(c.bucket);
      co_return s3_response(c.req, 204);
    }
  }
  if (c.has_query("tagging")) {
    if (m == "GET") {
      authorize(c, "s3:GetBucketTagging", false);
      auto b = co_await offload(deps_.pool, std::move(load));
      if (!b) throw_store(b.error(), c.bucket);
      auto cfg = config_of(*b);
      auto* t = cfg.if_contains("tags");
      if (!t || t->as_object().empty()) {
        throw s3_error(404, "NoSuchTagSet", "The TagSet does not exist",
                       {{"BucketName", c.bucket}});
      }
      co_return s3_response(c.req, 200, tagging_to_xml(t->as_object()));
    }
    if (m == "PUT") {
      authorize(c, "s3:PutBucketTagging", false);
      std::string body = co_await small_body(c, 64 * 1024);
      json::object tags = parse_tagging_xml(body);
      Change change = [tags](json::object& cfg) { cfg["tags"] = tags; };
      co_await update(change);
      co_return s3_response(c.req, 204);
    }
    if (m == "DELETE") {
      authorize(c, "s3:PutBucketTagging", false);
      Change change = [](json::object& cfg) { cfg.erase("tags"); };
      co_await update(change);
      co_return s3_response(c.req, 204);
    }
  }
  if (c.has_query("cors")) {
    if (m == "GET") {
      authorize(c, "s3:GetBucketCORS", false);
      auto b = co_await offload(deps_.pool, std::move(load));
      if (!b) throw_store(b.error(), c.bucket);
      auto cfg = config_of(*b);
      auto* x = cfg.if_contains("cors");
      if (!x) {
        throw s3_error(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist",
                       {{"BucketName", c.bucket}});
      }
      co_return s3_response(c.req, 200, std::string(x->as_string()));
    }
    if (m == "PUT") {
      authorize(c, "s3:PutBucketCORS", false);
      std::string body = co_await small_body(c, 64 * 1024);
      pugi::xml_document doc;
      if (!doc.load_buffer(body.data(), body.size())) throw malformed_xml();
      auto root = doc.child("CORSConfiguration");
      if (!root || !root.child("CORSRule")) throw malformed_xml();
      size_t rules = 0;
      for (auto rule : root.children("CORSRule")) {
        ++rules;
        if (!rule.child("AllowedMethod") || !rule.child("AllowedOrigin")) throw malformed_xml();
        for (auto method : rule.children("AllowedMethod")) {
          std::string v = method.text().as_string();
          if (v != "GET" && v != "PUT" && v != "POST" && v != "DELETE" && v != "HEAD") {
            throw s3_error(
                400, "InvalidRequest",
                "Found unsupported HTTP method in CORS config. Unsupported method is " + v);
          }
        }
      }
      if (rules > 100) throw malformed_xml();
      root.remove_attribute("xmlns");
      root.append_attribute("xmlns") = std::string(kXmlns).c_str();
      std::ostringstream os;
      root.print(os, "", pugi::format_raw);
      std::string stored = os.str();
      std::function<void(json::object&)> change = [stored](json::object& cfg) {
        cfg["cors"] = stored;
      };
      co_await update(change);
      {
        std::lock_guard lock(mu_);
        cors_[c.bucket] = parse_cors(stored);
      }
      co_return s3_response(c.req, 200);
    }
    if (m == "DELETE") {
      authorize(c, "s3:PutBucketCORS", false);
      Change change = [](json::object& cfg) { cfg.erase("cors"); };
      co_await update(change);
      {
        std::lock_guard lock(mu_);
        cors_.erase(c.bucket);
      }
      co_return s3_response(c.req, 204);
    }
  }
  if (c.has_query("location") && m == "GET") {
    authorize(c, "s3:GetBucketLocation", false);
    auto b = co_await offload(deps_.pool, std::move(load));
    if (!b) throw_store(b.error(), c.bucket);
    std::string xml = fmt::format("<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                                  kXmlns, b->region == "us-east-1" ? "" : xml_escape(b->region));
    co_return s3_response(c.req, 200, std::move(xml));
  }
  if (c.has_query("versioning")) {
    if (m == "GET") {
      authorize(c, "s3:GetBucketVersioning", false);
      auto b = co_await offload(deps_.pool, std::move(load));
      if (!b) throw_store(b.error(), c.bucket);
      co_return s3_response(c.req, 200,
                            fmt::format("<VersioningConfiguration xmlns=\"{}\"/>", kXmlns));
    }
    if (m == "PUT") {
      authorize(c, "s3:PutBucketVersioning", false);
      throw s3_error(501, "NotImplemented",
                     "Bucket versioning is not supported by this server yet; buckets keep one "
                     "version of each object.",
                     {{"Header", "versioning"}});
    }
  }
  if (c.has_query("acl")) {
    authorize(c, m == "GET" ? "s3:GetBucketAcl" : "s3:PutBucketAcl", false);
    auto b = co_await offload(deps_.pool, std::move(load));
    if (!b) throw_store(b.error(), c.bucket);
    if (m == "GET") {
      co_return s3_response(
          c.req, 200,
          fmt::format(
              "<AccessControlPolicy xmlns=\"{0}\"><Owner><ID>{1}</ID><DisplayName>{1}"
              "</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://"
              "www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>{1}</ID>"
              "<DisplayName>{1}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission>"
              "</Grant></AccessControlList></AccessControlPolicy>",
              kXmlns, deps_.account));
    }
    if (m == "PUT") {
      // Object ownership is "bucket owner enforced" (S3's default since 2023): only the
      // owner-only ACL is accepted.
      std::string canned = c.header("x-amz-acl");
      if (!canned.empty() && canned != "private" && canned != "bucket-owner-full-control") {
        throw s3_error(400, "AccessControlListNotSupported", "The bucket does not allow ACLs");
      }
      co_return s3_response(c.req, 200);
    }
  }
  if (c.has_query("encryption")) {
    authorize(c, m == "GET" ? "s3:GetEncryptionConfiguration" : "s3:PutEncryptionConfiguration",
              false);
    auto b = co_await offload(deps_.pool, std::move(load));
    if (!b) throw_store(b.error(), c.bucket);
    if (m == "GET") {
      co_return s3_response(
          c.req, 200,
          fmt::format("<ServerSideEncryptionConfiguration xmlns=\"{}\"><Rule>"
                      "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                      "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false"
                      "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
                      kXmlns));
    }
  }
  if (c.has_query("notification") && (m == "GET" || m == "PUT")) {
    co_return co_await notification_config(c);
  }
  // Sub-resources this server does not have (yet): say so, as S3 does for what it lacks.
  auto b = co_await offload(deps_.pool, std::move(load));
  if (!b) throw_store(b.error(), c.bucket);
  std::string which;
  for (const auto& [k, v] : c.req.query) {
    which = k;
    break;
  }
  throw s3_error(501, "NotImplemented",
                 "A header you provided implies functionality that is not implemented: the '" +
                     which + "' sub-resource (" + m + ") is not supported by this server.",
                 {{"Header", which}});
}

// --- notifications

asio::awaitable<http::Response> S3Api::notification_config(Ctx& c) {
  if (c.req.method == "GET") {
    authorize(c, "s3:GetBucketNotification", false);
    auto load = [this, b = c.bucket] { return deps_.objects.store().get_bucket(b); };
    auto rec = co_await offload(deps_.pool, std::move(load));
    if (!rec) throw_store(rec.error(), c.bucket);
    auto cfg = config_of(*rec);
    std::vector<NotificationConfig> configs;
    if (auto* n = cfg.if_contains("notification")) configs = notification_from_json(*n);
    co_return s3_response(c.req, 200, notification_xml(configs));
  }
  authorize(c, "s3:PutBucketNotification", false);
  std::string body = co_await small_body(c, 256 * 1024);
  std::vector<NotificationConfig> configs = parse_notification_xml(body);
  auto load = [this, b = c.bucket] { return deps_.objects.store().get_bucket(b); };
  auto rec = co_await offload(deps_.pool, std::move(load));
  if (!rec) throw_store(rec.error(), c.bucket);
  // Each destination must exist and let this bucket notify it (S3 checks as it saves), unless
  // the caller says to skip that.
  if (c.header("x-amz-skip-destination-validation") != "true") {
    std::vector<std::pair<std::string, std::string>> failures;
    for (const auto& n : configs) {
      std::optional<std::string> reason;
      if (destinations_.check) {
        auto job = [this, arn = n.arn, b = c.bucket] { return destinations_.check(arn, b); };
        reason = co_await offload(deps_.pool, std::move(job));
      }
      if (reason) failures.emplace_back(n.arn, *reason);
    }
    if (!failures.empty()) {
      std::vector<std::pair<std::string, std::string>> extra;
      for (const auto& [arn, reason] : failures) {
        extra.emplace_back("ArgumentName", arn);
        extra.emplace_back("ArgumentValue", reason);
      }
      throw s3_error(400, "InvalidArgument",
                     "Unable to validate the following destination configurations",
                     std::move(extra));
    }
  }
  json::array stored = notification_json(configs);
  std::function<void(json::object&)> change = [stored](json::object& cfg) {
    if (stored.empty()) {
      cfg.erase("notification");
    } else {
      cfg["notification"] = stored;
    }
  };
  auto job = [this, b = c.bucket, change] {
    return deps_.objects.store().update_bucket(b, [&](store::BucketRecord& r) -> Result<void> {
      json::object cfg = config_of(r);
      change(cfg);
      r.config = json::serialize(cfg);
      return {};
    });
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) throw_store(r.error(), c.bucket);
  {
    std::lock_guard lock(mu_);
    if (configs.empty()) {
      notifications_.erase(c.bucket);
    } else {
      notifications_[c.bucket] = configs;
    }
  }
  // S3 tells every queue it will notify that it can (the s3:TestEvent message).
  if (destinations_.send_test) {
    std::string payload = test_event_payload(c.bucket, c.req.request_id, now_ms());
    for (const auto& n : configs) {
      if (n.kind == NotificationConfig::Kind::kLambda) continue;
      auto send = [this, arn = n.arn, payload] { return destinations_.send_test(arn, payload); };
      co_await offload(deps_.pool, std::move(send));
    }
  }
  co_return s3_response(c.req, 200);
}

std::vector<store::AsyncEvent> S3Api::events_for(Ctx& c, const std::string& event_name,
                                                 const std::string& key, bool created,
                                                 uint64_t size, const std::string& etag) {
  std::vector<NotificationConfig> configs;
  {
    std::lock_guard lock(mu_);
    auto it = notifications_.find(c.bucket);
    if (it == notifications_.end()) return {};
    configs = it->second;
  }
  std::string encoded = event_key(key);
  std::vector<store::AsyncEvent> out;
  EventFacts facts;
  for (const auto& n : configs) {
    if (!notification_matches(n, event_name, encoded)) continue;
    if (facts.time_ms == 0) {
      facts.region = deps_.region;
      facts.event_name = event_name;
      facts.time_ms = now_ms();
      facts.principal_id =
          c.caller ? "AWS:" + c.caller->user_id : (guard_ ? "Anonymous" : "AWS:" + deps_.account);
      facts.source_ip = c.req.peer.substr(0, c.req.peer.rfind(':'));
      facts.request_id = c.req.request_id;
      facts.bucket = c.bucket;
      facts.owner = deps_.account;
      facts.key = key;
      facts.created = created;
      facts.size = size;
      facts.etag = etag;
      facts.sequence = deps_.objects.next_sequence();
    }
    store::AsyncEvent e;
    e.id = uuid4();
    e.payload = event_payload(facts, n.id);
    e.received_ms = facts.time_ms;
    e.due_ms = facts.time_ms;
    if (n.kind == NotificationConfig::Kind::kQueue) {
      e.function = n.arn;
    } else if (n.kind == NotificationConfig::Kind::kTopic) {
      // Published to the topic when the dispatcher gets to it, with S3's subject.
      e.function = n.arn;
      e.delivery = R"({"kind":"topic","subject":"Amazon S3 Notification"})";
    } else {
      // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
      std::string_view rest = n.arn;
      size_t at = rest.find(":function:");
      rest = at == std::string_view::npos ? "" : rest.substr(at + 10);
      size_t colon = rest.find(':');
      e.function = std::string(rest.substr(0, colon));
      if (colon != std::string_view::npos) e.qualifier = std::string(rest.substr(colon + 1));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// --- listings

namespace {

struct Listing {
  std::vector<store::ObjectRecord> contents;
  std::vector<std::string> prefixes;
  bool truncated = false;
  std::string last;    // the last key or common prefix returned
  std::string resume;  // where the next page starts (past a common prefix's keys)
};

Result<Listing> collect(store::Store& st, const std::string& bucket, const std::string& prefix,
                        const std::string& delimiter, std::string after, size_t max_keys) {
  Listing out;
  if (max_keys == 0) return out;
  for (;;) {
    LAMBENT_TRY(batch, st.list_objects(bucket, prefix, after, 1000));
    if (batch.empty()) return out;
    bool restart = false;
    for (auto& o : batch) {
      if (out.contents.size() + out.prefixes.size() == max_keys) {
        out.truncated = true;
        return out;
      }
      std::string_view rest = std::string_view(o.key).substr(prefix.size());
      size_t d = delimiter.empty() ? std::string_view::npos : rest.find(delimiter);
      if (d != std::string_view::npos) {
        std::string cp = prefix + std::string(rest.substr(0, d + delimiter.size()));
        out.prefixes.push_back(cp);
        out.last = cp;
        // Past every key under this common prefix (UTF-8 never has 0xff).
        after = cp + "\xff";
        out.resume = after;
        restart = true;
        break;
      }
      out.last = o.key;
      out.resume = o.key;
      after = o.key;
      out.contents.push_back(std::move(o));
    }
    if (!restart && batch.size() < 1000) return out;
    if (out.contents.size() + out.prefixes.size() == max_keys) {
      // Is there more?
      LAMBENT_TRY(more, st.list_objects(bucket, prefix, after, 1));
      out.truncated = !more.empty();
      return out;
    }
  }
}

int max_keys_of(const std::string& v, int cap) {
  if (v.empty()) return cap;
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used != v.size() || n < 0) throw std::invalid_argument(v);
    return std::min(n, cap);
  } catch (...) {
    throw s3_error(400, "InvalidArgument",
                   "Provided max-keys not an integer or within integer range",
                   {{"ArgumentName", "max-keys"}, {"ArgumentValue", v}});
  }
}

}  // namespace

asio::awaitable<http::Response> S3Api::list_objects(Ctx& c, bool v2) {
  authorize(c, "s3:ListBucket", false);
  std::string prefix = c.query("prefix");
  std::string delimiter = c.query("delimiter");
  std::string encoding = c.query("encoding-type");
  if (!encoding.empty() && encoding != "url") {
    throw s3_error(400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                   {{"ArgumentName", "encoding-type"}, {"ArgumentValue", encoding}});
  }
  int max_keys = max_keys_of(c.query("max-keys"), 1000);
  std::string token = c.query("continuation-token");
  std::string start_after = c.query("start-after");
  std::string marker = c.query("marker");
  std::string after;
  if (v2) {
    if (c.has_query("continuation-token")) {
      auto t = base64_decode(token);
      if (!t || token.empty()) {
        throw s3_error(400, "InvalidArgument", "The continuation token provided is incorrect",
                       {{"ArgumentName", "continuation-token"}});
      }
      after = *t;
    } else {
      after = start_after;
    }
  } else {
    after = marker;
    // A marker that is a common prefix (NextMarker) resumes past every key under it.
    if (!delimiter.empty() && marker.ends_with(delimiter)) after += "\xff";
  }
  auto job = [this, b = c.bucket, prefix, delimiter, after, max_keys] {
    return collect(deps_.objects.store(), b, prefix, delimiter, after,
                   static_cast<size_t>(max_keys));
  };
  auto listing = co_await offload(deps_.pool, std::move(job));
  if (!listing) throw_store(listing.error(), c.bucket);
  bool url = encoding == "url";
  auto enc = [&](const std::string& s) { return url ? url_encode_key(s) : s; };
  std::string xml = fmt::format("<ListBucketResult xmlns=\"{}\">", kXmlns);
  xml_elem(xml, "Name", c.bucket);
  xml_elem(xml, "Prefix", enc(prefix));
  if (v2) {
    if (c.has_query("continuation-token")) xml_elem(xml, "ContinuationToken", token);
    if (!start_after.empty()) xml_elem(xml, "StartAfter", enc(start_after));
    xml_elem(xml, "KeyCount", std::to_string(listing->contents.size() + listing->prefixes.size()));
    if (listing->truncated) xml_elem(xml, "NextContinuationToken", base64_encode(listing->resume));
  } else {
    xml_elem(xml, "Marker", enc(marker));
    if (listing->truncated && !delimiter.empty()) xml_elem(xml, "NextMarker", enc(listing->last));
  }
  xml_elem(xml, "MaxKeys", std::to_string(max_keys));
  if (!delimiter.empty()) xml_elem(xml, "Delimiter", enc(delimiter));
  xml_elem(xml, "IsTruncated", listing->truncated ? "true" : "false");
  if (url) xml_elem(xml, "EncodingType", "url");
  bool owner = !v2 || c.query("fetch-owner") == "true";
  for (const auto& o : listing->contents) {
    xml += "<Contents>";
    xml_elem(xml, "Key", enc(o.key));
    xml_elem(xml, "LastModified", format_iso8601_millis(o.modified_ms));
    xml_elem(xml, "ETag", "\"" + o.etag + "\"");
    auto meta = json::parse(o.meta).as_object();
    if (auto* ck = meta.if_contains("ck_alg")) {
      xml_elem(xml, "ChecksumAlgorithm", ck->as_string());
    }
    xml_elem(xml, "Size", std::to_string(o.size));
    if (owner) {
      xml +=
          fmt::format("<Owner><ID>{0}</ID><DisplayName>{0}</DisplayName></Owner>", deps_.account);
    }
    xml_elem(xml, "StorageClass", "STANDARD");
    xml += "</Contents>";
  }
  for (const auto& p : listing->prefixes) {
    xml += "<CommonPrefixes>";
    xml_elem(xml, "Prefix", enc(p));
    xml += "</CommonPrefixes>";
  }
  xml += "</ListBucketResult>";
  co_return s3_response(c.req, 200, std::move(xml));
}

asio::awaitable<http::Response> S3Api::delete_objects(Ctx& c) {
  authorize(c, "s3:DeleteObject", false);  // per key below as well
  if (!has_integrity_header(c.req)) {
    throw s3_error(400, "InvalidRequest",
                   "Missing required header for this request: Content-MD5 OR x-amz-checksum-*");
  }
  std::string body = co_await small_body(c, 2 << 20);
  if (auto md5 = c.header("content-md5"); !md5.empty()) {
    auto raw = base64_decode(md5);
    if (!raw || raw->size() != 16)
      throw s3_error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
    if (hex_encode(*raw) != md5_hex(body)) {
      throw s3_error(400, "BadDigest",
                     "The Content-MD5 you specified did not match what we received.");
    }
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) throw malformed_xml();
  auto root = doc.child("Delete");
  if (!root) throw malformed_xml();
  bool quiet = std::string(root.child("Quiet").text().as_string()) == "true";
  std::vector<std::string> keys;
  for (auto o : root.children("Object")) {
    if (!o.child("Key")) throw malformed_xml();
    keys.emplace_back(o.child("Key").text().as_string());
  }
  if (keys.empty() || keys.size() > 1000) throw malformed_xml();
  struct Outcome {
    std::string key;
    std::string code, message;
  };
  std::vector<Outcome> outcomes;
  for (const auto& k : keys) {
    Outcome out{k, "", ""};
    if (denied(c, "s3:DeleteObject", "arn:aws:s3:::" + c.bucket + "/" + k)) {
      out.code = "AccessDenied";
      out.message = "Access Denied";
    }
    outcomes.push_back(std::move(out));
  }
  std::vector<std::vector<store::AsyncEvent>> events;
  for (const auto& o : outcomes)
    events.push_back(events_for(c, "ObjectRemoved:Delete", o.key, false, 0, ""));
  auto job = [this, b = c.bucket, &outcomes, &events]() -> Result<bool> {
    for (size_t i = 0; i < outcomes.size(); ++i) {
      auto& o = outcomes[i];
      if (!o.code.empty()) continue;
      auto r = deps_.objects.store().delete_object(b, o.key, events[i]);
      cache_.forget(b, o.key);
      if (!r) {
        if (r.error().code == Errc::kNotFound) return r.error();
        o.code = "InternalError";
        o.message = "We encountered an internal error. Please try again.";
      }
    }
    deps_.objects.collect_garbage_soon(deps_.pool);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) throw_store(r.error(), c.bucket);
  wake();
  std::string xml = fmt::format("<DeleteResult xmlns=\"{}\">", kXmlns);
  for (const auto& o : outcomes) {
    if (o.code.empty()) {
      if (quiet) continue;
      xml += "<Deleted>";
      xml_elem(xml, "Key", o.key);
      xml += "</Deleted>";
    } else {
      xml += "<Error>";
      xml_elem(xml, "Key", o.key);
      xml_elem(xml, "Code", o.code);
      xml_elem(xml, "Message", o.message);
      xml += "</Error>";
    }
  }
  xml += "</DeleteResult>";
  co_return s3_response(c.req, 200, std::move(xml));
}

}  // namespace lambent::s3

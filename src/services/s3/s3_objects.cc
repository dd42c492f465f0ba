// Objects: PutObject, GetObject/HeadObject (ranges, conditions, response overrides),
// DeleteObject, CopyObject, object tagging. Bodies stream in and out through s3_transfer.cc.
#include <fmt/format.h>

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <deque>
#include <pugixml.hpp>

#include "base/background.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"
#include "base/time.h"
#include "http/stream.h"
#include "services/s3/chunked.h"
#include "services/s3/internal.h"

namespace lambent::s3 {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr uint64_t kMaxPut = 5ull << 30;
constexpr size_t kStep = kPieceBytes;

// The content headers S3 stores with an object, by meta key.
constexpr std::pair<const char*, const char*> kContentHeaders[] = {
    {"ct", "content-type"},     {"ce", "content-encoding"}, {"cd", "content-disposition"},
    {"cl", "content-language"}, {"cc", "cache-control"},    {"ex", "expires"},
};
constexpr std::pair<const char*, const char*> kResponseHeaders[] = {
    {"ct", "Content-Type"},     {"ce", "Content-Encoding"}, {"cd", "Content-Disposition"},
    {"cl", "Content-Language"}, {"cc", "Cache-Control"},    {"ex", "Expires"},
};

std::string str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

std::string etag_unquoted(std::string_view e) {
  while (!e.empty() && (e.front() == '"' || e.front() == ' ')) e.remove_prefix(1);
  while (!e.empty() && (e.back() == '"' || e.back() == ' ')) e.remove_suffix(1);
  if (e.starts_with("W/")) return etag_unquoted(e.substr(2));
  return std::string(e);
}

bool etag_list_matches(std::string_view list, const std::string& etag) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string one = etag_unquoted(list.substr(0, comma));
    if (one == "*" || one == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// S3's precedence of the four conditions (RFC 7232 with S3's exceptions). Returns 0 when the
// request proceeds, 304 or 412 otherwise. `prefix` is "" or "x-amz-copy-source-".
unsigned evaluate_conditions(const http::Request& req, const std::string& prefix,
                             const store::ObjectRecord& o, std::string* failed) {
  auto h = [&](const char* name) -> const std::string* { return req.find_header(prefix + name); };
  int64_t modified_s = o.modified_ms / 1000;
  const std::string* if_match = h("if-match");
  const std::string* if_none = h("if-none-match");
  const std::string* if_unmod = h("if-unmodified-since");
  const std::string* if_mod = h("if-modified-since");
  if (if_match) {
    if (!etag_list_matches(*if_match, o.etag)) {
      *failed = "If-Match";
      return 412;
    }
  } else if (if_unmod) {
    if (auto t = parse_http_date(*if_unmod); t && modified_s > *t / 1000) {
      *failed = "If-Unmodified-Since";
      return 412;
    }
  }
  if (if_none) {
    if (etag_list_matches(*if_none, o.etag)) {
      *failed = "If-None-Match";
      return prefix.empty() ? 304 : 412;
    }
  } else if (if_mod) {
    auto t = parse_http_date(*if_mod);
    if (t && *t <= now_ms() && modified_s <= *t / 1000) {
      *failed = "If-Modified-Since";
      return prefix.empty() ? 304 : 412;
    }
  }
  return 0;
}

// The row of an object whose data `w` has finished writing: size, ETag, time, metadata (with
// the checksum computed), and the data (sealed in the row, or its file).
void describe(store::ObjectRecord& rec, objects::DataWriter& w, json::object& meta,
              objects::Checksum ck) {
  if (ck != objects::Checksum::kNone) {
    meta["ck_alg"] = std::string(objects::checksum_name(ck));
    meta["ck"] = w.hasher().checksum_b64();
  }
  rec.size = w.size();
  rec.etag = hex_encode(w.hasher().md5());
  rec.modified_ms = now_ms();
  rec.meta = json::serialize(meta);
  if (w.is_inline()) {
    rec.inline_data = w.sealed_inline(rec.bucket, rec.key);
  } else {
    rec.pieces = {w.piece()};
  }
}

void add_object_headers(http::Response& res, const store::ObjectRecord& o,
                        const json::object& meta) {
  res.set_header("ETag", "\"" + o.etag + "\"");
  res.set_header("Last-Modified", format_http_date(o.modified_ms));
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("x-amz-server-side-encryption", "AES256");
  bool has_type = false;
  for (const auto& [k, header] : kResponseHeaders) {
    std::string v = str(meta, k);
    if (v.empty()) continue;
    if (std::string_view(k) == "ct") {
      res.content_type = v;
      has_type = true;
    } else {
      res.set_header(header, v);
    }
  }
  if (!has_type) res.content_type = "binary/octet-stream";
  if (auto* user = meta.if_contains("m")) {
    for (const auto& [k, v] : user->as_object()) {
      res.set_header("x-amz-meta-" + std::string(k), std::string(v.as_string()));
    }
  }
  if (auto* t = meta.if_contains("t"); t && !t->as_object().empty()) {
    res.set_header("x-amz-tagging-count", std::to_string(t->as_object().size()));
  }
}

}  // namespace

// The metadata of this request's headers: content headers, user metadata.
json::object meta_from_headers(const http::Request& req) {
  json::object meta;
  for (const auto& [k, header] : kContentHeaders) {
    if (const std::string* v = req.find_header(header)) {
      std::string value = *v;
      if (std::string_view(k) == "ce") {
        // aws-chunked is framing, not the object's encoding.
        std::string kept;
        std::string_view rest = value;
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          std::string_view one = rest.substr(0, comma);
          while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
          while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
          if (one != "aws-chunked" && !one.empty())
            kept += (kept.empty() ? "" : ",") + std::string(one);
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
        value = kept;
      }
      if (!value.empty()) meta[k] = value;
    }
  }
  json::object user;
  size_t total = 0;
  for (const auto& [k, v] : req.headers) {
    if (k.starts_with("x-amz-meta-")) {
      std::string name = k.substr(11);
      total += name.size() + v.size();
      user[name] = v;
    }
  }
  if (total > 2048) {
    throw s3_error(400, "MetadataTooLarge",
                   "Your metadata headers exceed the maximum allowed metadata size",
                   {{"Size", std::to_string(total)}, {"MaxSizeAllowed", "2048"}});
  }
  if (!user.empty()) meta["m"] = std::move(user);
  return meta;
}

// URL query form (x-amz-tagging: k=v&k2=v2) → tags.
json::object tags_from_header(const std::string& h) {
  json::object tags;
  if (h.empty()) return tags;
  std::string_view rest = h;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    std::string plus_k(pair.substr(0, eq)),
        plus_v(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    for (auto* s : {&plus_k, &plus_v}) {
      for (auto& ch : *s)
        if (ch == '+') ch = ' ';
    }
    auto k = pct_decode(plus_k);
    auto v = pct_decode(plus_v);
    if (!k || !v || k->empty())
      throw s3_error(400, "InvalidArgument",
                     "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL "
                     "query parameters without tag name duplicates.");
    tags[*k] = *v;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  if (tags.size() > 10) throw s3_error(400, "BadRequest", "Object tags cannot be greater than 10");
  return tags;
}

asio::awaitable<http::Response> S3Api::put_object(Ctx& c) {
  authorize(c, "s3:PutObject", true);
  if (c.key.size() > 1024) {
    throw s3_error(400, "KeyTooLongError", "Your key is too long",
                   {{"Size", std::to_string(c.key.size())}, {"MaxSizeAllowed", "1024"}});
  }
  json::object meta = meta_from_headers(c.req);
  if (std::string t = c.header("x-amz-tagging"); !t.empty()) meta["t"] = tags_from_header(t);
  objects::Checksum ck = requested_checksum(c);
  std::string if_none = c.header("if-none-match");
  std::string if_match = c.header("if-match");
  if (!if_none.empty() && if_none != "*") {
    throw s3_error(501, "NotImplemented",
                   "A header you provided implies functionality that is not implemented",
                   {{"Header", "If-None-Match"}});
  }
  // Refuse before reading the body when the bucket is missing (the commit checks again).
  if (!bucket_known(c.bucket)) {
    auto exists = [this, b = c.bucket]() -> Result<bool> {
      auto r = deps_.objects.store().get_bucket(b);
      if (!r) return r.error();
      return true;
    };
    if (auto r = co_await offload(deps_.pool, std::move(exists)); !r)
      throw_store(r.error(), c.bucket);
    remember_bucket(c.bucket, true);
  }

  std::unique_ptr<objects::DataWriter> writer =
      deps_.objects.writer(true, c.payload.size() == 64, ck);
  co_await ingest(c, *writer, kMaxPut);
  store::ObjectRecord rec;
  rec.bucket = c.bucket;
  rec.key = c.key;
  describe(rec, *writer, meta, ck);
  std::vector<store::AsyncEvent> events =
      events_for(c, "ObjectCreated:Put", c.key, true, rec.size, rec.etag);
  std::string failed;
  auto commit = [this, &rec, w = writer.get(), if_none, if_match, &failed,
                 &events]() -> Result<bool> {
    bool released = false;
    auto check = [&](const store::ObjectRecord* cur) -> Result<void> {
      released = cur && !cur->pieces.empty();
      if (if_none == "*" && cur) {
        failed = "If-None-Match";
        return make_error(Errc::kPreconditionFailed, "exists");
      }
      if (!if_match.empty() && (!cur || !etag_list_matches(if_match, cur->etag))) {
        failed = cur ? "If-Match" : "NoSuchKey";
        return make_error(Errc::kPreconditionFailed, "etag");
      }
      return {};
    };
    auto r = deps_.objects.store().put_object(rec, check, events);
    cache_.forget(rec.bucket, rec.key);
    if (!r) return r.error();
    w->committed();
    if (released) deps_.objects.collect_garbage_soon(deps_.pool);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(commit));
  if (!r) {
    if (r.error().code == Errc::kPreconditionFailed) {
      if (failed == "NoSuchKey") throw no_such_key(c.key);
      throw s3_error(412, "PreconditionFailed",
                     "At least one of the pre-conditions you specified did not hold",
                     {{"Condition", failed}});
    }
    throw_store(r.error(), c.bucket);
  }
  if (!events.empty()) wake();
  auto res = s3_response(c.req, 200);
  res.set_header("ETag", "\"" + rec.etag + "\"");
  res.set_header("x-amz-server-side-encryption", "AES256");
  if (ck != objects::Checksum::kNone) {
    res.set_header(std::string(objects::checksum_header(ck)), writer->hasher().checksum_b64());
  }
  co_return res;
}

asio::awaitable<http::Response> S3Api::get_object(Ctx& c) {
  const bool head = c.req.method == "HEAD";
  authorize(c, "s3:GetObject", true);
  // One trip to the pool for a small object: its row and its bytes (none when its row is in
  // memory).
  const uint64_t epoch = cache_.epoch();
  struct Loaded {
    store::ObjectRecord rec;
    std::optional<std::string> data;  // the whole object, when small
  };
  auto load = [this, b = c.bucket, k = c.key, head, epoch]() -> Result<Loaded> {
    LAMBENT_TRY(rec, deps_.objects.store().get_object(b, k));
    cache_.fill(rec, epoch);
    Loaded out{std::move(rec), std::nullopt};
    if (!head && out.rec.size <= kStep) {
      LAMBENT_TRY(reader, deps_.objects.reader(out.rec));
      std::string data;
      LAMBENT_TRY_VOID(reader->read(0, out.rec.size, data));
      out.data = std::move(data);
    }
    return out;
  };
  Result<Loaded> loaded = make_error(Errc::kInternal, "not loaded");
  if (auto hit = cache_.find(c.bucket, c.key)) {
    // A small object's row in memory: its bytes are in the row (no file to read).
    Loaded l{*hit, std::nullopt};
    if (!head) {
      auto reader = deps_.objects.reader(l.rec);
      std::string data;
      if (reader && (*reader)->read(0, l.rec.size, data)) l.data = std::move(data);
    }
    if (head || l.data) loaded = std::move(l);
  }
  if (!loaded) loaded = co_await offload(deps_.pool, std::move(load));
  if (!loaded) {
    if (loaded.error().code == Errc::kNotFound &&
        loaded.error().message.starts_with("The specified key")) {
      throw no_such_key(c.key);
    }
    throw_store(loaded.error(), c.bucket);
  }
  const store::ObjectRecord* rec = &loaded->rec;
  json::object meta = json::parse(rec->meta).as_object();
  std::string failed;
  if (unsigned status = evaluate_conditions(c.req, "", *rec, &failed)) {
    if (status == 304) {
      auto res = s3_response(c.req, 304);
      res.set_header("ETag", "\"" + rec->etag + "\"");
      res.set_header("Last-Modified", format_http_date(rec->modified_ms));
      co_return res;
    }
    throw s3_error(412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold",
                   {{"Condition", failed}});
  }
  uint64_t size = rec->size;
  uint64_t from = 0, to = size;  // [from, to)
  bool partial = false;
  // partNumber: that part of a multipart object (or part 1 = the whole of a simple one).
  if (std::string pn = c.query("partNumber"); !pn.empty()) {
    int n = 0;
    try {
      n = std::stoi(pn);
    } catch (...) {
    }
    std::vector<uint64_t> sizes;
    if (auto* parts = meta.if_contains("parts")) {
      for (const auto& p : parts->as_array()) sizes.push_back(p.to_number<uint64_t>());
    } else {
      sizes.push_back(size);
    }
    if (n < 1 || n > static_cast<int>(sizes.size())) {
      throw s3_error(
          416, "InvalidPartNumber", "The requested partnumber is not satisfiable",
          {{"PartNumberRequested", pn}, {"ActualPartCount", std::to_string(sizes.size())}});
    }
    for (int i = 0; i < n - 1; ++i) from += sizes[i];
    to = from + sizes[n - 1];
    partial = meta.contains("parts");
  } else if (std::string range = c.header("range"); !range.empty()) {
    // One range: bytes=a-b | a- | -n; anything else (several, malformed) is ignored.
    std::string_view r = range;
    if (r.starts_with("bytes=") && r.find(',') == std::string_view::npos) {
      r.remove_prefix(6);
      size_t dash = r.find('-');
      if (dash != std::string_view::npos) {
        std::string a(r.substr(0, dash)), b(r.substr(dash + 1));
        auto number = [](const std::string& s, uint64_t& out) {
          if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
          try {
            out = std::stoull(s);
          } catch (...) {
            return false;
          }
          return true;
        };
        uint64_t av = 0, bv = 0;
        bool ok_a = number(a, av), ok_b = number(b, bv);
        bool unsatisfiable = false;
        if (ok_a && (b.empty() || ok_b) && (b.empty() || bv >= av)) {
          if (av >= size) {
            unsatisfiable = true;
          } else {
            from = av;
            to = b.empty() ? size : std::min(bv + 1, size);
            partial = true;
          }
        } else if (a.empty() && ok_b) {
          if (bv == 0) {
            unsatisfiable = true;
          } else {
            from = size > bv ? size - bv : 0;
            to = size;
            partial = true;
          }
        }
        if (unsatisfiable) {
          throw s3_error(416, "InvalidRange", "The requested range is not satisfiable",
                         {{"RangeRequested", range}, {"ActualObjectSize", std::to_string(size)}});
        }
      }
    }
  }
  auto res = s3_response(c.req, partial ? 206 : 200);
  add_object_headers(res, *rec, meta);
  if (partial) {
    res.set_header("Content-Range",
                   fmt::format("bytes {}-{}/{}", from, to == 0 ? 0 : to - 1, size));
  }
  if (c.has_query("partNumber") && meta.contains("parts")) {
    res.set_header("x-amz-mp-parts-count", std::to_string(meta.at("parts").as_array().size()));
  }
  if (!partial && c.header("x-amz-checksum-mode") == "ENABLED" && meta.contains("ck")) {
    std::string alg = str(meta, "ck_alg");
    if (auto k = objects::checksum_from_name(alg)) {
      res.set_header(std::string(objects::checksum_header(*k)), str(meta, "ck"));
      res.set_header("x-amz-checksum-type",
                     str(meta, "ck").find('-') == std::string::npos ? "FULL_OBJECT" : "COMPOSITE");
    }
  }
  // Response overrides (signed requests only, as S3).
  for (const auto& [q, header] : std::initializer_list<std::pair<const char*, const char*>>{
           {"response-content-type", ""},
           {"response-content-language", "Content-Language"},
           {"response-expires", "Expires"},
           {"response-cache-control", "Cache-Control"},
           {"response-content-disposition", "Content-Disposition"},
           {"response-content-encoding", "Content-Encoding"}}) {
    std::string v = c.query(q);
    if (v.empty()) continue;
    if (*header == '\0') {
      res.content_type = v;
    } else {
      std::erase_if(res.headers, [&](const auto& h) { return h.first == header; });
      res.set_header(header, v);
    }
  }
  uint64_t length = to - from;
  res.content_length = length;
  if (head || length == 0) co_return res;
  if (loaded->data) {
    res.body = from == 0 && length == loaded->data->size() ? std::move(*loaded->data)
                                                           : loaded->data->substr(from, length);
    res.content_length.reset();
    co_return res;
  }
  auto first = deps_.objects.reader(*rec);
  auto second = deps_.objects.reader(*rec);
  if (!first) throw_store(first.error(), c.bucket);
  if (!second) throw_store(second.error(), c.bucket);
  res.stream = object_source(deps_.pool, std::shared_ptr<objects::DataReader>(std::move(*first)),
                             std::shared_ptr<objects::DataReader>(std::move(*second)), from, to);
  co_return res;
}

asio::awaitable<http::Response> S3Api::delete_object(Ctx& c) {
  authorize(c, "s3:DeleteObject", true);
  std::vector<store::AsyncEvent> events =
      events_for(c, "ObjectRemoved:Delete", c.key, false, 0, "");
  auto job = [this, b = c.bucket, k = c.key, &events]() -> Result<bool> {
    auto r = deps_.objects.store().delete_object(b, k, events);
    cache_.forget(b, k);
    if (r && *r) deps_.objects.collect_garbage_soon(deps_.pool);
    return r;
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) throw_store(r.error(), c.bucket);
  if (*r && !events.empty()) wake();
  co_return s3_response(c.req, 204);
}

asio::awaitable<http::Response> S3Api::copy_object(Ctx& c) {
  authorize(c, "s3:PutObject", true);
  std::string source = c.header("x-amz-copy-source");
  std::string_view s = source;
  if (s.starts_with("/")) s.remove_prefix(1);
  if (size_t q = s.find('?'); q != std::string_view::npos) {
    if (s.substr(q + 1).starts_with("versionId=") && s.substr(q + 11) != "null") {
      throw s3_error(400, "InvalidArgument", "Invalid version id specified",
                     {{"ArgumentName", "x-amz-copy-source"}, {"ArgumentValue", source}});
    }
    s = s.substr(0, q);
  }
  auto decoded = pct_decode(s);
  size_t slash = decoded ? decoded->find('/') : std::string::npos;
  if (!decoded || slash == std::string::npos || slash == 0 || slash + 1 == decoded->size()) {
    throw s3_error(400, "InvalidArgument",
                   "Copy Source must mention the source bucket and key: "
                   "sourcebucket/sourcekey",
                   {{"ArgumentName", "x-amz-copy-source"}, {"ArgumentValue", source}});
  }
  std::string src_bucket = decoded->substr(0, slash), src_key = decoded->substr(slash + 1);
  authorize_arn(c, "s3:GetObject", "arn:aws:s3:::" + src_bucket + "/" + src_key);
  std::string directive = c.header("x-amz-metadata-directive");
  if (directive.empty()) directive = "COPY";
  if (directive != "COPY" && directive != "REPLACE") {
    throw s3_error(400, "InvalidArgument", "Unknown metadata directive.",
                   {{"ArgumentName", "x-amz-metadata-directive"}, {"ArgumentValue", directive}});
  }
  std::string tag_directive = c.header("x-amz-tagging-directive");
  auto load = [this, src_bucket, src_key] {
    return deps_.objects.store().get_object(src_bucket, src_key);
  };
  auto src = co_await offload(deps_.pool, std::move(load));
  if (!src) {
    if (src.error().code == Errc::kNotFound &&
        src.error().message.starts_with("The specified key")) {
      throw no_such_key(src_key);
    }
    throw_store(src.error(), src_bucket);
  }
  std::string failed;
  if (evaluate_conditions(c.req, "x-amz-copy-source-", *src, &failed)) {
    throw s3_error(412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold",
                   {{"Condition", "x-amz-copy-source-" + failed}});
  }
  if (src->size > kMaxPut) {
    throw s3_error(400, "InvalidRequest",
                   "The specified copy source is larger than the maximum "
                   "allowable size for a copy source: 5368709120");
  }
  json::object src_meta = json::parse(src->meta).as_object();
  json::object meta;
  if (directive == "REPLACE") {
    meta = meta_from_headers(c.req);
  } else {
    meta = src_meta;
    meta.erase("parts");
    meta.erase("t");
    meta.erase("ck");
    meta.erase("ck_alg");
  }
  if (tag_directive == "REPLACE") {
    if (std::string t = c.header("x-amz-tagging"); !t.empty()) meta["t"] = tags_from_header(t);
  } else if (auto* t = src_meta.if_contains("t")) {
    meta["t"] = *t;
  }
  if (src_bucket == c.bucket && src_key == c.key && directive != "REPLACE") {
    throw s3_error(400, "InvalidRequest",
                   "This copy request is illegal because it is trying to copy an object to itself "
                   "without changing the object's metadata, storage class, website redirect "
                   "location or encryption attributes.");
  }
  objects::Checksum ck = objects::Checksum::kNone;
  if (auto alg = c.header("x-amz-checksum-algorithm"); !alg.empty()) {
    auto k = objects::checksum_from_name(alg);
    if (!k) throw s3_error(400, "InvalidRequest", "Checksum algorithm provided is unsupported.");
    ck = *k;
  } else if (auto* a = src_meta.if_contains("ck_alg"); a && !src_meta.contains("parts")) {
    ck =
        objects::checksum_from_name(std::string(a->as_string())).value_or(objects::Checksum::kNone);
  }
  store::ObjectRecord rec;
  rec.bucket = c.bucket;
  rec.key = c.key;
  // The copy's ETag is the source's MD5 (its size too), known before the copy is made.
  std::vector<store::AsyncEvent> events;
  if (!src_meta.contains("parts")) {
    events = events_for(c, "ObjectCreated:Copy", c.key, true, src->size, src->etag);
  }
  bool needs_events_after = src_meta.contains("parts");
  auto copy = [this, &rec, source = *src, ck, meta, &events, &c,
               needs_events_after]() mutable -> Result<bool> {
    LAMBENT_TRY(reader, deps_.objects.reader(source));
    auto writer = deps_.objects.writer(true, false, ck);
    std::string buf;
    for (uint64_t at = 0; at < source.size; at += kStep) {
      buf.clear();
      uint64_t n = std::min<uint64_t>(kStep, source.size - at);
      LAMBENT_TRY_VOID(reader->read(at, n, buf));
      LAMBENT_TRY_VOID(writer->write(buf));
    }
    LAMBENT_TRY_VOID(writer->finish());
    describe(rec, *writer, meta, ck);
    if (needs_events_after) {
      // A multipart source: the copy is one piece, whose MD5 is only known now.
      events = events_for(c, "ObjectCreated:Copy", c.key, true, rec.size, rec.etag);
    }
    auto put = deps_.objects.store().put_object(rec, nullptr, events);
    cache_.forget(rec.bucket, rec.key);
    LAMBENT_TRY_VOID(put);
    writer->committed();
    deps_.objects.collect_garbage_soon(deps_.pool);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(copy));
  if (!r) throw_store(r.error(), c.bucket);
  if (!events.empty()) wake();
  std::string xml = fmt::format("<CopyObjectResult xmlns=\"{}\">", kXmlns);
  xml_elem(xml, "LastModified", format_iso8601_millis(rec.modified_ms));
  xml_elem(xml, "ETag", "\"" + rec.etag + "\"");
  json::object stored = json::parse(rec.meta).as_object();
  if (ck != objects::Checksum::kNone) {
    xml_elem(xml, objects::checksum_xml_member(ck), str(stored, "ck"));
  }
  xml += "</CopyObjectResult>";
  auto res = s3_response(c.req, 200, std::move(xml));
  res.set_header("x-amz-server-side-encryption", "AES256");
  co_return res;
}

asio::awaitable<http::Response> S3Api::object_tagging(Ctx& c) {
  const std::string& m = c.req.method;
  authorize(c,
            m == "GET" ? "s3:GetObjectTagging"
                       : (m == "PUT" ? "s3:PutObjectTagging" : "s3:DeleteObjectTagging"),
            true);
  if (m == "GET") {
    auto load = [this, b = c.bucket, k = c.key] { return deps_.objects.store().get_object(b, k); };
    auto rec = co_await offload(deps_.pool, std::move(load));
    if (!rec) {
      if (rec.error().code == Errc::kNotFound &&
          rec.error().message.starts_with("The specified key")) {
        throw no_such_key(c.key);
      }
      throw_store(rec.error(), c.bucket);
    }
    json::object meta = json::parse(rec->meta).as_object();
    json::object tags;
    if (auto* t = meta.if_contains("t")) tags = t->as_object();
    co_return s3_response(c.req, 200, tagging_to_xml(tags));
  }
  if (m != "PUT" && m != "DELETE") {
    throw s3_error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.");
  }
  json::object tags;
  if (m == "PUT") {
    std::string body = co_await small_body(c, 64 * 1024);
    tags = parse_tagging_xml(body);
    if (tags.size() > 10)
      throw s3_error(400, "BadRequest", "Object tags cannot be greater than 10");
  }
  // The tags change in place: same data, same ETag and date.
  auto job = [this, b = c.bucket, k = c.key, tags]() -> Result<bool> {
    LAMBENT_TRY(rec, deps_.objects.store().get_object(b, k));
    json::object meta = json::parse(rec.meta).as_object();
    if (tags.empty()) {
      meta.erase("t");
    } else {
      meta["t"] = tags;
    }
    rec.meta = json::serialize(meta);
    LAMBENT_TRY_VOID(
        deps_.objects.store().put_object(rec, [&](const store::ObjectRecord* cur) -> Result<void> {
          if (!cur || cur->etag != rec.etag) return make_error(Errc::kConflict, "changed");
          return {};
        }));
    cache_.forget(b, k);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) {
    if (r.error().code == Errc::kNotFound && r.error().message.starts_with("The specified key")) {
      throw no_such_key(c.key);
    }
    if (r.error().code == Errc::kConflict) {
      throw s3_error(409, "OperationAborted",
                     "A conflicting conditional operation is currently in progress against this "
                     "resource. Please try again.");
    }
    throw_store(r.error(), c.bucket);
  }
  co_return s3_response(c.req, m == "PUT" ? 200 : 204);
}

}  // namespace lambent::s3

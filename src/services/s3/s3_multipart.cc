// Multipart uploads: create, upload (and copy) parts, complete with S3's rules (ascending part
// numbers, matching ETags, 5 MiB minimum but the last), abort, and the two listings.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <pugixml.hpp>

#include "base/codec.h"
#include "base/offload.h"
#include "base/time.h"
#include "http/stream.h"
#include "services/s3/internal.h"

namespace lambent::s3 {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr uint64_t kMinPart = 5ull << 20;
constexpr uint64_t kMaxPart = 5ull << 30;

aws::ServiceError no_such_upload(const std::string& id) {
  return s3_error(404, "NoSuchUpload",
                  "The specified upload does not exist. The upload ID may be invalid, or the "
                  "upload may have been aborted or completed.",
                  {{"UploadId", id}});
}

int part_number(const std::string& v) {
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used == v.size() && n >= 1 && n <= 10000) return n;
  } catch (...) {
  }
  throw s3_error(400, "InvalidArgument",
                 "Part number must be an integer between 1 and 10000, inclusive",
                 {{"ArgumentName", "partNumber"}, {"ArgumentValue", v}});
}

}  // namespace

asio::awaitable<http::Response> S3Api::create_upload(Ctx& c) {
  authorize(c, "s3:PutObject", true);
  if (c.key.size() > 1024) {
    throw s3_error(400, "KeyTooLongError", "Your key is too long");
  }
  // What the object will carry, fixed now (as a PUT's headers would fix it).
  json::object meta = meta_from_headers(c.req);
  if (auto tagging = c.header("x-amz-tagging"); !tagging.empty()) {
    json::object tags = tags_from_header(tagging);
    if (!tags.empty()) meta["t"] = std::move(tags);
  }
  if (auto alg = c.header("x-amz-checksum-algorithm"); !alg.empty()) {
    auto k = objects::checksum_from_name(alg);
    if (!k) throw s3_error(400, "InvalidRequest", "Checksum algorithm provided is unsupported.");
    meta["ck_alg"] = std::string(objects::checksum_name(*k));
  }
  store::UploadRecord u{hex_encode(random_bytes(24)), c.bucket, c.key, now_ms(),
                        json::serialize(meta)};
  auto job = [this, u] { return deps_.objects.store().create_upload(u); };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) throw_store(r.error(), c.bucket);
  std::string xml = fmt::format("<InitiateMultipartUploadResult xmlns=\"{}\">", kXmlns);
  xml_elem(xml, "Bucket", c.bucket);
  xml_elem(xml, "Key", c.key);
  xml_elem(xml, "UploadId", u.id);
  xml += "</InitiateMultipartUploadResult>";
  auto res = s3_response(c.req, 200, std::move(xml));
  res.set_header("x-amz-server-side-encryption", "AES256");
  if (meta.contains("ck_alg")) {
    res.set_header("x-amz-checksum-algorithm", std::string(meta.at("ck_alg").as_string()));
  }
  co_return res;
}

asio::awaitable<http::Response> S3Api::upload_part(Ctx& c) {
  authorize(c, "s3:PutObject", true);
  int number = part_number(c.query("partNumber"));
  std::string upload_id = c.query("uploadId");
  auto load = [this, upload_id] { return deps_.objects.store().get_upload(upload_id); };
  auto up = co_await offload(deps_.pool, std::move(load));
  if (!up || up->bucket != c.bucket || up->key != c.key) throw no_such_upload(upload_id);
  json::object umeta = json::parse(up->meta).as_object();
  objects::Checksum upload_ck = objects::Checksum::kNone;
  if (auto* a = umeta.if_contains("ck_alg")) {
    upload_ck =
        objects::checksum_from_name(std::string(a->as_string())).value_or(objects::Checksum::kNone);
  }
  std::unique_ptr<objects::DataWriter> writer;
  std::string copy_source = c.header("x-amz-copy-source");
  if (!copy_source.empty()) {
    // UploadPartCopy: bytes of another object.
    std::string_view s = copy_source;
    if (s.starts_with("/")) s.remove_prefix(1);
    s = s.substr(0, s.find('?'));
    auto decoded = pct_decode(s);
    size_t slash = decoded ? decoded->find('/') : std::string::npos;
    if (!decoded || slash == std::string::npos || slash == 0) {
      throw s3_error(400, "InvalidArgument",
                     "Copy Source must mention the source bucket and key: "
                     "sourcebucket/sourcekey");
    }
    std::string sb = decoded->substr(0, slash), sk = decoded->substr(slash + 1);
    authorize_arn(c, "s3:GetObject", "arn:aws:s3:::" + sb + "/" + sk);
    auto src_job = [this, sb, sk] { return deps_.objects.store().get_object(sb, sk); };
    auto src = co_await offload(deps_.pool, std::move(src_job));
    if (!src) {
      if (src.error().code == Errc::kNotFound &&
          src.error().message.starts_with("The specified key")) {
        throw no_such_key(sk);
      }
      throw_store(src.error(), sb);
    }
    uint64_t from = 0, to = src->size;
    if (std::string range = c.header("x-amz-copy-source-range"); !range.empty()) {
      unsigned long long a = 0, b = 0;
      if (std::sscanf(range.c_str(), "bytes=%llu-%llu", &a, &b) != 2 || b < a || b >= src->size) {
        throw s3_error(400, "InvalidArgument",
                       "The x-amz-copy-source-range value must be of the form bytes=first-last "
                       "where first and last are the zero-based offsets of the first and last "
                       "bytes to copy",
                       {{"ArgumentName", "x-amz-copy-source-range"}, {"ArgumentValue", range}});
      }
      from = a;
      to = b + 1;
    }
    if (to - from > kMaxPart)
      throw s3_error(400, "EntityTooLarge",
                     "Your proposed upload exceeds the maximum allowed size");
    writer = deps_.objects.writer(false, false, upload_ck);
    auto copy = [this, w = writer.get(), source = *src, from, to]() -> Result<bool> {
      LAMBENT_TRY(reader, deps_.objects.reader(source));
      std::string buf;
      for (uint64_t at = from; at < to; at += (1 << 20)) {
        buf.clear();
        LAMBENT_TRY_VOID(reader->read(at, std::min<uint64_t>(1 << 20, to - at), buf));
        LAMBENT_TRY_VOID(w->write(buf));
      }
      LAMBENT_TRY_VOID(w->finish());
      return true;
    };
    auto r = co_await offload(deps_.pool, std::move(copy));
    if (!r) throw_store(r.error(), c.bucket);
  } else {
    objects::Checksum ck = requested_checksum(c);
    if (upload_ck != objects::Checksum::kNone && ck != objects::Checksum::kNone &&
        ck != upload_ck) {
      throw s3_error(400, "InvalidRequest",
                     fmt::format("Checksum Type mismatch occurred, expected checksum Type: {}, "
                                 "actual checksum Type: {}",
                                 objects::checksum_name(upload_ck), objects::checksum_name(ck)));
    }
    if (ck == objects::Checksum::kNone) ck = upload_ck;
    writer = deps_.objects.writer(false, c.payload.size() == 64, ck);
    co_await ingest(c, *writer, kMaxPart);
  }
  store::PartRecord part;
  part.upload_id = upload_id;
  part.number = number;
  part.data = writer->piece();
  part.etag = hex_encode(writer->hasher().md5());
  part.checksum = writer->hasher().checksum_b64();
  part.modified_ms = now_ms();
  auto commit = [this, part, w = writer.get()]() -> Result<bool> {
    LAMBENT_TRY_VOID(deps_.objects.store().put_part(part));
    w->committed();
    deps_.objects.collect_garbage_soon(deps_.pool);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(commit));
  if (!r) {
    if (r.error().code == Errc::kNotFound) throw no_such_upload(upload_id);
    throw_store(r.error(), c.bucket);
  }
  if (!copy_source.empty()) {
    std::string xml = fmt::format("<CopyPartResult xmlns=\"{}\">", kXmlns);
    xml_elem(xml, "LastModified", format_iso8601_millis(part.modified_ms));
    xml_elem(xml, "ETag", "\"" + part.etag + "\"");
    xml += "</CopyPartResult>";
    co_return s3_response(c.req, 200, std::move(xml));
  }
  auto res = s3_response(c.req, 200);
  res.set_header("ETag", "\"" + part.etag + "\"");
  res.set_header("x-amz-server-side-encryption", "AES256");
  if (!part.checksum.empty()) {
    res.set_header(std::string(objects::checksum_header(writer->hasher().checksum())),
                   part.checksum);
  }
  co_return res;
}

asio::awaitable<http::Response> S3Api::complete_upload(Ctx& c) {
  authorize(c, "s3:PutObject", true);
  std::string upload_id = c.query("uploadId");
  std::string body = co_await small_body(c, 4 << 20);
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) throw malformed_xml();
  auto root = doc.child("CompleteMultipartUpload");
  if (!root) throw malformed_xml();
  struct Wanted {
    int number;
    std::string etag;
    std::string checksum;
  };
  std::vector<Wanted> wanted;
  for (auto p : root.children("Part")) {
    std::string n = p.child("PartNumber").text().as_string();
    Wanted w{0, "", ""};
    try {
      w.number = std::stoi(n);
    } catch (...) {
      throw malformed_xml();
    }
    std::string etag = p.child("ETag").text().as_string();
    while (!etag.empty() && etag.front() == '"') etag.erase(0, 1);
    while (!etag.empty() && etag.back() == '"') etag.pop_back();
    w.etag = etag;
    for (auto k : {objects::Checksum::kCrc32, objects::Checksum::kCrc32c, objects::Checksum::kSha1,
                   objects::Checksum::kSha256}) {
      std::string member(objects::checksum_xml_member(k));
      if (auto x = p.child(member.c_str())) w.checksum = x.text().as_string();
    }
    if (!wanted.empty() && w.number <= wanted.back().number) {
      throw s3_error(400, "InvalidPartOrder",
                     "The list of parts was not in ascending order. Parts must be ordered by part "
                     "number.",
                     {{"UploadId", upload_id}});
    }
    wanted.push_back(std::move(w));
  }
  if (wanted.empty()) {
    throw s3_error(400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema");
  }
  auto load =
      [this,
       upload_id]() -> Result<std::pair<store::UploadRecord, std::vector<store::PartRecord>>> {
    LAMBENT_TRY(up, deps_.objects.store().get_upload(upload_id));
    std::vector<store::PartRecord> parts;
    int after = 0;
    for (;;) {
      LAMBENT_TRY(batch, deps_.objects.store().list_parts(upload_id, after, 1000));
      if (batch.empty()) break;
      after = batch.back().number;
      for (auto& p : batch) parts.push_back(std::move(p));
    }
    return std::make_pair(std::move(up), std::move(parts));
  };
  auto loaded = co_await offload(deps_.pool, std::move(load));
  if (!loaded || loaded->first.bucket != c.bucket || loaded->first.key != c.key) {
    throw no_such_upload(upload_id);
  }
  auto& [up, parts] = *loaded;
  json::object umeta = json::parse(up.meta).as_object();
  std::string ck_alg = umeta.contains("ck_alg") ? std::string(umeta.at("ck_alg").as_string()) : "";
  std::map<int, const store::PartRecord*> by_number;
  for (const auto& p : parts) by_number[p.number] = &p;
  std::string md5s, checksums;
  store::ObjectRecord rec;
  rec.bucket = c.bucket;
  rec.key = c.key;
  json::array sizes;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const auto& w = wanted[i];
    auto it = by_number.find(w.number);
    if (it == by_number.end() || it->second->etag != w.etag) {
      throw s3_error(
          400, "InvalidPart",
          "One or more of the specified parts could not be found.  The part may not "
          "have been uploaded, or the specified entity tag may not match the part's "
          "entity tag.",
          {{"UploadId", upload_id}, {"PartNumber", std::to_string(w.number)}, {"ETag", w.etag}});
    }
    const auto& p = *it->second;
    if (i + 1 < wanted.size() && p.data.size < kMinPart) {
      throw s3_error(400, "EntityTooSmall",
                     "Your proposed upload is smaller than the minimum allowed size",
                     {{"ETag", p.etag},
                      {"PartNumber", std::to_string(p.number)},
                      {"MinSizeAllowed", std::to_string(kMinPart)},
                      {"ProposedSize", std::to_string(p.data.size)}});
    }
    if (!ck_alg.empty()) {
      if (p.checksum.empty()) {
        throw s3_error(400, "InvalidRequest",
                       fmt::format("The upload was created using a {} checksum. The complete "
                                   "request must include the checksum for each part. It was "
                                   "missing for part {} in the request.",
                                   ck_alg, p.number));
      }
      if (!w.checksum.empty() && w.checksum != p.checksum) {
        throw s3_error(400, "InvalidPart",
                       "One or more of the specified parts could not be found.  The part may not "
                       "have been uploaded, or the specified entity tag may not match the part's "
                       "entity tag.",
                       {{"UploadId", upload_id}, {"PartNumber", std::to_string(w.number)}});
      }
      auto raw = base64_decode(p.checksum);
      if (raw) checksums += *raw;
    }
    auto raw_md5 = hex_decode(p.etag);
    md5s += raw_md5 ? *raw_md5 : std::string();
    rec.pieces.push_back(p.data);
    rec.size += p.data.size;
    sizes.push_back(p.data.size);
  }
  rec.etag = md5_hex(md5s) + "-" + std::to_string(wanted.size());
  rec.modified_ms = now_ms();
  // The object's metadata as CreateMultipartUpload fixed it, with its parts and checksum.
  json::object meta = umeta;
  meta["parts"] = std::move(sizes);
  if (!ck_alg.empty()) {
    auto k = objects::checksum_from_name(ck_alg);
    meta["ck"] = objects::checksum_of(k.value_or(objects::Checksum::kNone), checksums) + "-" +
                 std::to_string(wanted.size());
  }
  rec.meta = json::serialize(meta);
  std::vector<store::AsyncEvent> events =
      events_for(c, "ObjectCreated:CompleteMultipartUpload", c.key, true, rec.size, rec.etag);
  auto commit = [this, upload_id, rec, &events]() -> Result<bool> {
    auto done = deps_.objects.store().complete_upload(upload_id, rec, nullptr, events);
    cache_.forget(rec.bucket, rec.key);
    LAMBENT_TRY_VOID(done);
    deps_.objects.collect_garbage_soon(deps_.pool);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(commit));
  if (!r) {
    if (r.error().code == Errc::kNotFound && r.error().message == "no such upload") {
      throw no_such_upload(upload_id);
    }
    throw_store(r.error(), c.bucket);
  }
  if (!events.empty()) wake();
  std::string scheme = c.req.secure ? "https" : "http";
  std::string host = c.header("host");
  std::string xml = fmt::format("<CompleteMultipartUploadResult xmlns=\"{}\">", kXmlns);
  xml_elem(xml, "Location",
           fmt::format("{}://{}/{}/{}", scheme, host, c.bucket, url_encode_key(c.key)));
  xml_elem(xml, "Bucket", c.bucket);
  xml_elem(xml, "Key", c.key);
  xml_elem(xml, "ETag", "\"" + rec.etag + "\"");
  if (!ck_alg.empty()) {
    auto k = objects::checksum_from_name(ck_alg);
    xml_elem(xml, objects::checksum_xml_member(*k), std::string(meta.at("ck").as_string()));
    xml_elem(xml, "ChecksumType", "COMPOSITE");
  }
  xml += "</CompleteMultipartUploadResult>";
  auto res = s3_response(c.req, 200, std::move(xml));
  res.set_header("x-amz-server-side-encryption", "AES256");
  co_return res;
}

asio::awaitable<http::Response> S3Api::abort_upload(Ctx& c) {
  authorize(c, "s3:AbortMultipartUpload", true);
  std::string upload_id = c.query("uploadId");
  auto job = [this, upload_id, b = c.bucket, k = c.key]() -> Result<bool> {
    LAMBENT_TRY(up, deps_.objects.store().get_upload(upload_id));
    if (up.bucket != b || up.key != k) return make_error(Errc::kNotFound, "no such upload");
    LAMBENT_TRY_VOID(deps_.objects.store().abort_upload(upload_id));
    deps_.objects.collect_garbage_soon(deps_.pool);
    return true;
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) {
    if (r.error().code == Errc::kNotFound) throw no_such_upload(upload_id);
    throw_store(r.error(), c.bucket);
  }
  co_return s3_response(c.req, 204);
}

asio::awaitable<http::Response> S3Api::list_parts(Ctx& c) {
  authorize(c, "s3:ListMultipartUploadParts", true);
  std::string upload_id = c.query("uploadId");
  int max_parts = 1000;
  if (auto v = c.query("max-parts"); !v.empty()) {
    try {
      max_parts = std::clamp(std::stoi(v), 0, 1000);
    } catch (...) {
      throw s3_error(400, "InvalidArgument",
                     "Provided max-parts not an integer or within integer range");
    }
  }
  int marker = 0;
  if (auto v = c.query("part-number-marker"); !v.empty()) {
    try {
      marker = std::stoi(v);
    } catch (...) {
      throw s3_error(400, "InvalidArgument",
                     "Provided part-number-marker not an integer or within integer range");
    }
  }
  auto job =
      [this, upload_id, marker,
       max_parts]() -> Result<std::pair<store::UploadRecord, std::vector<store::PartRecord>>> {
    LAMBENT_TRY(up, deps_.objects.store().get_upload(upload_id));
    LAMBENT_TRY(parts, deps_.objects.store().list_parts(upload_id, marker,
                                                        static_cast<size_t>(max_parts) + 1));
    return std::make_pair(std::move(up), std::move(parts));
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r || r->first.bucket != c.bucket || r->first.key != c.key) throw no_such_upload(upload_id);
  auto& parts = r->second;
  bool truncated = parts.size() > static_cast<size_t>(max_parts);
  if (truncated) parts.resize(static_cast<size_t>(max_parts));
  json::object umeta = json::parse(r->first.meta).as_object();
  std::string xml = fmt::format("<ListPartsResult xmlns=\"{}\">", kXmlns);
  xml_elem(xml, "Bucket", c.bucket);
  xml_elem(xml, "Key", c.key);
  xml_elem(xml, "UploadId", upload_id);
  xml_elem(xml, "PartNumberMarker", std::to_string(marker));
  xml_elem(xml, "NextPartNumberMarker",
           std::to_string(parts.empty() ? marker : parts.back().number));
  xml_elem(xml, "MaxParts", std::to_string(max_parts));
  xml_elem(xml, "IsTruncated", truncated ? "true" : "false");
  std::string owner = fmt::format("<ID>{0}</ID><DisplayName>{0}</DisplayName>", deps_.account);
  xml += "<Initiator>" + owner + "</Initiator><Owner>" + owner + "</Owner>";
  xml_elem(xml, "StorageClass", "STANDARD");
  std::string ck_alg = umeta.contains("ck_alg") ? std::string(umeta.at("ck_alg").as_string()) : "";
  if (!ck_alg.empty()) xml_elem(xml, "ChecksumAlgorithm", ck_alg);
  for (const auto& p : parts) {
    xml += "<Part>";
    xml_elem(xml, "PartNumber", std::to_string(p.number));
    xml_elem(xml, "LastModified", format_iso8601_millis(p.modified_ms));
    xml_elem(xml, "ETag", "\"" + p.etag + "\"");
    xml_elem(xml, "Size", std::to_string(p.data.size));
    if (!p.checksum.empty()) {
      if (auto k = objects::checksum_from_name(ck_alg)) {
        xml_elem(xml, objects::checksum_xml_member(*k), p.checksum);
      }
    }
    xml += "</Part>";
  }
  xml += "</ListPartsResult>";
  co_return s3_response(c.req, 200, std::move(xml));
}

asio::awaitable<http::Response> S3Api::list_uploads(Ctx& c) {
  authorize(c, "s3:ListBucketMultipartUploads", false);
  std::string prefix = c.query("prefix");
  std::string key_marker = c.query("key-marker");
  std::string id_marker = key_marker.empty() ? "" : c.query("upload-id-marker");
  int max_uploads = 1000;
  if (auto v = c.query("max-uploads"); !v.empty()) {
    try {
      max_uploads = std::clamp(std::stoi(v), 0, 1000);
    } catch (...) {
      throw s3_error(400, "InvalidArgument",
                     "Provided max-uploads not an integer or within integer range");
    }
  }
  // A key marker without an id marker: past every upload of that key.
  std::string id_after =
      id_marker.empty() && !key_marker.empty() ? std::string(64, '\xff') : id_marker;
  auto job = [this, b = c.bucket, prefix, key_marker, id_after, max_uploads] {
    return deps_.objects.store().list_uploads(b, prefix, key_marker, id_after,
                                              static_cast<size_t>(max_uploads) + 1);
  };
  auto r = co_await offload(deps_.pool, std::move(job));
  if (!r) throw_store(r.error(), c.bucket);
  auto& ups = *r;
  bool truncated = ups.size() > static_cast<size_t>(max_uploads);
  if (truncated) ups.resize(static_cast<size_t>(max_uploads));
  bool url = c.query("encoding-type") == "url";
  auto enc = [&](const std::string& s) { return url ? url_encode_key(s) : s; };
  std::string xml = fmt::format("<ListMultipartUploadsResult xmlns=\"{}\">", kXmlns);
  xml_elem(xml, "Bucket", c.bucket);
  xml_elem(xml, "KeyMarker", enc(key_marker));
  xml_elem(xml, "UploadIdMarker", id_marker);
  if (truncated && !ups.empty()) {
    xml_elem(xml, "NextKeyMarker", enc(ups.back().key));
    xml_elem(xml, "NextUploadIdMarker", ups.back().id);
  }
  if (!prefix.empty()) xml_elem(xml, "Prefix", enc(prefix));
  xml_elem(xml, "MaxUploads", std::to_string(max_uploads));
  xml_elem(xml, "IsTruncated", truncated ? "true" : "false");
  if (url) xml_elem(xml, "EncodingType", "url");
  std::string owner = fmt::format("<ID>{0}</ID><DisplayName>{0}</DisplayName>", deps_.account);
  for (const auto& u : ups) {
    xml += "<Upload>";
    xml_elem(xml, "Key", enc(u.key));
    xml_elem(xml, "UploadId", u.id);
    xml += "<Initiator>" + owner + "</Initiator><Owner>" + owner + "</Owner>";
    xml_elem(xml, "StorageClass", "STANDARD");
    xml_elem(xml, "Initiated", format_iso8601_millis(u.initiated_ms));
    xml += "</Upload>";
  }
  xml += "</ListMultipartUploadsResult>";
  co_return s3_response(c.req, 200, std::move(xml));
}

Result<std::string> S3Api::read_object(const std::string& bucket, const std::string& key,
                                       uint64_t limit) {
  LAMBENT_TRY(rec, deps_.objects.store().get_object(bucket, key));
  if (rec.size > limit) return make_error(Errc::kInvalidArgument, "object too large");
  LAMBENT_TRY(reader, deps_.objects.reader(rec));
  std::string out;
  LAMBENT_TRY_VOID(reader->read(0, rec.size, out));
  return out;
}

}  // namespace lambent::s3

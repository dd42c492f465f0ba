// The S3 REST API (rest-xml, 2006-03-01) over the object store: buckets (create, delete, head,
// list, location, policy, tagging, CORS), objects (put, get with ranges and conditions, head,
// delete, batch delete, copy, listings v1 and v2, tagging), and multipart uploads — with S3's
// own authentication rules (x-amz-content-sha256, presigned URLs, aws-chunked bodies with signed
// chunks or checksum trailers) and its XML errors.
//
// Requests reach it on the main listener (and the platform endpoint) when they are signed for
// s3, name a bucket by host (`<bucket>.s3.<anything>`, virtual-hosted style), or have a path no
// other service has (path-style `/<bucket>/<key>`).
// Thread: the handler runs on the I/O thread; store and file work is offloaded to the pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/service.h"
#include "http/router.h"
#include "objects/object_store.h"

namespace lambent::s3 {

// A bucket-changing or object event, for notifications.
struct ObjectEvent {
  std::string name;  // "ObjectCreated:Put", "ObjectRemoved:Delete", …
  std::string bucket;
  std::string key;
  uint64_t size = 0;
  std::string etag;
  uint64_t sequence = 0;
  int64_t time_ms = 0;
  std::string principal_id;
  std::string source_ip;
  std::string request_id;
};

class S3Api final {
 public:
  struct Deps {
    objects::ObjectStore& objects;
    boost::asio::thread_pool& pool;
    std::string region;
    std::string account;
  };
  explicit S3Api(Deps deps);

  static aws::ServiceInfo info();
  void set_guard(aws::Guard* guard) { guard_ = guard; }
  // The bucket policy of an s3 ARN (arn:aws:s3:::b or arn:aws:s3:::b/key), for the guard.
  std::optional<std::string> policy_of(std::string_view arn);
  // Loads bucket policies into memory.
  Result<void> load();
  void add_routes(http::Router& router);
  // The bytes of an object, whole (CreateFunction with S3Bucket/S3Key). Blocking.
  Result<std::string> read_object(const std::string& bucket, const std::string& key,
                                  uint64_t limit);

 private:
  struct Ctx;
  boost::asio::awaitable<http::Response> handle(http::Request& req);
  boost::asio::awaitable<http::Response> dispatch(Ctx& c);
  // Buckets
  boost::asio::awaitable<http::Response> list_buckets(Ctx& c);
  boost::asio::awaitable<http::Response> create_bucket(Ctx& c);
  boost::asio::awaitable<http::Response> delete_bucket(Ctx& c);
  boost::asio::awaitable<http::Response> head_bucket(Ctx& c);
  boost::asio::awaitable<http::Response> bucket_config(Ctx& c);
  boost::asio::awaitable<http::Response> list_objects(Ctx& c, bool v2);
  boost::asio::awaitable<http::Response> delete_objects(Ctx& c);
  // Objects
  boost::asio::awaitable<http::Response> put_object(Ctx& c);
  boost::asio::awaitable<http::Response> get_object(Ctx& c);
  boost::asio::awaitable<http::Response> delete_object(Ctx& c);
  boost::asio::awaitable<http::Response> copy_object(Ctx& c);
  boost::asio::awaitable<http::Response> object_tagging(Ctx& c);
  // Multipart
  boost::asio::awaitable<http::Response> create_upload(Ctx& c);
  boost::asio::awaitable<http::Response> upload_part(Ctx& c);
  boost::asio::awaitable<http::Response> complete_upload(Ctx& c);
  boost::asio::awaitable<http::Response> abort_upload(Ctx& c);
  boost::asio::awaitable<http::Response> list_parts(Ctx& c);
  boost::asio::awaitable<http::Response> list_uploads(Ctx& c);

  // Authorizes `action` on the bucket (no key) or object.
  void authorize(Ctx& c, const char* action, bool object_level);
  // The request body, whole (configuration documents), at most `limit` bytes.
  boost::asio::awaitable<std::string> small_body(Ctx& c, size_t limit);
  // Streams the body into `writer` (verifying the declared payload hash, Content-MD5 and
  // checksum headers or trailers); throws S3's error when it does not match.
  boost::asio::awaitable<void> ingest(Ctx& c, objects::DataWriter& writer, uint64_t limit);
  objects::Checksum requested_checksum(Ctx& c);
  void bucket_must_exist(const std::string& bucket);

  Deps deps_;
  aws::ServiceInfo info_;
  aws::Guard* guard_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> policies_;  // bucket → policy document
};

}  // namespace lambent::s3

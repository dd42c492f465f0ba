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
#include <set>
#include <string>

#include "aws/service.h"
#include "http/router.h"
#include "objects/object_store.h"
#include "services/s3/cors.h"
#include "services/s3/notifications.h"
#include "services/s3/object_cache.h"

namespace lambent::s3 {

class S3Api final {
 public:
  struct Deps {
    objects::ObjectStore& objects;
    boost::asio::thread_pool& pool;
    std::string region;
    std::string account;
  };
  explicit S3Api(Deps deps);

  // Where notifications go, given by the server: whether a destination (function or queue ARN)
  // exists and lets the bucket notify it (nullopt, or AWS's reason); the s3:TestEvent message
  // to a queue; and a wake-up for the asynchronous dispatcher once events are stored.
  struct Destinations {
    std::function<std::optional<std::string>(const std::string& arn, const std::string& bucket)>
        check;
    std::function<bool(const std::string& queue_arn, const std::string& body)> send_test;
    std::function<void()> wake;
  };
  void set_destinations(Destinations d) { destinations_ = std::move(d); }

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

  // Authorizes `action` on the bucket (no key) or object; an unsigned request only through a
  // bucket policy that grants everyone. Throws S3's AccessDenied.
  void authorize(Ctx& c, const char* action, bool object_level);
  void authorize_arn(Ctx& c, const char* action, const std::string& arn);
  // The refusal's message, or nullopt when allowed.
  std::optional<std::string> denied(Ctx& c, const char* action, const std::string& arn);
  // The request body, whole (configuration documents), at most `limit` bytes.
  boost::asio::awaitable<std::string> small_body(Ctx& c, size_t limit);
  // Streams the body into `writer` (verifying the declared payload hash, Content-MD5 and
  // checksum headers or trailers); throws S3's error when it does not match.
  boost::asio::awaitable<void> ingest(Ctx& c, objects::DataWriter& writer, uint64_t limit);
  objects::Checksum requested_checksum(Ctx& c);
  // The asynchronous events (invocations, queue messages) the bucket's notification
  // configurations want for this object event; stored with the change, in its transaction.
  std::vector<store::AsyncEvent> events_for(Ctx& c, const std::string& event_name,
                                            const std::string& key, bool created, uint64_t size,
                                            const std::string& etag);
  // Buckets seen to exist (a hint: a write commits only into an existing bucket).
  bool bucket_known(const std::string& bucket) {
    std::lock_guard lock(mu_);
    return known_.count(bucket) > 0;
  }
  void remember_bucket(const std::string& bucket, bool exists) {
    std::lock_guard lock(mu_);
    if (exists) {
      known_.insert(bucket);
    } else {
      known_.erase(bucket);
    }
  }
  void wake() {
    if (destinations_.wake) destinations_.wake();
  }
  boost::asio::awaitable<http::Response> notification_config(Ctx& c);
  // A browser's preflight (OPTIONS), answered from the bucket's CORS rules without credentials.
  http::Response cors_preflight(Ctx& c);
  // The CORS headers of an actual request that carries an Origin, when a rule allows it.
  void add_cors(Ctx& c, http::Response& res);

  Deps deps_;
  aws::ServiceInfo info_;
  aws::Guard* guard_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> policies_;  // bucket → policy document
  std::map<std::string, std::vector<NotificationConfig>, std::less<>> notifications_;
  Destinations destinations_;
  std::set<std::string, std::less<>> known_;
  ObjectCache cache_{32u << 20};
  std::map<std::string, std::vector<CorsRule>, std::less<>> cors_;  // bucket → its CORS rules
};

}  // namespace lambent::s3

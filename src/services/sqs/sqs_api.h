// The SQS API (2012-11-05) over the built-in queues, in both protocols clients speak:
// - the JSON protocol: POST / with X-Amz-Target: AmazonSQS.<Operation> and a JSON body (current
//   SDKs);
// - the query protocol: a form body with Action=<Operation> and XML answers (Debian's aws CLI and
//   boto3, botocore 1.29). It shares POST / with the CloudWatch query API: actions this API does
//   not know go to `fallback`. Requests may also be posted to a queue URL.
// Queue URLs are http://<Host>/<account>/<name>.
// Thread: operations run on the worker pool; ReceiveMessage long-polls on the I/O thread.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "http/router.h"
#include "queue/queue_service.h"

namespace lambent::api {

class SqsApi final {
 public:
  SqsApi(queue::QueueService& queues, boost::asio::thread_pool& pool, std::string default_host)
      : queues_(queues), pool_(pool), default_host_(std::move(default_host)) {}

  void add_routes(http::Router& router, http::Handler fallback);
  // Server shutdown: waiting long polls answer now (with what they have: nothing).
  void stop();

 private:
  boost::asio::awaitable<http::Response> handle(http::Request& req, bool json_protocol,
                                                std::string op, boost::json::object in);
  boost::json::object execute(const std::string& op, const boost::json::object& in,
                              const http::Request& req);
  boost::asio::awaitable<boost::json::object> receive(const boost::json::object& in,
                                                      const http::Request& req);
  // The queue a request names (QueueUrl, else the path it was posted to).
  std::string queue_name(const boost::json::object& in, const http::Request& req) const;
  std::string queue_url(const http::Request& req, const std::string& name) const;

  queue::QueueService& queues_;
  boost::asio::thread_pool& pool_;
  std::string default_host_;
  std::atomic<bool> stopping_{false};
};

}  // namespace lambent::api

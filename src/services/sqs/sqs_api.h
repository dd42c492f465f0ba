// The SQS API (2012-11-05) over the built-in queues, in both protocols clients speak:
// - the JSON protocol: POST / with X-Amz-Target: AmazonSQS.<Operation> and a JSON body (current
//   SDKs);
// - the query protocol: a form body with Action=<Operation> and XML answers (Debian's aws CLI and
//   boto3, botocore 1.29). It shares POST / with the other query services (aws/ finds the
//   service of a request); requests may also be posted to a queue URL.
// Queue URLs are http://<Host>/<account>/<name>.
// Thread: operations run on the worker pool; ReceiveMessage long-polls on the I/O thread.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>

#include "aws/service.h"
#include "http/router.h"
#include "queue/queue_service.h"

namespace lambent::sqs {

class SqsApi final {
 public:
  SqsApi(queue::QueueService& queues, boost::asio::thread_pool& pool, std::string default_host);

  // Registers the service on the shared endpoint, with the queue URLs' path.
  void add_to(aws::Endpoint& endpoint);
  // Authenticates and authorizes every operation (sqs:<Operation> on the queue's ARN) with
  // `guard`; `policies` then serves queue policies (the Policy attribute) to it.
  void protect(
      aws::Guard* guard,
      const std::function<void(std::function<std::optional<std::string>(std::string_view)>)>&
          policies);
  // Server shutdown: waiting long polls answer now (with what they have: nothing).
  void stop();
  static aws::ServiceInfo info();

 private:
  using Input = boost::json::object;
  using Output = boost::json::object;
  Output create_queue(const Input& in, const http::Request& req);
  Output get_queue_url(const Input& in, const http::Request& req);
  Output list_queues(const Input& in, const http::Request& req);
  Output delete_queue(const Input& in, const http::Request& req);
  Output get_queue_attributes(const Input& in, const http::Request& req);
  Output set_queue_attributes(const Input& in, const http::Request& req);
  Output send_message(const Input& in, const http::Request& req);
  Output send_message_batch(const Input& in, const http::Request& req);
  Output delete_message(const Input& in, const http::Request& req);
  Output delete_message_batch(const Input& in, const http::Request& req);
  Output change_message_visibility(const Input& in, const http::Request& req);
  Output change_message_visibility_batch(const Input& in, const http::Request& req);
  Output purge_queue(const Input& in, const http::Request& req);
  Output list_queue_tags(const Input& in, const http::Request& req);
  Output tag_queue(const Input& in, const http::Request& req);
  Output untag_queue(const Input& in, const http::Request& req);
  Output list_dead_letter_source_queues(const Input& in, const http::Request& req);
  Output add_permission(const Input& in, const http::Request& req);
  Output remove_permission(const Input& in, const http::Request& req);
  boost::asio::awaitable<Output> receive(const Input& in, const http::Request& req);
  // The queue a request names (QueueUrl, else the path it was posted to).
  std::string queue_name(const Input& in, const http::Request& req) const;
  std::string queue_url(const http::Request& req, const std::string& name) const;

  queue::QueueService& queues_;
  boost::asio::thread_pool& pool_;
  std::string default_host_;
  std::atomic<bool> stopping_{false};
  aws::RpcService service_;
};

}  // namespace lambent::sqs

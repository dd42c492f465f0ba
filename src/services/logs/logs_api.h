// The CloudWatch Logs API subset (2014-03-28, JSON 1.1, compat §6) over the function log store:
// `POST /` with `X-Amz-Target: Logs_20140328.<Operation>`. What `aws logs tail --follow`,
// `aws logs filter-log-events`/`get-log-events`/`describe-*` and the SDKs call.
// Thread: handlers run on the worker pool (they block on SQLite); the protocol layer (aws/)
// dispatches them.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "aws/service.h"
#include "base/node.h"
#include "telemetry/log_store.h"

namespace lambent::logs {

struct LogsApiDeps {
  telemetry::LogStore& logs;
  boost::asio::thread_pool& pool;
  NodeIdentity node;
};

class LogsApi final {
 public:
  explicit LogsApi(LogsApiDeps deps);
  aws::RpcService& service() { return service_; }
  // Every operation authenticated and authorized (logs:<Operation> on the log group, or its
  // stream for stream operations) by `guard`.
  void protect(aws::Guard* guard);
  static aws::ServiceInfo info();

 private:
  boost::json::object create_log_group(const boost::json::object& in);
  boost::json::object delete_log_group(const boost::json::object& in);
  boost::json::object describe_log_groups(const boost::json::object& in);
  boost::json::object create_log_stream(const boost::json::object& in);
  boost::json::object delete_log_stream(const boost::json::object& in);
  boost::json::object describe_log_streams(const boost::json::object& in);
  boost::json::object put_log_events(const boost::json::object& in);
  boost::json::object get_log_events(const boost::json::object& in);
  boost::json::object filter_log_events(const boost::json::object& in);
  boost::json::object put_retention_policy(const boost::json::object& in);
  boost::json::object delete_retention_policy(const boost::json::object& in);

  std::string group_arn(const std::string& name) const;
  void require_stream(const std::string& group, const std::string& stream);

  LogsApiDeps deps_;
  aws::RpcService service_;
};

}  // namespace lambent::logs

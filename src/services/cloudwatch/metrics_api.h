// Metrics out: the CloudWatch API subset the aws CLI and the SDKs use (2010-08-01: the query
// protocol, a form body with Action=… and XML answers, and JSON 1.0 with X-Amz-Target
// GraniteServiceVersion20100801.*, as the SDKs speak it since 2025) — ListMetrics,
// GetMetricStatistics, GetMetricData for the AWS/Lambda namespace — and the Prometheus text
// exposition at GET /metrics. Thread: handlers run on the worker pool.
#pragma once

#include <functional>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <map>
#include <string>

#include "aws/service.h"
#include "http/router.h"
#include "telemetry/metrics.h"

namespace lambent::cloudwatch {

class MetricsApi final {
 public:
  MetricsApi(telemetry::Metrics& metrics, boost::asio::thread_pool& pool);
  // GET /metrics. The CloudWatch operations are on the shared endpoint (service()).
  void add_routes(http::Router& router);
  aws::RpcService& service() { return service_; }
  static aws::ServiceInfo info();
  // More Prometheus text appended to /metrics (the edge's counters), rendered on the I/O thread.
  void add_extra(std::function<std::string()> extra) { extras_.push_back(std::move(extra)); }

 private:
  using Form = std::map<std::string, std::string>;
  boost::json::object list_metrics(const Form& in);
  boost::json::object get_metric_statistics(const Form& in);
  boost::json::object get_metric_data(const Form& in);

  telemetry::Metrics& metrics_;
  boost::asio::thread_pool& pool_;
  aws::RpcService service_;
  std::vector<std::function<std::string()>> extras_;
};

}  // namespace lambent::cloudwatch

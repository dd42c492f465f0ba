// Metrics out: the CloudWatch API subset the aws CLI uses (2010-08-01, query protocol: a form
// body with Action=…, XML answers) — ListMetrics, GetMetricStatistics, GetMetricData for the
// AWS/Lambda namespace — and the Prometheus text exposition at GET /metrics.
// Thread: handlers run on the worker pool.
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
  std::string list_metrics(const Form& in);
  std::string get_metric_statistics(const Form& in);
  std::string get_metric_data(const Form& in);

  telemetry::Metrics& metrics_;
  boost::asio::thread_pool& pool_;
  aws::RpcService service_;
  std::vector<std::function<std::string()>> extras_;
};

}  // namespace lambent::cloudwatch

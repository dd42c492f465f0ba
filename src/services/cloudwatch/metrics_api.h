// Metrics out: the CloudWatch API subset the aws CLI uses (2010-08-01, query protocol: a form
// body with Action=…, XML answers) — ListMetrics, GetMetricStatistics, GetMetricData for the
// AWS/Lambda namespace — and the Prometheus text exposition at GET /metrics.
// Thread: handlers run on the worker pool.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <map>
#include <string>

#include "http/router.h"
#include "telemetry/metrics.h"

namespace lambent::api {

class MetricsApi final {
 public:
  MetricsApi(telemetry::Metrics& metrics, boost::asio::thread_pool& pool)
      : metrics_(metrics), pool_(pool) {}
  // GET /metrics. The query protocol's POST / is shared with SQS, which hands CloudWatch's
  // actions to query_handler().
  void add_routes(http::Router& router);
  http::Handler query_handler();

 private:
  using Form = std::map<std::string, std::string>;
  http::Response dispatch(http::Request& req);
  std::string list_metrics(const Form& in);
  std::string get_metric_statistics(const Form& in);
  std::string get_metric_data(const Form& in);

  telemetry::Metrics& metrics_;
  boost::asio::thread_pool& pool_;
};

}  // namespace lambent::api

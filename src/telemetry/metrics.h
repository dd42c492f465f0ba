// The metrics Lambda reports (namespace AWS/Lambda, compat §3.5/§6): per function, per Resource
// (function:qualifier) and ExecutedVersion where AWS has the dimension, and account-wide, at
// one-minute resolution, kept 15 days in SQLite (<data>/metrics.db). Recording aggregates into the
// current minute in memory under one short lock; a flusher thread writes closed minutes. Also
// the cumulative counters and histograms of the Prometheus exposition at /metrics.
// Thread: any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace lambent::sqlite {
class Database;
}

namespace lambent::telemetry {

// One minute of one series: count, sum, min, max and a log-scale histogram for percentiles.
struct Aggregate {
  int64_t count = 0;
  double sum = 0, min = 0, max = 0;
  std::map<int, int64_t> buckets;  // bucket index -> count (Duration only)

  void add(double v, bool histogram);
  void merge(const Aggregate& o);
  // The p-th percentile (0-100) from the histogram, ~2.5 % relative error.
  double percentile(double p) const;
};

using Dimensions = std::vector<std::pair<std::string, std::string>>;  // sorted by name

struct Datapoint {
  int64_t minute_ms = 0;  // start of the minute, epoch ms
  Aggregate agg;
};

struct MetricId {
  std::string name;
  Dimensions dims;
  bool operator<(const MetricId& o) const {
    return std::tie(name, dims) < std::tie(o.name, o.dims);
  }
};

class Metrics final {
 public:
  static Result<std::unique_ptr<Metrics>> open(const std::string& path);
  ~Metrics();

  // The invoke path. `resource` is "<function>:<qualifier>" when the caller gave a qualifier.
  void invocation(const std::string& function, const std::string& resource,
                  const std::string& executed_version, double duration_ms, bool error);
  void throttle(const std::string& function, const std::string& resource);
  // Executions in flight after a change: the function's, the account's, the unreserved pool's.
  void concurrency(const std::string& function, int64_t function_inflight,
                   int64_t account_inflight, int64_t unreserved_inflight);
  void provisioned_utilization(const std::string& function, const std::string& resource,
                               int64_t busy, int64_t allocated);

  // A sample of a less frequent metric (AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped…),
  // account-wide and for the function.
  void count(const std::string& metric, const std::string& function, double value);

  // Queries (the CloudWatch API): every series seen, and one series' minutes in [start, end).
  Result<std::vector<MetricId>> list();
  Result<std::vector<Datapoint>> points(const MetricId& id, int64_t start_ms, int64_t end_ms);
  // Writes the closed minutes now (tests and shutdown).
  void flush();

  // Prometheus text exposition (counters since start, duration histograms, gauges).
  std::string prometheus() const;

 private:
  explicit Metrics(std::unique_ptr<sqlite::Database> db);
  void record(const std::string& name, const Dimensions& dims, double v, bool histogram,
              int64_t minute);
  void run();
  Result<void> write_closed(bool all);
  // Moves the hot path's accumulators into open_ (under mu_).
  void fold_locked();

  // The invoke path's accumulators for the current minute, keyed without building dimension
  // lists: one hash lookup per invocation; folded into open_ by minute, flush and queries.
  struct HotKey {
    std::string function, resource, version;
    bool operator==(const HotKey&) const = default;
  };
  struct HotKeyView {
    std::string_view function, resource, version;
  };
  struct HotHash {
    using is_transparent = void;
    size_t operator()(const HotKey& k) const { return (*this)(HotKeyView{k.function, k.resource, k.version}); }
    size_t operator()(const HotKeyView& k) const {
      std::hash<std::string_view> h;
      return h(k.function) ^ (h(k.resource) * 31) ^ (h(k.version) * 131);
    }
  };
  struct HotEq {
    using is_transparent = void;
    static HotKeyView v(const HotKey& k) { return {k.function, k.resource, k.version}; }
    static HotKeyView v(const HotKeyView& k) { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      auto x = v(a), y = v(b);
      return x.function == y.function && x.resource == y.resource && x.version == y.version;
    }
  };
  struct HotSeries {
    Aggregate invocations, errors, duration;
  };
  int64_t hot_minute_ = 0;
  std::unordered_map<HotKey, HotSeries, HotHash, HotEq> hot_;
  std::unordered_map<std::string, int64_t> hot_concurrency_;  // function -> max in flight
  int64_t hot_account_concurrency_ = -1, hot_unreserved_ = -1;

  std::unique_ptr<sqlite::Database> db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::pair<MetricId, int64_t>, Aggregate> open_;  // (series, minute) not yet written
  std::mutex db_mu_;
  // Prometheus: cumulative per function.
  struct Cumulative {
    uint64_t invocations = 0, errors = 0, throttles = 0;
    double duration_sum_s = 0;
    std::vector<uint64_t> duration_buckets;  // per kPromBuckets, cumulative at render
    int64_t concurrent = 0;
  };
  std::map<std::string, Cumulative> totals_;
  // The count() metrics since start, for /metrics: metric → function → (sum, samples).
  std::map<std::string, std::map<std::string, std::pair<double, uint64_t>>> sampled_;
  int64_t account_concurrent_ = 0;
  int64_t unreserved_concurrent_ = 0;
  // The latest provisioned samples, for /metrics: "function\nresource" → (busy, allocated).
  std::map<std::string, std::pair<int64_t, int64_t>> provisioned_now_;
  std::thread flusher_;
};

}  // namespace lambent::telemetry

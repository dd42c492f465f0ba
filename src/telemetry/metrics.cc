#include "telemetry/metrics.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/log.h"
#include "base/time.h"
#include "sqlite/sqlite.h"

namespace lambent::telemetry {
namespace json = boost::json;
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kKeepMs = 15LL * 24 * 3600 * 1000;
constexpr double kBucketBase = 1.05;  // histogram buckets grow 5 % each
const double kLogBase = std::log(kBucketBase);
const double kPromBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                               0.5,   1,      2.5,   5,    10,    30,   60,  300, 900};
constexpr size_t kPromBucketCount = std::size(kPromBuckets);

int64_t minute_of(int64_t ms) { return ms - ms % kMinuteMs; }

int bucket_of(double v) {
  if (v <= 0.001) return INT32_MIN / 2;
  return static_cast<int>(std::floor(std::log(v) / kLogBase));
}

std::string dims_text(const Dimensions& d) {
  json::array a;
  for (const auto& [k, v] : d) a.push_back(json::array{json::string(k), json::string(v)});
  return json::serialize(a);
}

// The stored JSON, or null when it does not parse.
json::value parse_stored(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

Dimensions dims_from(std::string_view text) {
  Dimensions d;
  json::value v = parse_stored(text);
  if (!v.is_array()) return d;
  for (const auto& p : v.as_array()) {
    if (p.is_array() && p.as_array().size() == 2 && p.as_array()[0].is_string() &&
        p.as_array()[1].is_string()) {
      d.emplace_back(p.as_array()[0].as_string(), p.as_array()[1].as_string());
    }
  }
  return d;
}

std::string agg_text(const Aggregate& a) {
  json::object o{{"n", a.count}, {"s", a.sum}, {"lo", a.min}, {"hi", a.max}};
  if (!a.buckets.empty()) {
    json::array b;
    for (const auto& [k, n] : a.buckets) b.push_back(json::array{k, n});
    o["b"] = std::move(b);
  }
  return json::serialize(o);
}

Aggregate agg_from(std::string_view text) {
  Aggregate a;
  json::value v = parse_stored(text);
  if (!v.is_object()) return a;
  const auto& o = v.as_object();
  auto num = [&](const char* k) {
    auto* p = o.if_contains(k);
    return p && p->is_number() ? p->to_number<double>() : 0.0;
  };
  a.count = static_cast<int64_t>(num("n"));
  a.sum = num("s");
  a.min = num("lo");
  a.max = num("hi");
  if (auto* b = o.if_contains("b"); b && b->is_array()) {
    for (const auto& e : b->as_array()) {
      if (e.is_array() && e.as_array().size() == 2) {
        a.buckets[static_cast<int>(e.as_array()[0].to_number<int64_t>())] +=
            e.as_array()[1].to_number<int64_t>();
      }
    }
  }
  return a;
}

std::string prom_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Aggregate::add(double v, bool histogram) {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  ++count;
  sum += v;
  if (histogram) ++buckets[bucket_of(v)];
}

void Aggregate::merge(const Aggregate& o) {
  if (o.count == 0) return;
  if (count == 0) {
    min = o.min;
    max = o.max;
  } else {
    min = std::min(min, o.min);
    max = std::max(max, o.max);
  }
  count += o.count;
  sum += o.sum;
  for (const auto& [k, n] : o.buckets) buckets[k] += n;
}

double Aggregate::percentile(double p) const {
  int64_t total = 0;
  for (const auto& [k, n] : buckets) total += n;
  if (total == 0) return 0;
  double rank = p / 100.0 * static_cast<double>(total);
  int64_t seen = 0;
  for (const auto& [k, n] : buckets) {
    seen += n;
    if (static_cast<double>(seen) >= rank) {
      if (k <= INT32_MIN / 2) return min;
      // The geometric middle of the bucket, clamped to what was seen.
      double v = std::pow(kBucketBase, k + 0.5);
      return std::clamp(v, min, max);
    }
  }
  return max;
}

Result<std::unique_ptr<Metrics>> Metrics::open(const std::string& path) {
  LAMBENT_TRY(db, sqlite::Database::open(path));
  LAMBENT_TRY_VOID(db->exec("PRAGMA synchronous=NORMAL"));
  LAMBENT_TRY_VOID(db->exec(R"sql(
    CREATE TABLE IF NOT EXISTS points (
      metric TEXT NOT NULL, dims TEXT NOT NULL, minute_ms INTEGER NOT NULL, agg TEXT NOT NULL,
      PRIMARY KEY (metric, dims, minute_ms)) WITHOUT ROWID;
  )sql"));
  return std::unique_ptr<Metrics>(new Metrics(std::move(db)));
}

Metrics::Metrics(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {
  flusher_ = std::thread([this] { run(); });
}

Metrics::~Metrics() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  flusher_.join();
  (void)write_closed(true);
}

void Metrics::record(const std::string& name, const Dimensions& dims, double v, bool histogram,
                     int64_t minute) {
  open_[{MetricId{name, dims}, minute}].add(v, histogram);
}

void Metrics::fold_locked() {
  if (hot_minute_ == 0) return;
  const int64_t minute = hot_minute_;
  for (const auto& [k, series] : hot_) {
    std::vector<Dimensions> sets = {{}, {{"FunctionName", k.function}}};
    if (!k.resource.empty()) {
      sets.push_back({{"FunctionName", k.function}, {"Resource", k.resource}});
      sets.push_back({{"ExecutedVersion", k.version}, {"FunctionName", k.function}});
    }
    for (const auto& d : sets) {
      open_[{MetricId{"Invocations", d}, minute}].merge(series.invocations);
      open_[{MetricId{"Errors", d}, minute}].merge(series.errors);
      open_[{MetricId{"Duration", d}, minute}].merge(series.duration);
    }
  }
  hot_.clear();
  for (const auto& [fn, n] : hot_concurrency_) {
    record("ConcurrentExecutions", {{"FunctionName", fn}}, static_cast<double>(n), false, minute);
  }
  hot_concurrency_.clear();
  if (hot_account_concurrency_ >= 0) {
    record("ConcurrentExecutions", {}, static_cast<double>(hot_account_concurrency_), false, minute);
    record("UnreservedConcurrentExecutions", {}, static_cast<double>(hot_unreserved_), false,
           minute);
  }
  hot_account_concurrency_ = hot_unreserved_ = -1;
  hot_minute_ = 0;
}

void Metrics::invocation(const std::string& function, const std::string& resource,
                         const std::string& executed_version, double duration_ms, bool error) {
  int64_t minute = minute_of(now_ms());
  std::lock_guard lock(mu_);
  if (minute != hot_minute_) {
    fold_locked();
    hot_minute_ = minute;
  }
  HotKeyView view{function, resource, resource.empty() ? std::string_view() : executed_version};
  auto it = hot_.find(view);
  if (it == hot_.end()) {
    it = hot_.emplace(HotKey{function, resource, std::string(view.version)}, HotSeries{}).first;
  }
  it->second.invocations.add(1, false);
  it->second.errors.add(error ? 1 : 0, false);
  it->second.duration.add(duration_ms, true);
  auto t = totals_.find(function);
  if (t == totals_.end()) t = totals_.emplace(function, Cumulative{}).first;
  Cumulative& c = t->second;
  ++c.invocations;
  if (error) ++c.errors;
  c.duration_sum_s += duration_ms / 1000;
  if (c.duration_buckets.empty()) c.duration_buckets.assign(kPromBucketCount, 0);
  for (size_t i = 0; i < kPromBucketCount; ++i) {
    if (duration_ms / 1000 <= kPromBuckets[i]) {
      ++c.duration_buckets[i];
      break;
    }
  }
}

void Metrics::count(const std::string& metric, const std::string& function, double value) {
  int64_t minute = minute_of(now_ms());
  std::lock_guard lock(mu_);
  record(metric, {}, value, false, minute);
  record(metric, {{"FunctionName", function}}, value, false, minute);
  auto& t = sampled_[metric][function];
  t.first += value;
  t.second += 1;
}

void Metrics::throttle(const std::string& function, const std::string& resource) {
  int64_t minute = minute_of(now_ms());
  std::lock_guard lock(mu_);
  record("Throttles", {}, 1, false, minute);
  record("Throttles", {{"FunctionName", function}}, 1, false, minute);
  if (!resource.empty()) {
    record("Throttles", {{"FunctionName", function}, {"Resource", resource}}, 1, false, minute);
  }
  ++totals_[function].throttles;
}

void Metrics::concurrency(const std::string& function, int64_t function_inflight,
                          int64_t account_inflight, int64_t unreserved_inflight) {
  int64_t minute = minute_of(now_ms());
  std::lock_guard lock(mu_);
  if (minute != hot_minute_) {
    fold_locked();
    hot_minute_ = minute;
  }
  // Per minute, the maximum (what ConcurrentExecutions reports).
  auto it = hot_concurrency_.find(function);
  if (it == hot_concurrency_.end()) {
    hot_concurrency_.emplace(function, function_inflight);
  } else {
    it->second = std::max(it->second, function_inflight);
  }
  hot_account_concurrency_ = std::max(hot_account_concurrency_, account_inflight);
  hot_unreserved_ = std::max(hot_unreserved_, unreserved_inflight);
  auto t = totals_.find(function);
  if (t == totals_.end()) t = totals_.emplace(function, Cumulative{}).first;
  t->second.concurrent = function_inflight;
  account_concurrent_ = account_inflight;
  unreserved_concurrent_ = unreserved_inflight;
}

void Metrics::provisioned_utilization(const std::string& function, const std::string& resource,
                                      int64_t busy, int64_t allocated) {
  if (allocated <= 0) return;
  int64_t minute = minute_of(now_ms());
  std::lock_guard lock(mu_);
  Dimensions fn{{"FunctionName", function}};
  Dimensions res{{"FunctionName", function}, {"Resource", resource}};
  record("ProvisionedConcurrentExecutions", fn, static_cast<double>(busy), false, minute);
  record("ProvisionedConcurrentExecutions", res, static_cast<double>(busy), false, minute);
  record("ProvisionedConcurrencyUtilization", res,
         static_cast<double>(busy) / static_cast<double>(allocated), false, minute);
  provisioned_now_[function + "\n" + resource] = {busy, allocated};
}

Result<void> Metrics::write_closed(bool all) {
  std::map<std::pair<MetricId, int64_t>, Aggregate> closed;
  {
    std::lock_guard lock(mu_);
    int64_t current = minute_of(now_ms());
    if (all || hot_minute_ < current) fold_locked();
    for (auto it = open_.begin(); it != open_.end();) {
      if (all || it->first.second < current) {
        closed.insert(std::move(*it));
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (closed.empty()) return {};
  std::lock_guard db_lock(db_mu_);
  LAMBENT_TRY(tx, sqlite::Transaction::begin(*db_));
  for (const auto& [key, agg] : closed) {
    // A minute may be written twice (flush, then more in the same minute): merge.
    Aggregate merged = agg;
    std::string dims = dims_text(key.first.dims);
    {
      LAMBENT_TRY(st, db_->prepare("SELECT agg FROM points WHERE metric = ?1 AND dims = ?2 AND "
                                   "minute_ms = ?3"));
      st->bind(1, key.first.name).bind(2, dims).bind(3, key.second);
      LAMBENT_TRY(row, st->step());
      if (row) merged.merge(agg_from(st->text(0)));
      st->reset();
    }
    LAMBENT_TRY(st, db_->prepare("INSERT OR REPLACE INTO points VALUES (?1, ?2, ?3, ?4)"));
    LAMBENT_TRY_VOID(st->bind(1, key.first.name).bind(2, dims).bind(3, key.second)
                         .bind(4, agg_text(merged)).run());
  }
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM points WHERE minute_ms < ?1"));
    LAMBENT_TRY_VOID(st->bind(1, now_ms() - kKeepMs).run());
  }
  return tx.commit();
}

void Metrics::flush() {
  if (auto r = write_closed(true); !r) log::error("metrics: {}", r.error().message);
}

void Metrics::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(5));
    if (stopping_) break;
    lock.unlock();
    if (auto r = write_closed(false); !r) log::error("metrics: {}", r.error().message);
    lock.lock();
  }
}

Result<std::vector<MetricId>> Metrics::list() {
  std::map<MetricId, bool> seen;
  {
    std::lock_guard lock(mu_);
    fold_locked();
    for (const auto& [key, agg] : open_) seen[key.first] = true;
  }
  std::lock_guard db_lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT DISTINCT metric, dims FROM points"));
  LAMBENT_TRY_VOID(st->each([&] {
    seen[MetricId{st->text(0), dims_from(st->text(1))}] = true;
  }));
  std::vector<MetricId> out;
  for (const auto& [id, _] : seen) out.push_back(id);
  return out;
}

Result<std::vector<Datapoint>> Metrics::points(const MetricId& id, int64_t start_ms,
                                               int64_t end_ms) {
  std::map<int64_t, Aggregate> by_minute;
  {
    std::lock_guard lock(mu_);
    fold_locked();
    for (const auto& [key, agg] : open_) {
      if (key.first.name == id.name && key.first.dims == id.dims && key.second >= start_ms &&
          key.second < end_ms) {
        by_minute[key.second].merge(agg);
      }
    }
  }
  std::lock_guard db_lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT minute_ms, agg FROM points WHERE metric = ?1 AND dims = ?2 "
                               "AND minute_ms >= ?3 AND minute_ms < ?4 ORDER BY minute_ms"));
  st->bind(1, id.name).bind(2, dims_text(id.dims)).bind(3, start_ms).bind(4, end_ms);
  LAMBENT_TRY_VOID(st->each([&] {
    by_minute[st->integer(0)].merge(agg_from(st->text(1)));
  }));
  std::vector<Datapoint> out;
  for (auto& [m, agg] : by_minute) out.push_back({m, std::move(agg)});
  return out;
}

std::string Metrics::prometheus() const {
  std::string out;
  std::lock_guard lock(mu_);
  auto counter = [&](const char* name, const char* help, auto get) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const auto& [fn, c] : totals_) {
      out += fmt::format("{}{{function=\"{}\"}} {}\n", name, prom_escape(fn), get(c));
    }
  };
  counter("lambent_invocations_total", "Invocations that ran (any outcome).",
          [](const Cumulative& c) { return c.invocations; });
  counter("lambent_errors_total", "Invocations that ended in a function error or timeout.",
          [](const Cumulative& c) { return c.errors; });
  counter("lambent_throttles_total", "Invocations refused for concurrency (429).",
          [](const Cumulative& c) { return c.throttles; });
  out += "# HELP lambent_duration_seconds Invocation duration.\n"
         "# TYPE lambent_duration_seconds histogram\n";
  for (const auto& [fn, c] : totals_) {
    uint64_t cumulative = 0;
    std::string label = prom_escape(fn);
    for (size_t i = 0; i < kPromBucketCount; ++i) {
      cumulative += c.duration_buckets.empty() ? 0 : c.duration_buckets[i];
      out += fmt::format("lambent_duration_seconds_bucket{{function=\"{}\",le=\"{}\"}} {}\n", label,
                         kPromBuckets[i], cumulative);
    }
    out += fmt::format("lambent_duration_seconds_bucket{{function=\"{}\",le=\"+Inf\"}} {}\n", label,
                       c.invocations);
    out += fmt::format("lambent_duration_seconds_sum{{function=\"{}\"}} {}\n", label,
                       c.duration_sum_s);
    out += fmt::format("lambent_duration_seconds_count{{function=\"{}\"}} {}\n", label,
                       c.invocations);
  }
  out += "# HELP lambent_concurrent_executions Executions in flight.\n"
         "# TYPE lambent_concurrent_executions gauge\n";
  for (const auto& [fn, c] : totals_) {
    out += fmt::format("lambent_concurrent_executions{{function=\"{}\"}} {}\n", prom_escape(fn),
                       c.concurrent);
  }
  out += fmt::format("lambent_account_concurrent_executions {}\n", account_concurrent_);
  out += fmt::format("# HELP lambent_unreserved_concurrent_executions Executions in flight of "
                     "functions without reserved concurrency.\n# TYPE "
                     "lambent_unreserved_concurrent_executions gauge\n"
                     "lambent_unreserved_concurrent_executions {}\n",
                     unreserved_concurrent_);
  if (!provisioned_now_.empty()) {
    std::string busy, utilization;
    for (const auto& [key, v] : provisioned_now_) {
      auto nl = key.find('\n');
      std::string labels = fmt::format("{{function=\"{}\",resource=\"{}\"}}",
                                       prom_escape(key.substr(0, nl)), prom_escape(key.substr(nl + 1)));
      busy += fmt::format("lambent_provisioned_concurrent_executions{} {}\n", labels, v.first);
      utilization += fmt::format("lambent_provisioned_concurrency_utilization{} {}\n", labels,
                                 static_cast<double>(v.first) / static_cast<double>(v.second));
    }
    out += "# HELP lambent_provisioned_concurrent_executions Provisioned environments busy.\n"
           "# TYPE lambent_provisioned_concurrent_executions gauge\n" + busy;
    out += "# HELP lambent_provisioned_concurrency_utilization Busy share of the provisioned "
           "environments.\n# TYPE lambent_provisioned_concurrency_utilization gauge\n" + utilization;
  }
  // Asynchronous invocation: counters (AsyncEventsReceived → lambent_async_events_received_total,
  // DeadLetterErrors, DestinationDeliveryFailures, AsyncEventsDropped) and the event age as a
  // summary in milliseconds.
  for (const auto& [metric, by_function] : sampled_) {
    std::string snake;
    for (char ch : metric) {
      if (std::isupper(static_cast<unsigned char>(ch)) && !snake.empty()) snake += '_';
      snake += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    if (metric == "AsyncEventAge") {
      std::string name = "lambent_" + snake + "_milliseconds";
      out += fmt::format("# HELP {} Age of asynchronous events when they were taken to run.\n"
                         "# TYPE {} summary\n", name, name);
      for (const auto& [fn, t] : by_function) {
        out += fmt::format("{}_sum{{function=\"{}\"}} {}\n", name, prom_escape(fn), t.first);
        out += fmt::format("{}_count{{function=\"{}\"}} {}\n", name, prom_escape(fn), t.second);
      }
      continue;
    }
    std::string name = "lambent_" + snake + "_total";
    out += fmt::format("# HELP {} {} (CloudWatch metric {}).\n# TYPE {} counter\n", name, metric,
                       metric, name);
    for (const auto& [fn, t] : by_function) {
      out += fmt::format("{}{{function=\"{}\"}} {}\n", name, prom_escape(fn), t.first);
    }
  }
  // The server's own process.
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  out += fmt::format("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n", cpu);
  long rss_pages = 0;
  std::ifstream statm("/proc/self/statm");
  long size_pages = 0;
  statm >> size_pages >> rss_pages;
  out += fmt::format("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n",
                     rss_pages * ::sysconf(_SC_PAGESIZE));
  size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  out += fmt::format("# TYPE process_open_fds gauge\nprocess_open_fds {}\n", fds);
  return out;
}

}  // namespace lambent::telemetry

#include "services/cloudwatch/metrics_api.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/url.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <set>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "base/offload.h"

namespace lambent::cloudwatch {
namespace json = boost::json;
namespace {

constexpr const char* kXmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/";
constexpr const char* kNamespace = "AWS/Lambda";

std::string iso(int64_t ms) { return format_iso8601_seconds(ms); }

// The query code and, for JSON requests, the error shape it belongs to (awsQueryCompatible).
[[noreturn]] void bad(const std::string& code, const std::string& message) {
  aws::ServiceError e(
      400, code == "MissingParameter" ? "MissingRequiredParameterException" : code + "Exception",
      message);
  e.query_code = code;
  throw e;
}

// Timestamps travel as epoch seconds in the results (what JSON 1.0 carries); the query writer
// prints them as ISO 8601.
double epoch_seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// The query protocol's XML of a result: lists as <member> elements, ExtendedStatistics as
// <entry><key/><value/></entry>, timestamps (Timestamp, Timestamps) as ISO 8601.
void write_xml(std::string& out, std::string_view name, const json::value& v, bool timestamp) {
  if (v.is_array()) {
    out += fmt::format("<{}>", name);
    for (const auto& e : v.as_array()) write_xml(out, "member", e, timestamp);
    out += fmt::format("</{}>", name);
  } else if (v.is_object()) {
    out += fmt::format("<{}>", name);
    for (const auto& [k, e] : v.as_object()) {
      if (name == "ExtendedStatistics") {
        out += fmt::format("<entry><key>{}</key><value>", xml_escape(k));
        out += e.is_double() ? fmt::format("{}", e.as_double()) : json::serialize(e);
        out += "</value></entry>";
      } else {
        write_xml(out, k, e, k == "Timestamp" || k == "Timestamps");
      }
    }
    out += fmt::format("</{}>", name);
  } else if (timestamp) {
    out += fmt::format("<{0}>{1}</{0}>", name,
                       iso(static_cast<int64_t>(std::llround(v.to_number<double>() * 1000))));
  } else if (v.is_string()) {
    out += fmt::format("<{0}>{1}</{0}>", name, xml_escape(v.as_string()));
  } else if (v.is_double()) {
    out += fmt::format("<{0}>{1}</{0}>", name, v.as_double());
  } else {
    out += fmt::format("<{0}>{1}</{0}>", name, json::serialize(v));
  }
}

// A JSON request's input as the query form's flat names (Dimensions.member.1.Name, ...): one
// reader for both protocols.
void flatten(const json::value& v, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& [k, e] : v.as_object()) {
      flatten(e, prefix.empty() ? std::string(k) : prefix + "." + std::string(k), out);
    }
  } else if (v.is_array()) {
    size_t i = 0;
    for (const auto& e : v.as_array()) flatten(e, prefix + ".member." + std::to_string(++i), out);
  } else if (v.is_string()) {
    out[prefix] = std::string(v.as_string());
  } else if (v.is_double()) {
    out[prefix] = fmt::format("{}", v.as_double());
  } else if (!v.is_null()) {
    out[prefix] = json::serialize(v);
  }
}

// ISO 8601 (what botocore sends: 2026-11-26T21:00:00Z, with optional fraction and offset) or
// epoch seconds.
int64_t parse_time(const std::string& s, const char* field) {
  if (!s.empty() && s.find_first_not_of("0123456789.") == std::string::npos) {
    char* end = nullptr;
    double secs = std::strtod(s.c_str(), &end);
    if (!end || *end != '\0') {
      bad("InvalidParameterValue", fmt::format("The parameter {} is not a valid time.", field));
    }
    return static_cast<int64_t>(secs * 1000);
  }
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0;
  double sec = 0;
  char rest[16] = {0};
  int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%lf%15s", &y, &mo, &d, &h, &mi, &sec, rest);
  if (n < 3) bad("InvalidParameterValue", fmt::format("The parameter {} is not a valid time.", field));
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000 + static_cast<int64_t>(sec * 1000);
  std::string tz = rest;
  if (!tz.empty() && tz != "Z" && (tz[0] == '+' || tz[0] == '-')) {
    int oh = 0, om = 0;
    std::sscanf(tz.c_str() + 1, "%d:%d", &oh, &om);
    int64_t off = (oh * 60 + om) * 60'000LL;
    ms += tz[0] == '+' ? -off : off;
  }
  return ms;
}

std::string required(const std::map<std::string, std::string>& in, const std::string& key) {
  auto it = in.find(key);
  if (it == in.end() || it->second.empty()) {
    bad("MissingParameter", "The parameter " + key + " is required.");
  }
  return it->second;
}

int64_t parse_period(const std::string& text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n < 60 || n % 60 != 0) {
    bad("InvalidParameterValue", "The parameter Period must be a multiple of 60.");
  }
  return n;
}

telemetry::Dimensions dimensions(const std::map<std::string, std::string>& in,
                                 const std::string& prefix) {
  telemetry::Dimensions d;
  for (int i = 1;; ++i) {
    auto name = in.find(fmt::format("{}Dimensions.member.{}.Name", prefix, i));
    if (name == in.end()) break;
    auto value = in.find(fmt::format("{}Dimensions.member.{}.Value", prefix, i));
    d.emplace_back(name->second, value == in.end() ? "" : value->second);
  }
  std::sort(d.begin(), d.end());
  return d;
}

const char* unit_of(const std::string& metric) {
  if (metric == "Duration" || metric == "IteratorAge" || metric == "AsyncEventAge") {
    return "Milliseconds";
  }
  if (metric == "ProvisionedConcurrencyUtilization") return "None";
  return "Count";
}

// One statistic of an aggregate: Sum, Average, Minimum, Maximum, SampleCount or pNN(.N).
std::optional<double> statistic(const telemetry::Aggregate& a, const std::string& stat) {
  if (a.count == 0) return std::nullopt;
  if (stat == "Sum") return a.sum;
  if (stat == "Average") return a.sum / static_cast<double>(a.count);
  if (stat == "Minimum") return a.min;
  if (stat == "Maximum") return a.max;
  if (stat == "SampleCount") return static_cast<double>(a.count);
  if (stat.size() > 1 && stat[0] == 'p') {
    double p = std::stod(stat.substr(1));
    if (a.buckets.empty()) return a.max;
    return a.percentile(p);
  }
  return std::nullopt;
}

bool valid_stat(const std::string& s) {
  static const std::set<std::string> kStats = {"Sum", "Average", "Minimum", "Maximum",
                                               "SampleCount"};
  if (kStats.count(s)) return true;
  if (s.size() < 2 || s[0] != 'p') return false;
  char* end = nullptr;
  double p = std::strtod(s.c_str() + 1, &end);
  return end && *end == '\0' && p >= 0 && p <= 100;
}

// Minutes grouped into periods counted from `start`: period start -> aggregate.
std::map<int64_t, telemetry::Aggregate> by_period(const std::vector<telemetry::Datapoint>& pts,
                                                  int64_t start, int64_t period_ms) {
  std::map<int64_t, telemetry::Aggregate> out;
  for (const auto& p : pts) {
    int64_t bucket = start + (p.minute_ms - start) / period_ms * period_ms;
    out[bucket].merge(p.agg);
  }
  return out;
}

}  // namespace

aws::ServiceInfo MetricsApi::info() {
  // Query (the aws CLI, boto3) and JSON 1.0 (the AWS SDKs since 2025, awsQueryCompatible).
  return {.name = "monitoring",
          .protocol = aws::Protocol::kQuery,
          .target_prefix = "GraniteServiceVersion20100801.",
          .json_version = "1.0",
          .type_prefix = "com.amazonaws.cloudwatch#",
          .xmlns = kXmlns,
          .query_writer =
              [](std::string& out, std::string_view, const json::object& result) {
                for (const auto& [k, v] : result) {
                  write_xml(out, k, v, k == "Timestamp" || k == "Timestamps");
                }
              },
          .iam_prefix = "cloudwatch"};
}

MetricsApi::MetricsApi(telemetry::Metrics& metrics, boost::asio::thread_pool& pool)
    : metrics_(metrics), pool_(pool), service_(info(), pool) {
  using Handler = json::object (MetricsApi::*)(const Form&);
  static const std::pair<const char*, Handler> kOps[] = {
      {"ListMetrics", &MetricsApi::list_metrics},
      {"GetMetricStatistics", &MetricsApi::get_metric_statistics},
      {"GetMetricData", &MetricsApi::get_metric_data},
  };
  for (const auto& [name, handler] : kOps) {
    service_.add(name, [this, handler = handler](aws::Call& c) {
      // The flat form: this service reads its members by their query names.
      Form in;
      if (c.protocol == aws::Protocol::kJson) {
        flatten(c.input, "", in);
      } else {
        in = Form(c.params.begin(), c.params.end());
      }
      return aws::Output((this->*handler)(in));
    });
  }
}

void MetricsApi::add_routes(http::Router& router) {
  http::Route p;
  p.name = "PrometheusMetrics";
  p.method = "GET";
  p.pattern = "/metrics";
  p.body_limit = 0;
  p.handler = [this](http::Request&) -> boost::asio::awaitable<http::Response> {
    std::string extra;
    for (const auto& f : extras_) extra += f();
    // Reads /proc and takes the metrics lock: on the pool, not the I/O thread.
    auto render = [this, extra = std::move(extra)] {
      http::Response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics_.prometheus() + extra;
      return r;
    };
    co_return co_await offload(pool_, std::move(render));
  };
  router.add(std::move(p));
}

json::object MetricsApi::list_metrics(const Form& in) {
  auto ns = in.find("Namespace");
  auto name = in.find("MetricName");
  telemetry::Dimensions filter = dimensions(in, "");
  auto all = metrics_.list();
  if (!all) throw std::runtime_error(all.error().message);
  json::array members;
  if (ns == in.end() || ns->second == kNamespace) {
    for (const auto& id : *all) {
      if (name != in.end() && id.name != name->second) continue;
      bool ok = true;
      for (const auto& [k, v] : filter) {
        bool found = false;
        for (const auto& [dk, dv] : id.dims) found = found || (dk == k && (v.empty() || dv == v));
        ok = ok && found;
      }
      if (!ok) continue;
      json::array dims;
      for (const auto& [k, v] : id.dims) dims.push_back(json::object{{"Name", k}, {"Value", v}});
      members.push_back(json::object{
          {"Namespace", kNamespace}, {"MetricName", id.name}, {"Dimensions", std::move(dims)}});
    }
  }
  return {{"Metrics", std::move(members)}};
}

json::object MetricsApi::get_metric_statistics(const Form& in) {
  std::string ns = required(in, "Namespace");
  std::string name = required(in, "MetricName");
  int64_t start = parse_time(required(in, "StartTime"), "StartTime");
  int64_t end = parse_time(required(in, "EndTime"), "EndTime");
  int64_t period = parse_period(required(in, "Period"));
  if (end <= start) bad("InvalidParameterValue", "The parameter StartTime must be before EndTime.");
  std::vector<std::string> stats, extended;
  for (int i = 1;; ++i) {
    auto s = in.find(fmt::format("Statistics.member.{}", i));
    if (s == in.end()) break;
    if (!valid_stat(s->second) || s->second[0] == 'p') {
      bad("InvalidParameterValue", "The parameter Statistics contains an invalid value: " + s->second);
    }
    stats.push_back(s->second);
  }
  for (int i = 1;; ++i) {
    auto s = in.find(fmt::format("ExtendedStatistics.member.{}", i));
    if (s == in.end()) break;
    if (!valid_stat(s->second) || s->second[0] != 'p') {
      bad("InvalidParameterValue", "The parameter ExtendedStatistics contains an invalid value: " +
                                       s->second);
    }
    extended.push_back(s->second);
  }
  if (stats.empty() && extended.empty()) {
    bad("MissingParameter", "The parameter Statistics or ExtendedStatistics is required.");
  }
  json::array points;
  if (ns == kNamespace) {
    // Minutes are aligned to the minute: widen the window to whole minutes.
    int64_t from = start - ((start % 60'000) + 60'000) % 60'000;
    auto pts = metrics_.points({name, dimensions(in, "")}, from, end);
    if (!pts) throw std::runtime_error(pts.error().message);
    for (const auto& [ts, agg] : by_period(*pts, from, period * 1000)) {
      json::object p{{"Timestamp", epoch_seconds(ts)}};
      for (const auto& s : stats) {
        if (auto v = statistic(agg, s)) p[s] = *v;
      }
      if (!extended.empty()) {
        json::object ext;
        for (const auto& s : extended) {
          if (auto v = statistic(agg, s)) ext[s] = *v;
        }
        p["ExtendedStatistics"] = std::move(ext);
      }
      p["Unit"] = unit_of(name);
      points.push_back(std::move(p));
    }
  }
  return {{"Label", name}, {"Datapoints", std::move(points)}};
}

json::object MetricsApi::get_metric_data(const Form& in) {
  int64_t start = parse_time(required(in, "StartTime"), "StartTime");
  int64_t end = parse_time(required(in, "EndTime"), "EndTime");
  bool ascending = in.count("ScanBy") && in.at("ScanBy") == "TimestampAscending";
  json::array results;
  for (int i = 1;; ++i) {
    std::string q = fmt::format("MetricDataQueries.member.{}.", i);
    auto id = in.find(q + "Id");
    if (id == in.end()) {
      if (i == 1) bad("MissingParameter", "The parameter MetricDataQueries is required.");
      break;
    }
    if (in.count(q + "Expression")) {
      bad("InvalidParameterValue", "Metric math expressions are not supported by Lambent.");
    }
    if (in.count(q + "ReturnData") && in.at(q + "ReturnData") == "false") continue;
    std::string ns = required(in, q + "MetricStat.Metric.Namespace");
    std::string name = required(in, q + "MetricStat.Metric.MetricName");
    int64_t period = parse_period(required(in, q + "MetricStat.Period"));
    std::string stat = required(in, q + "MetricStat.Stat");
    if (!valid_stat(stat)) bad("InvalidParameterValue", "Invalid statistic: " + stat);
    std::vector<std::pair<int64_t, double>> series;
    if (ns == kNamespace) {
      int64_t from = start - ((start % 60'000) + 60'000) % 60'000;
      auto pts = metrics_.points({name, dimensions(in, q + "MetricStat.Metric.")}, from, end);
      if (!pts) throw std::runtime_error(pts.error().message);
      for (const auto& [ts, agg] : by_period(*pts, from, period * 1000)) {
        if (auto v = statistic(agg, stat)) series.emplace_back(ts, *v);
      }
    }
    if (!ascending) std::reverse(series.begin(), series.end());
    json::array ts, values;
    for (const auto& [t, v] : series) {
      ts.push_back(epoch_seconds(t));
      values.push_back(v);
    }
    auto label = in.find(q + "Label");
    results.push_back(json::object{{"Id", id->second},
                                   {"Label", label != in.end() ? label->second : name},
                                   {"Timestamps", std::move(ts)},
                                   {"Values", std::move(values)},
                                   {"StatusCode", "Complete"}});
  }
  return {{"MetricDataResults", std::move(results)}, {"Messages", json::array()}};
}

}  // namespace lambent::cloudwatch

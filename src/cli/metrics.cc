// `lambent metrics F [--since 1h]`: invocations, errors, throttles and duration per minute as a
// compact table, with a small chart of invocations (GetMetricData, AWS/Lambda).
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <map>

#include "base/time.h"
#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace json = boost::json;
namespace {

// Every text between <tag> and </tag> in `xml`, in order.
std::vector<std::string> all_of(std::string_view xml, const std::string& tag) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (size_t p = 0; (p = xml.find(open, p)) != std::string_view::npos;) {
    size_t start = p + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.emplace_back(xml.substr(start, end - start));
    p = end + close.size();
  }
  return out;
}

std::string iso(int64_t ms) { return format_iso8601_seconds(ms); }

std::string sparkline(const std::vector<double>& v) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double hi = 0;
  for (double x : v) hi = std::max(hi, x);
  std::string out;
  for (double x : v) {
    out += x <= 0 ? " " : kBars[std::min(7, static_cast<int>(std::floor(x / hi * 7.999)))];
  }
  return out;
}

}  // namespace

namespace {

struct Options : VerbOptions {
  std::string name, since = "1h";
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Show a function's invocations, errors and duration");
  cmd.add_option("function", o.name, "function name")->required();
  cmd.add_option("--since", o.since, "how far back: 10m, 1h, 1d (default 1h)");
}

int run(Options& o, Client& client) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t start = now - parse_duration_ms(o.since);
  start -= start % 60'000;
  const std::vector<std::pair<std::string, std::string>> queries = {{"Invocations", "Sum"},
                                                                    {"Errors", "Sum"},
                                                                    {"Throttles", "Sum"},
                                                                    {"Duration", "Average"},
                                                                    {"Duration", "p99"}};
  std::string form =
      "Action=GetMetricData&Version=2010-08-01&ScanBy=TimestampAscending&StartTime=" +
      url_encode(iso(start)) + "&EndTime=" + url_encode(iso(now + 60'000));
  for (size_t i = 0; i < queries.size(); ++i) {
    std::string q = "MetricDataQueries.member." + std::to_string(i + 1) + ".";
    form += "&" + q + "Id=q" + std::to_string(i) + "&" + q +
            "MetricStat.Metric.Namespace=AWS%2FLambda&" + q +
            "MetricStat.Metric.MetricName=" + queries[i].first + "&" + q +
            "MetricStat.Metric.Dimensions.member.1.Name=FunctionName&" + q +
            "MetricStat.Metric.Dimensions.member.1.Value=" + url_encode(o.name) + "&" + q +
            "MetricStat.Period=60&" + q + "MetricStat.Stat=" + queries[i].second;
  }
  Reply r =
      client.request("POST", "/", form, {{"content-type", "application/x-www-form-urlencoded"}});
  if (r.status != 200) {
    auto code = all_of(r.body, "Code"), message = all_of(r.body, "Message");
    throw Failure((code.empty() ? "HTTP " + std::to_string(r.status) : code[0]) + ": " +
                  (message.empty() ? r.body : message[0]));
  }
  // minute -> the five values.
  std::map<std::string, std::vector<std::optional<double>>> rows;
  auto results = all_of(r.body, "MetricDataResults");
  std::string body = results.empty() ? "" : results[0];
  size_t qi = 0;
  for (size_t p = 0; qi < queries.size() && (p = body.find("<Id>q", p)) != std::string::npos;
       ++qi) {
    size_t end = body.find("<StatusCode>", p);
    std::string block = body.substr(p, end - p);
    auto ts =
        all_of(all_of(block, "Timestamps").empty() ? "" : all_of(block, "Timestamps")[0], "member");
    auto vs = all_of(all_of(block, "Values").empty() ? "" : all_of(block, "Values")[0], "member");
    size_t index = std::stoul(all_of(block, "Id")[0].substr(1));
    for (size_t i = 0; i < ts.size() && i < vs.size(); ++i) {
      auto& row = rows[ts[i]];
      row.resize(queries.size());
      row[index] = std::stod(vs[i]);
    }
    p = end;
  }
  if (o.common->json) {
    json::array out;
    for (const auto& [t, row] : rows) {
      json::object m{{"Timestamp", t}};
      const char* names[] = {"Invocations", "Errors", "Throttles", "DurationAverage",
                             "DurationP99"};
      for (size_t i = 0; i < row.size(); ++i) {
        if (row[i]) m[names[i]] = *row[i];
      }
      out.push_back(std::move(m));
    }
    std::printf("%s\n", pretty(out).c_str());
    return 0;
  }
  if (rows.empty()) {
    std::printf("no invocations of %s in the last %s\n", o.name.c_str(), o.since.c_str());
    return 0;
  }
  auto cell = [](const std::optional<double>& v, const char* f) {
    char buf[32];
    if (!v) return std::string("-");
    std::snprintf(buf, sizeof(buf), f, *v);
    return std::string(buf);
  };
  std::printf("%-20s %11s %7s %9s %10s %10s\n", "MINUTE (UTC)", "INVOCATIONS", "ERRORS",
              "THROTTLES", "AVG MS", "P99 MS");
  std::vector<double> series;
  double total = 0, errors = 0;
  for (const auto& [t, row] : rows) {
    std::printf("%-20s %11s %7s %9s %10s %10s\n", t.c_str(), cell(row[0], "%.0f").c_str(),
                cell(row[1], "%.0f").c_str(), cell(row[2], "%.0f").c_str(),
                cell(row[3], "%.2f").c_str(), cell(row[4], "%.2f").c_str());
    series.push_back(row[0].value_or(0));
    total += row[0].value_or(0);
    errors += row[1].value_or(0);
  }
  std::printf("\ninvocations %s  %.0f in all, %.0f errors (%.1f %%)\n", sparkline(series).c_str(),
              total, errors, total > 0 ? errors / total * 100 : 0.0);
  return 0;
}

}  // namespace

Runner add_metrics(CLI::App& app) { return client_verb<Options>(app, "metrics", declare, run); }

}  // namespace lambent::cli

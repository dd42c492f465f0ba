// `lambent logs F [--follow] [--since 10m] [--filter PATTERN] [--qualifier-free]`: the function's
// log lines (FilterLogEvents on /aws/lambda/F), optionally following new ones as they arrive.
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <set>
#include <thread>

#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace json = boost::json;
namespace {
std::string clock_text(int64_t ms) {
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
}
}  // namespace

namespace {

struct Options : VerbOptions {
  std::string name, since = "10m", filter, group;
  bool follow = false;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Show a function's logs");
  cmd.add_option("function", o.name, "function name")->required();
  cmd.add_flag("--follow,-f", o.follow, "keep printing new lines (Ctrl-C to stop)");
  cmd.add_option("--since", o.since, "how far back: 30s, 10m, 2h, 1d (default 10m)");
  cmd.add_option("--filter", o.filter,
                 "CloudWatch filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'");
  cmd.add_option("--log-group", o.group, "log group (default /aws/lambda/FUNCTION)");
}

int run(Options& o, Client& client) {
  std::string group = o.group.empty() ? "/aws/lambda/" + o.name : o.group;
  int64_t start = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() -
                  parse_duration_ms(o.since);
  std::set<std::string> seen;  // event ids at the newest timestamp already printed
  for (;;) {
    std::string token;
    int64_t newest = start;
    do {
      json::object req{{"logGroupName", group}, {"startTime", start}, {"interleaved", true}};
      if (!o.filter.empty()) req["filterPattern"] = o.filter;
      if (!token.empty()) req["nextToken"] = token;
      Reply r = client.request("POST", "/", json::serialize(req),
                               {{"content-type", "application/x-amz-json-1.1"},
                                {"x-amz-target", "Logs_20140328.FilterLogEvents"}});
      if (r.status == 400 && error_text(r).rfind("ResourceNotFoundException", 0) == 0) {
        if (!o.follow) {
          throw Failure("no logs for " + o.name + " yet (log group " + group +
                        " does not exist): invoke it with `lambent invoke " + o.name + "`");
        }
        break;  // following: it appears with the first invocation
      }
      if (r.status != 200) throw Failure(error_text(r));
      json::object page = r.json().as_object();
      for (const auto& ev : page.at("events").as_array()) {
        const auto& e = ev.as_object();
        std::string id(e.at("eventId").as_string());
        int64_t ts = e.at("timestamp").as_int64();
        if (seen.count(id)) continue;
        if (ts > newest) {
          newest = ts;
          seen.clear();
        }
        seen.insert(id);
        std::string message(e.at("message").as_string());
        if (o.common->json) {
          std::printf("%s\n", pretty(e).c_str());
        } else {
          std::printf("%s %s\n", clock_text(ts).c_str(), message.c_str());
        }
      }
      std::fflush(stdout);
      token = page.if_contains("nextToken") ? std::string(page.at("nextToken").as_string()) : "";
    } while (!token.empty());
    if (!o.follow) return 0;
    start = newest;  // re-read the newest millisecond; `seen` drops what was printed
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

Runner add_logs(CLI::App& app) { return client_verb<Options>(app, "logs", declare, run); }

}  // namespace lambent::cli

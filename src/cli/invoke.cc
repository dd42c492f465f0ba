// `lambent invoke F [--payload JSON|@file] [--qualifier Q] [--async]`: runs the function and
// prints its result, then the log tail of that invocation.
#include <boost/json.hpp>
#include <fstream>

#include "base/codec.h"
#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace json = boost::json;

namespace {

struct Options : VerbOptions {
  std::string name, payload = "{}", qualifier;
  bool async = false;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Invoke a function and show its result and log tail");
  cmd.add_option("function", o.name, "function name, name:qualifier or ARN")->required();
  cmd.add_option("--payload,-p", o.payload, "event JSON, or @file to read it from a file");
  cmd.add_option("--qualifier,-q", o.qualifier, "version or alias");
  cmd.add_flag("--async", o.async, "queue the event (InvocationType Event) instead of waiting");
}

int run(Options& o, Client& client) {
  std::string payload = o.payload;
  if (!payload.empty() && payload[0] == '@') {
    std::ifstream in(payload.substr(1), std::ios::binary);
    if (!in) throw Failure("cannot read the payload file " + payload.substr(1));
    payload.assign(std::istreambuf_iterator<char>(in), {});
  }
  boost::system::error_code ec;
  json::parse(payload, ec);
  if (ec)
    throw Failure("the payload is not JSON (" + ec.message() +
                  "); pass e.g. --payload '{\"key\": 1}'");
  std::string target = "/2015-03-31/functions/" + url_encode(o.name) + "/invocations";
  if (!o.qualifier.empty()) target += "?Qualifier=" + url_encode(o.qualifier);
  std::map<std::string, std::string> headers = {{"content-type", "application/json"}};
  if (o.async) {
    headers["x-amz-invocation-type"] = "Event";
  } else {
    headers["x-amz-log-type"] = "Tail";
  }
  Reply r = client.call("POST", target, payload, headers,
                        o.qualifier.empty()
                            ? "List functions with `lambent ls`."
                            : "List versions and aliases with `lambent ls " + o.name + "`.");
  std::string tail;
  if (auto log = r.header("x-amz-log-result")) tail = base64_decode(*log).value_or("");
  std::string version = r.header("x-amz-executed-version").value_or("");
  auto error = r.header("x-amz-function-error");
  if (o.common->json) {
    json::object out{{"StatusCode", r.status}, {"ExecutedVersion", version}};
    json::value payload_json = r.json();
    out["Payload"] = r.body.empty() ? json::value()
                                    : (payload_json.is_null() ? json::value(r.body) : payload_json);
    if (error) out["FunctionError"] = *error;
    if (!tail.empty()) out["LogResult"] = tail;
    std::printf("%s\n", pretty(out).c_str());
  } else if (o.async) {
    std::printf("queued (%u)\n", r.status);
  } else {
    std::printf("%s\n", r.body.c_str());
    if (!tail.empty()) {
      std::fprintf(stderr, "--- log tail (version %s) ---\n%s", version.c_str(), tail.c_str());
    }
    if (error) std::fprintf(stderr, "function error: %s\n", error->c_str());
  }
  return error ? 2 : 0;
}

}  // namespace

Runner add_invoke(CLI::App& app) { return client_verb<Options>(app, "invoke", declare, run); }

}  // namespace lambent::cli

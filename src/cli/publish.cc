// `lambent publish F [--description D]`: publishes $LATEST as a version.
#include <boost/json.hpp>

#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace json = boost::json;

namespace {

struct Options : VerbOptions {
  std::string name, description;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Publish the function's $LATEST as a version");
  cmd.add_option("function", o.name, "function name")->required();
  cmd.add_option("--description,-d", o.description, "version description");
}

int run(Options& o, Client& client) {
  json::object body;
  if (!o.description.empty()) body["Description"] = o.description;
  json::object v = client
                       .call("POST", "/2015-03-31/functions/" + url_encode(o.name) + "/versions",
                             json::serialize(body), {{"content-type", "application/json"}},
                             "List functions with `lambent ls`.")
                       .json()
                       .as_object();
  if (o.common->json) {
    std::printf("%s\n", pretty(v).c_str());
  } else {
    std::printf("version %s of %s (%s)\n", std::string(v.at("Version").as_string()).c_str(),
                o.name.c_str(), std::string(v.at("FunctionArn").as_string()).c_str());
  }
  return 0;
}

}  // namespace

Runner add_publish(CLI::App& app) { return client_verb<Options>(app, "publish", declare, run); }

}  // namespace lambent::cli

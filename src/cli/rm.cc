// `lambent rm F [--qualifier N]`: deletes a function (or one published version).
#include <boost/json.hpp>

#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {

namespace {

struct Options : VerbOptions {
  std::string name, qualifier;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Delete a function, or one of its versions");
  cmd.add_option("function", o.name, "function name")->required();
  cmd.add_option("--qualifier,-q", o.qualifier, "delete only this published version");
}

int run(Options& o, Client& client) {
  std::string target = "/2015-03-31/functions/" + url_encode(o.name);
  if (!o.qualifier.empty()) target += "?Qualifier=" + url_encode(o.qualifier);
  client.call("DELETE", target, "", {},
              "List functions with `lambent ls` (and versions with `lambent ls NAME`).");
  if (o.common->json) {
    boost::json::object out{{"Deleted", o.name}};
    if (!o.qualifier.empty()) out["Qualifier"] = o.qualifier;
    std::printf("%s\n", pretty(out).c_str());
  } else {
    std::printf("deleted %s%s\n", o.name.c_str(),
                o.qualifier.empty() ? "" : (":" + o.qualifier).c_str());
  }
  return 0;
}

}  // namespace

Runner add_rm(CLI::App& app) { return client_verb<Options>(app, "rm", declare, run); }

}  // namespace lambent::cli

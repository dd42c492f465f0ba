// `lambent alias F NAME VERSION [--weight V=W]`: creates the alias or points it elsewhere, with
// an optional weighted second version; `lambent alias F NAME --delete` removes it.
#include <boost/json.hpp>

#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace json = boost::json;

namespace {

struct Options : VerbOptions {
  std::string function, name, version, weight;
  bool remove = false;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Create, move or delete an alias");
  cmd.add_option("function", o.function, "function name")->required();
  cmd.add_option("name", o.name, "alias name")->required();
  cmd.add_option("version", o.version, "version the alias points at");
  cmd.add_option("--weight", o.weight, "VERSION=WEIGHT: send that share (0-1) to a second version");
  cmd.add_flag("--delete", o.remove, "delete the alias");
}

int run(Options& o, Client& client) {
  std::string base = "/2015-03-31/functions/" + url_encode(o.function) + "/aliases";
  if (o.remove) {
    client.call("DELETE", base + "/" + url_encode(o.name));
    if (o.common->json) {
      std::printf("%s\n", pretty(json::object{{"Deleted", o.name}}).c_str());
    } else {
      std::printf("deleted alias %s of %s\n", o.name.c_str(), o.function.c_str());
    }
    return 0;
  }
  if (o.version.empty())
    throw Failure("give the version the alias points at, e.g. `lambent alias F live 3`");
  json::object body{{"FunctionVersion", o.version}};
  json::object weights;
  if (!o.weight.empty()) {
    auto eq = o.weight.find('=');
    char* end = nullptr;
    double w = eq == std::string::npos ? -1 : std::strtod(o.weight.c_str() + eq + 1, &end);
    if (eq == std::string::npos || !end || *end != '\0' || w < 0 || w > 1) {
      throw Failure("--weight takes VERSION=WEIGHT with a weight from 0 to 1, e.g. --weight 2=0.1");
    }
    weights[o.weight.substr(0, eq)] = w;
  }
  body["RoutingConfig"] = json::object{{"AdditionalVersionWeights", weights}};
  Reply existing = client.request("GET", base + "/" + url_encode(o.name));
  json::object a;
  if (existing.status == 200) {
    a = client
            .call("PUT", base + "/" + url_encode(o.name), json::serialize(body),
                  {{"content-type", "application/json"}})
            .json()
            .as_object();
  } else {
    body["Name"] = o.name;
    a = client
            .call("POST", base, json::serialize(body), {{"content-type", "application/json"}},
                  "List versions with `lambent ls " + o.function + "`.")
            .json()
            .as_object();
  }
  if (o.common->json) {
    std::printf("%s\n", pretty(a).c_str());
  } else {
    std::printf("%s -> version %s%s\n", std::string(a.at("AliasArn").as_string()).c_str(),
                o.version.c_str(), o.weight.empty() ? "" : (" (+" + o.weight + ")").c_str());
  }
  return 0;
}

}  // namespace

Runner add_alias(CLI::App& app) { return client_verb<Options>(app, "alias", declare, run); }

}  // namespace lambent::cli

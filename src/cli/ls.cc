// `lambent ls [F]`: the functions (name, runtime, memory, last modified), or one function's
// versions and aliases.
#include <boost/json.hpp>

#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace json = boost::json;
namespace {
std::string s(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return "";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}
}  // namespace

namespace {

struct Options : VerbOptions {
  std::string name;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("List functions, or one function's versions and aliases");
  cmd.add_option("function", o.name, "show this function's versions and aliases");
}

int run(Options& o, Client& client) {
  if (o.name.empty()) {
    json::array all;
    std::string marker;
    do {
      std::string target = "/2015-03-31/functions?MaxItems=50";
      if (!marker.empty()) target += "&Marker=" + url_encode(marker);
      json::object page = client.call("GET", target).json().as_object();
      for (auto& f : page.at("Functions").as_array()) all.push_back(f);
      marker = page.if_contains("NextMarker") ? s(page, "NextMarker") : "";
    } while (!marker.empty());
    if (o.common->json) {
      std::printf("%s\n", pretty(all).c_str());
      return 0;
    }
    if (all.empty()) {
      std::printf(
          "no functions yet: create one with `lambent deploy DIR --name NAME --runtime "
          "python3.11 --handler app.handler`\n");
      return 0;
    }
    std::printf("%-32s %-16s %7s  %s\n", "NAME", "RUNTIME", "MEMORY", "LAST MODIFIED");
    for (const auto& f : all) {
      const auto& c = f.as_object();
      std::printf("%-32s %-16s %5s MB  %s\n", s(c, "FunctionName").c_str(), s(c, "Runtime").c_str(),
                  s(c, "MemorySize").c_str(), s(c, "LastModified").c_str());
    }
    return 0;
  }
  std::string fn = "/2015-03-31/functions/" + url_encode(o.name);
  std::string advice = "List functions with `lambent ls`.";
  json::array versions = client.call("GET", fn + "/versions?MaxItems=50", "", {}, advice)
                             .json()
                             .as_object()
                             .at("Versions")
                             .as_array();
  json::array aliases = client.call("GET", fn + "/aliases?MaxItems=50", "", {}, advice)
                            .json()
                            .as_object()
                            .at("Aliases")
                            .as_array();
  if (o.common->json) {
    std::printf("%s\n", pretty(json::object{{"Versions", versions}, {"Aliases", aliases}}).c_str());
    return 0;
  }
  std::printf("%-10s %-46s %s\n", "VERSION", "CODESHA256", "DESCRIPTION");
  for (const auto& v : versions) {
    const auto& c = v.as_object();
    std::printf("%-10s %-46s %s\n", s(c, "Version").c_str(), s(c, "CodeSha256").c_str(),
                s(c, "Description").c_str());
  }
  if (!aliases.empty()) {
    std::printf("\n%-20s %-10s %s\n", "ALIAS", "VERSION", "ROUTING");
    for (const auto& a : aliases) {
      const auto& c = a.as_object();
      std::string routing;
      if (auto* r = c.if_contains("RoutingConfig")) {
        for (const auto& [v, w] : r->as_object().at("AdditionalVersionWeights").as_object()) {
          routing += std::string(v) + "=" + json::serialize(w) + " ";
        }
      }
      std::printf("%-20s %-10s %s\n", s(c, "Name").c_str(), s(c, "FunctionVersion").c_str(),
                  routing.c_str());
    }
  }
  return 0;
}

}  // namespace

Runner add_ls(CLI::App& app) { return client_verb<Options>(app, "ls", declare, run); }

}  // namespace lambent::cli

// `lambent <verb>`: one file per verb, each speaking to the server or (serve) being it.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "cli/verbs.h"

int main(int argc, char** argv) {
  CLI::App app{"Lambent: a self-hosted, AWS Lambda-compatible serverless platform", "lambent"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lambent 0.1.0");
  std::vector<std::pair<CLI::App*, lambent::cli::Runner>> verbs;
  for (auto add : {lambent::cli::add_serve, lambent::cli::add_deploy, lambent::cli::add_invoke,
                   lambent::cli::add_logs, lambent::cli::add_ls, lambent::cli::add_rm,
                   lambent::cli::add_metrics, lambent::cli::add_publish, lambent::cli::add_alias,
                   lambent::cli::add_s3, lambent::cli::add_credentials}) {
    auto run = add(app);
    verbs.emplace_back(app.get_subcommands({}).back(), std::move(run));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [cmd, run] : verbs) {
    if (cmd->parsed()) return run();
  }
  return 2;
}

// `lambent <verb>`: one file per verb, each speaking to the server or (serve) being it.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/verbs.h"

int main(int argc, char** argv) {
  CLI::App app{"Lambent: a self-hosted, AWS Lambda-compatible serverless platform", "lambent"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lambent 0.1.0");
  auto run = lambent::cli::add_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run();
}

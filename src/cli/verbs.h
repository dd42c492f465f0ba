// Registration of the CLI's verbs. Each add_* adds a subcommand and returns what runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace lambent::cli {

using Runner = std::function<int()>;

// `lambent serve`: the server itself.
Runner add_serve(CLI::App& app);
// Client verbs (one file each), speaking to a server at --endpoint / LAMBENT_ENDPOINT.
Runner add_deploy(CLI::App& app);
Runner add_invoke(CLI::App& app);
Runner add_logs(CLI::App& app);
Runner add_ls(CLI::App& app);
Runner add_rm(CLI::App& app);
Runner add_metrics(CLI::App& app);
Runner add_publish(CLI::App& app);
Runner add_alias(CLI::App& app);
// `lambent s3`: buckets and objects.
Runner add_s3(CLI::App& app);
// `lambent credentials`: the local server's root credentials.
Runner add_credentials(CLI::App& app);

}  // namespace lambent::cli

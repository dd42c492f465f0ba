// Registration of the CLI's verbs. Each add_* adds a subcommand and returns what runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace lambent::cli {

using Runner = std::function<int()>;

// `lambent serve`: the server itself.
Runner add_serve(CLI::App& app);

}  // namespace lambent::cli

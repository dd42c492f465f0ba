// Builds every component in order, serves until SIGINT/SIGTERM, and stops them in reverse order.
// `server/` only wires: nothing depends on it.
#pragma once

#include <memory>

#include "base/error.h"
#include "config/config.h"

namespace lambent::server {

// Runs `lambent serve` with a validated configuration; returns the process exit code.
int serve(const config::Config& config);

}  // namespace lambent::server

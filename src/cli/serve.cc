// `lambent serve [--listen HOST:PORT] [--data DIR] [--config FILE] ...`
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/verbs.h"
#include "config/config.h"
#include "server/server.h"

namespace lambent::cli {
namespace {
const char* getenv_wrapper(const char* name) { return std::getenv(name); }
}  // namespace

Runner add_serve(CLI::App& app) {
  struct Options {
    std::string config_file;
    config::Settings flags;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "Run the Lambent server");
  cmd->add_option("--config", opts->config_file, "JSON file of settings");
  auto flag = [&](const char* name, const char* key, const char* help) {
    cmd->add_option_function<std::string>(
        name, [opts, key](const std::string& v) { opts->flags[key] = v; }, help);
  };
  flag("--listen", "listen", "HOST:PORT to serve on (default 127.0.0.1:9777; port 0 = any free)");
  flag("--data", "data", "data directory (default $XDG_DATA_HOME/lambent or ~/.local/share/lambent)");
  flag("--code-cache", "code_cache", "tmpfs directory for extracted code (default under /dev/shm)");
  flag("--region", "region", "region shown in ARNs (default us-east-1)");
  flag("--account-id", "account_id", "12-digit account id shown in ARNs (default 000000000000)");
  flag("--log-level", "log_level", "debug, info, warn or error (default info)");
  flag("--worker-threads", "worker_threads", "threads for blocking work (default 8)");
  flag("--runtimes-dir", "runtimes_dir", "runtime clients for /var/runtime (default: beside the binary)");
  flag("--keep-alive", "keep_alive_seconds", "seconds an idle environment is kept (default 300)");
  flag("--freeze-after-ms", "freeze_after_ms", "idle milliseconds before freezing (default 20)");
  flag("--memory-budget-mb", "memory_budget_mb", "MemorySize sum of live environments (default 3/4 of RAM)");
  flag("--async-retry-base-ms", "async_retry_base_ms", "delay before retrying a failed async invocation (default 60000)");
  flag("--async-parallel", "async_parallel", "asynchronous events running at once (default 32)");
  flag(
      "--auth", "auth",
      "on (default): SigV4 and IAM policies on every API; open: accept any caller (loopback only)");
  flag("--public-url", "public_url",
       "base URL clients reach this server at, for the URLs it hands out (default: the listener)");
  flag("--url-domain", "url_domain",
       "domain of function URL host names (<id>.lambda-url.<region>.DOMAIN; default: path form)");
  flag("--edge-listen", "edge_listen",
       "HOST:PORT of the edge (CloudFront distributions; default: the API's port + 1), or off");
  flag("--edge-domain", "edge_domain",
       "domain of distribution host names (<label>.cloudfront.DOMAIN; default cloudfront.net)");
  flag("--edge-cache-memory-mb", "edge_cache_memory_mb", "edge cache in memory (default 256)");
  flag("--edge-cache-disk-mb", "edge_cache_disk_mb", "edge cache on disk (default 4096)");
  flag("--console", "console", "on (default): the web console at /; off: none");
  flag("--console-dir", "console_dir",
       "the console's built assets (default: console/dist beside the binary)");
  flag("--network", "network",
       "on (default): environments get a network interface; off: loopback only");
  flag("--network-cidr", "network_cidr", "the environments' addresses (default 10.213.0.0/16)");
  flag("--uplink-cidr", "uplink_cidr",
       "host-side /31s for internet egress (default 100.127.0.0/16)");
  flag("--egress", "egress",
       "none, platform (default) or internet: where environments may connect");
  flag("--egress-allow", "egress_allow", "CIDRs environments may always reach (beyond the host)");
  flag("--egress-deny", "egress_deny", "CIDRs environments may never reach");
  flag("--dns-upstream", "dns_upstream",
       "resolver for names beyond the platform (default: the host's first IPv4 nameserver)");
  flag("--telemetry", "telemetry", "on (default) or off: record function logs and metrics");
  flag("--log-max-events", "log_max_events", "log events kept in all, oldest dropped first (default 10000000)");
  flag("--log-max-bytes", "log_max_bytes",
       "bytes of log messages kept in all, oldest dropped first (default 1073741824)");
  flag("--concurrency-limit", "concurrency_limit", "account concurrency limit (default 1000, capped by the memory budget)");
  return [cmd, opts]() -> int {
    if (!cmd->parsed()) return 2;
    std::optional<std::filesystem::path> file;
    if (!opts->config_file.empty()) file = opts->config_file;
    auto cfg = config::load(file, getenv_wrapper, opts->flags);
    if (!cfg) {
      std::fprintf(stderr, "lambent serve: %s\n", cfg.error().message.c_str());
      return 2;
    }
    return server::serve(*cfg);
  };
}

}  // namespace lambent::cli

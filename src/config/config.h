// One typed Config for the whole server, assembled from a JSON file, then LAMBENT_* environment
// variables, then command-line flags (later sources win), and validated before anything starts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "base/error.h"

namespace lambent::config {

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 9777;
  std::filesystem::path data_dir;    // metadata, encrypted code, key file
  std::filesystem::path code_cache;  // extracted plaintext code; must be memory-backed (tmpfs)
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::string log_level = "info";
  // Blocking work: SQLite, fsync, hashing, zip extraction. Most of it waits on fsync, and the
  // store commits concurrent writers together: more threads than cores pays off.
  int worker_threads = 8;
  std::filesystem::path runtimes_dir;  // runtime clients mounted at /var/runtime ("" = beside the binary)
  int keep_alive_seconds = 300;        // idle environments are reaped after this
  int freeze_after_ms = 20;            // idle environments are frozen after this
  int64_t memory_budget_mb = 0;        // sum of MemorySize of live environments (0 = 3/4 of RAM)
  // Account concurrency limit; the effective limit is never more than the memory budget holds
  // in 128 MB environments (and never less than 100, the unreserved minimum).
  int64_t concurrency_limit = 1000;
  // Log events kept in all (the oldest go first), besides each log group's retention.
  int64_t log_max_events = 10'000'000;
  // Bytes of log messages kept in all (the oldest events go first): what bounds logs.db on disk
  // (about twice this, with the index and row overhead).
  int64_t log_max_bytes = int64_t{1} << 30;
  // Function logs and metrics are recorded ("on"); "off" exists to measure what they cost.
  bool telemetry = true;
  // Delay before the first retry of a failed asynchronous invocation (the second waits twice
  // as long); AWS waits about a minute. Tests shorten it.
  int64_t async_retry_base_ms = 60'000;
  // Asynchronous events running at once, across functions.
  int64_t async_parallel = 32;
  // "on": every AWS API call is SigV4-authenticated and authorized by IAM policies. "open": any
  // signature is accepted and every caller is the account's root (local development only: a
  // server in this mode refuses to listen on anything but loopback).
  bool auth_open = false;
  // The base URL clients reach this server at (http[s]://host[:port][/prefix]), for the URLs it
  // hands out (GetFunction's Code.Location). "" = the listener's address (its host name when
  // listening on a wildcard address).
  std::string public_url;
  // The domain of function URLs' host names: "" (default) hands out the path form
  // <public_url>/_lambent/url/<url-id>/; "lambent.example" hands out
  // <scheme>://<url-id>.lambda-url.<region>.lambent.example[:port]/ (needs wildcard DNS). Both
  // forms are always served.
  std::string url_domain;
  // The environments' network (docs/config.md, "Network"): on (default) gives each environment
  // an interface on `network_cidr`, the platform endpoint at its first address and egress by
  // policy; off leaves environments only their loopback.
  bool network = true;
  std::string network_cidr = "10.213.0.0/16";
  std::string uplink_cidr = "100.127.0.0/16";  // one /31 per server for internet egress
  std::string egress = "platform";             // none, platform or internet
  std::string egress_allow;                    // CIDRs, space or comma separated
  std::string egress_deny;
  // Where the platform endpoint's DNS sends names it does not answer itself, for environments
  // that may reach beyond the host ("" = the host's first IPv4 nameserver in /etc/resolv.conf).
  std::string dns_upstream;
  // The edge (CloudFront distributions, docs/config.md "Edge"): on by default, listening on
  // edge_host:edge_port — by default the API's host and the API's port + 1 (any free port when
  // the API's is 0). edge_listen = "off" serves no edge. Distribution host names are
  // <label>.cloudfront.<edge_domain> ("" = cloudfront.net: reached by Host header or the path
  // form /_lambent/edge/<id>/). The cache: bytes in memory, and bytes on disk.
  bool edge = true;
  std::string edge_host;              // "" = listen_host
  std::optional<uint16_t> edge_port;  // nullopt = listen_port + 1 (0 when that is 0)
  std::string edge_domain;
  int64_t edge_cache_memory_mb = 256;
  int64_t edge_cache_disk_mb = 4096;
  // The web console at / (docs/console.md): on by default; its built assets are read from
  // console_dir ("" = console/dist beside the binary, or <prefix>/share/lambent/console).
  bool console = true;
  std::filesystem::path console_dir;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback(const std::string& host);

// The account concurrency limit in effect with this memory budget (compat §4).
int64_t effective_concurrency_limit(int64_t configured, int64_t memory_budget_mb);

// Setting keys, as written in the config file and (upper-cased, prefixed LAMBENT_) in the
// environment: listen, data, code_cache, region, account_id, log_level, worker_threads,
// runtimes_dir, keep_alive_seconds, freeze_after_ms, memory_budget_mb, concurrency_limit,
// log_max_events, log_max_bytes, telemetry, async_retry_base_ms, async_parallel, auth, public_url,
// url_domain,
// network, network_cidr, uplink_cidr, egress, egress_allow, egress_deny, dns_upstream,
// edge_listen, edge_domain, edge_cache_memory_mb, edge_cache_disk_mb, console, console_dir.
using Settings = std::map<std::string, std::string>;

// `environ_lookup` returns the value of an environment variable or nullptr.
Result<Config> load(const std::optional<std::filesystem::path>& file,
                    const char* (*environ_lookup)(const char*), const Settings& flags);

// The documented default data directory: $XDG_DATA_HOME/lambent, else ~/.local/share/lambent,
// else /var/lib/lambent for a user without a home.
std::filesystem::path default_data_dir(const char* (*environ_lookup)(const char*));

}  // namespace lambent::config

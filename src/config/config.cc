#include "config/config.h"

#include <arpa/inet.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <charconv>
#include <regex>

#include "base/codec.h"
#include "base/fs.h"
#include "net/cidr.h"
#include "net/egress.h"

namespace lambent::config {
namespace json = boost::json;
namespace {

constexpr const char* kKeys[] = {"listen",
                                 "data",
                                 "code_cache",
                                 "region",
                                 "account_id",
                                 "log_level",
                                 "worker_threads",
                                 "runtimes_dir",
                                 "keep_alive_seconds",
                                 "freeze_after_ms",
                                 "memory_budget_mb",
                                 "concurrency_limit",
                                 "log_max_events",
                                 "log_max_bytes",
                                 "telemetry",
                                 "async_retry_base_ms",
                                 "async_parallel",
                                 "auth",
                                 "public_url",
                                 "url_domain",
                                 "network",
                                 "network_cidr",
                                 "uplink_cidr",
                                 "egress",
                                 "egress_allow",
                                 "egress_deny",
                                 "dns_upstream",
                                 "edge_listen",
                                 "edge_domain",
                                 "edge_cache_memory_mb",
                                 "edge_cache_disk_mb",
                                 "console",
                                 "console_dir"};

bool parse_int(const std::string& value, int64_t lo, int64_t hi, int64_t* out) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n < lo || n > hi) return false;
  *out = n;
  return true;
}

Result<void> apply(Config& c, const std::string& key, const std::string& value,
                   const std::string& source) {
  auto bad = [&](const std::string& why) {
    return make_error(Errc::kInvalidArgument, source + ": " + key + " = '" + value + "': " + why);
  };
  auto host_port = [&](std::string* host_out, uint16_t* port_out) -> Result<void> {
    auto colon = value.rfind(':');
    if (colon == std::string::npos) return bad("expected HOST:PORT");
    std::string host = value.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    unsigned port = 0;
    auto p = value.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535 || host.empty()) {
      return bad("expected HOST:PORT with a port in 0-65535");
    }
    *host_out = host;
    *port_out = static_cast<uint16_t>(port);
    return {};
  };
  if (key == "listen") {
    return host_port(&c.listen_host, &c.listen_port);
  } else if (key == "edge_listen") {
    c.edge = value != "off";
    if (!c.edge) return {};
    uint16_t port = 0;
    LAMBENT_TRY_VOID(host_port(&c.edge_host, &port));
    c.edge_port = port;
  } else if (key == "edge_domain") {
    static const std::regex re(
        "([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    if (!value.empty() && (!std::regex_match(value, re) || value.size() > 200)) {
      return bad("a lower-case DNS name such as lambent.example");
    }
    c.edge_domain = value;
  } else if (key == "edge_cache_memory_mb" || key == "edge_cache_disk_mb") {
    int64_t n = 0;
    if (!parse_int(value, 1, int64_t{1} << 30, &n)) return bad("megabytes, at least 1");
    (key == "edge_cache_memory_mb" ? c.edge_cache_memory_mb : c.edge_cache_disk_mb) = n;
  } else if (key == "console") {
    if (value != "on" && value != "off") return bad("on or off");
    c.console = value == "on";
  } else if (key == "console_dir") {
    c.console_dir = value;
  } else if (key == "data") {
    if (value.empty()) return bad("must not be empty");
    c.data_dir = value;
  } else if (key == "code_cache") {
    if (value.empty()) return bad("must not be empty");
    c.code_cache = value;
  } else if (key == "region") {
    static const std::regex re("[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]");
    if (!std::regex_match(value, re)) return bad("not a region name like us-east-1");
    c.region = value;
  } else if (key == "account_id") {
    static const std::regex re("[0-9]{12}");
    if (!std::regex_match(value, re)) return bad("must be 12 digits");
    c.account_id = value;
  } else if (key == "log_level") {
    if (value != "debug" && value != "info" && value != "warn" && value != "error") {
      return bad("one of debug, info, warn, error");
    }
    c.log_level = value;
  } else if (key == "worker_threads") {
    int n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 64) {
      return bad("an integer in 1-64");
    }
    c.worker_threads = n;
  } else if (key == "runtimes_dir") {
    c.runtimes_dir = value;
  } else if (key == "keep_alive_seconds" || key == "freeze_after_ms") {
    int64_t n = 0;
    if (!parse_int(value, 0, 86400 * 1000, &n)) return bad("a non-negative integer");
    (key == "keep_alive_seconds" ? c.keep_alive_seconds : c.freeze_after_ms) = static_cast<int>(n);
  } else if (key == "memory_budget_mb") {
    int64_t n = 0;
    if (!parse_int(value, 0, int64_t{1} << 40, &n)) return bad("megabytes, 0 for 3/4 of RAM");
    c.memory_budget_mb = n;
  } else if (key == "concurrency_limit") {
    int64_t n = 0;
    if (!parse_int(value, 100, 1'000'000, &n)) return bad("an integer in 100-1000000");
    c.concurrency_limit = n;
  } else if (key == "log_max_events") {
    int64_t n = 0;
    if (!parse_int(value, 1000, int64_t{1} << 40, &n)) return bad("an integer of at least 1000");
    c.log_max_events = n;
  } else if (key == "log_max_bytes") {
    int64_t n = 0;
    if (!parse_int(value, 1 << 20, int64_t{1} << 50, &n)) return bad("bytes, at least 1048576");
    c.log_max_bytes = n;
  } else if (key == "async_retry_base_ms") {
    int64_t n = 0;
    if (!parse_int(value, 0, 3'600'000, &n)) return bad("milliseconds, 0-3600000");
    c.async_retry_base_ms = n;
  } else if (key == "async_parallel") {
    int64_t n = 0;
    if (!parse_int(value, 1, 10'000, &n)) return bad("an integer in 1-10000");
    c.async_parallel = n;
  } else if (key == "auth") {
    if (value != "on" && value != "open") return bad("on or open");
    c.auth_open = value == "open";
  } else if (key == "public_url") {
    static const std::regex re(
        "https?://[A-Za-z0-9.\\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/\\-]*)?|"
        "https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?(/[A-Za-z0-9._~/\\-]*)?");
    if (!std::regex_match(value, re)) {
      return bad("an http:// or https:// URL: scheme, host, optional port and path, no query");
    }
    c.public_url = value;
    while (c.public_url.back() == '/') c.public_url.pop_back();
  } else if (key == "url_domain") {
    static const std::regex re(
        "([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    if (!value.empty() && (!std::regex_match(value, re) || value.size() > 200)) {
      return bad("a lower-case DNS name such as lambent.example");
    }
    c.url_domain = value;
  } else if (key == "network") {
    if (value != "on" && value != "off") return bad("on or off");
    c.network = value == "on";
  } else if (key == "network_cidr" || key == "uplink_cidr") {
    auto cidr = net::Cidr::parse(value);
    if (!cidr) return bad("an IPv4 prefix such as 10.213.0.0/16 (no host bits set)");
    if (key == "network_cidr" && (cidr->prefix < 8 || cidr->prefix > 28)) {
      return bad("a prefix length from /8 to /28");
    }
    if (key == "uplink_cidr" && (cidr->prefix < 8 || cidr->prefix > 31)) {
      return bad("a prefix length from /8 to /31");
    }
    (key == "network_cidr" ? c.network_cidr : c.uplink_cidr) = value;
  } else if (key == "egress") {
    if (!net::parse_egress_mode(value)) return bad("none, platform or internet");
    c.egress = value;
  } else if (key == "egress_allow" || key == "egress_deny") {
    std::string item;
    if (!net::parse_cidr_list(value, &item)) return bad("'" + item + "' is not an IPv4 prefix");
    (key == "egress_allow" ? c.egress_allow : c.egress_deny) = value;
  } else if (key == "dns_upstream") {
    if (!net::parse_ipv4(value)) return bad("an IPv4 address");
    c.dns_upstream = value;
  } else if (key == "telemetry") {
    if (value != "on" && value != "off") return bad("on or off");
    c.telemetry = value == "on";
  } else {
    return make_error(Errc::kInvalidArgument, source + ": unknown setting '" + key + "'");
  }
  return {};
}

Result<Settings> read_file_settings(const std::filesystem::path& file) {
  LAMBENT_TRY(text, read_file(file));
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return make_error(Errc::kInvalidArgument,
                      file.string() + ": expected a JSON object of settings");
  }
  Settings out;
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_string()) {
      out[std::string(k)] = std::string(val.as_string());
    } else if (val.is_int64()) {
      out[std::string(k)] = std::to_string(val.as_int64());
    } else {
      return make_error(Errc::kInvalidArgument,
                        file.string() + ": setting '" + std::string(k) +
                            "' must be a string or an integer");
    }
  }
  return out;
}

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int64_t effective_concurrency_limit(int64_t configured, int64_t memory_budget_mb) {
  return std::max<int64_t>(100, std::min(configured, memory_budget_mb / 128));
}

std::filesystem::path default_data_dir(const char* (*env)(const char*)) {
  if (const char* x = env("XDG_DATA_HOME"); x && *x) return std::filesystem::path(x) / "lambent";
  if (const char* h = env("HOME"); h && *h) {
    return std::filesystem::path(h) / ".local" / "share" / "lambent";
  }
  return "/var/lib/lambent";
}

Result<Config> load(const std::optional<std::filesystem::path>& file,
                    const char* (*env)(const char*), const Settings& flags) {
  Config c;
  if (file) {
    LAMBENT_TRY(settings, read_file_settings(*file));
    for (const auto& [k, v] : settings) LAMBENT_TRY_VOID(apply(c, k, v, file->string()));
  }
  for (const char* key : kKeys) {
    std::string var = "LAMBENT_";
    for (const char* p = key; *p; ++p) var += static_cast<char>(std::toupper(*p));
    if (const char* v = env(var.c_str()); v && *v) LAMBENT_TRY_VOID(apply(c, key, v, var));
  }
  for (const auto& [k, v] : flags) LAMBENT_TRY_VOID(apply(c, k, v, "--" + k));

  if (c.auth_open && !is_loopback(c.listen_host)) {
    return make_error(Errc::kInvalidArgument,
                      "auth open accepts any caller as the account's root: it is refused unless "
                      "the server listens on loopback (127.0.0.1, ::1), not on '" +
                          c.listen_host + "'");
  }
  if (c.data_dir.empty()) c.data_dir = default_data_dir(env);
  c.data_dir = std::filesystem::absolute(c.data_dir).lexically_normal();
  if (c.code_cache.empty()) {
    // Plaintext code must never rest on disk: /dev/shm is a tmpfs on every Linux system. One
    // folder per data dir so two servers on one machine do not share a cache.
    std::string tag = hex_encode(as_bytes(sha256(c.data_dir.string()))).substr(0, 12);
    c.code_cache = std::filesystem::path("/dev/shm") /
                   ("lambent-" + std::to_string(::getuid())) / tag;
  }
  return c;
}

}  // namespace lambent::config

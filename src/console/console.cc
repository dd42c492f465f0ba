#include "console/console.h"

#include <zlib.h>

#include <fstream>
#include <sstream>

#include "base/codec.h"
#include "base/log.h"

namespace lambent::console {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

std::string content_type_of(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

// gzip (RFC 1952) at the best level, at start, for what the build did not compress.
std::string gzip(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

Result<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(Errc::kIo, "read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

fs::path default_console_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path prefix = exe.parent_path().parent_path();
  for (const fs::path& candidate : {prefix.parent_path() / "console/dist", prefix / "console/dist",
                                    prefix / "share/lambent/console"}) {
    if (fs::is_regular_file(candidate / "index.html", ec)) return candidate;
  }
  return prefix / "share/lambent/console";
}

std::optional<Console> load_if_enabled(bool enabled, const fs::path& dir,
                                       const std::string& region) {
  if (!enabled) return std::nullopt;
  auto loaded = Console::load(dir.empty() ? default_console_dir() : dir, region);
  if (!loaded) {
    log::warn("the web console is not served: {}", loaded.error().message);
    return std::nullopt;
  }
  return std::move(*loaded);
}

Result<Console> Console::load(const fs::path& dir, const std::string& region) {
  Console c;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "index.html", ec)) {
    return make_error(Errc::kNotFound, "no console at " + dir.string() + " (make build)");
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".gz") continue;  // a file's compressed copy (build.mjs)
    LAMBENT_TRY(body, read_file(entry.path()));
    Asset a;
    a.content_type = content_type_of(entry.path());
    if (name == "index.html") replace_all(body, "{{region}}", region);
    a.body = std::move(body);
    const Sha256 digest = sha256(a.body);
    a.etag = "\"" + hex_encode(as_bytes(digest)).substr(0, 16) + "\"";
    a.immutable = name != "index.html";
    // build.mjs compresses the content-hashed files; the page (its region filled in here) and
    // anything without a .gz beside it are compressed now.
    if (fs::path gz = entry.path().string() + ".gz"; a.immutable && fs::is_regular_file(gz, ec)) {
      LAMBENT_TRY(z, read_file(gz));
      a.gzip = std::move(z);
    } else if (a.body.size() > 512 && a.content_type.rfind("image/png", 0) != 0) {
      std::string z = gzip(a.body);
      if (!z.empty() && z.size() < a.body.size()) a.gzip = std::move(z);
    }
    c.assets_[name == "index.html" ? "" : name] = std::move(a);
  }
  return c;
}

http::Response Console::respond(const std::string& name, const http::Request& req) const {
  http::Response r;
  auto it = assets_.find(name);
  if (it == assets_.end()) {
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Not found\n";
    return r;
  }
  const Asset& a = it->second;
  r.set_header("Content-Security-Policy", kPolicy);
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");
  r.set_header("X-Frame-Options", "DENY");
  r.set_header("ETag", a.etag);
  r.set_header("Cache-Control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.set_header("Vary", "Accept-Encoding");
  if (auto inm = req.header("if-none-match"); inm && *inm == a.etag) {
    r.status = 304;
    return r;
  }
  r.content_type = a.content_type;
  const auto accept = req.header("accept-encoding");
  if (!a.gzip.empty() && accept && accept->find("gzip") != std::string::npos) {
    r.set_header("Content-Encoding", "gzip");
    r.body = a.gzip;
  } else {
    r.body = a.body;
  }
  if (req.method == "HEAD") {
    r.content_length = r.body.size();
    r.body.clear();
  }
  return r;
}

void Console::add_routes(http::Router& router) const {
  auto page = [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
    co_return respond("", req);
  };
  auto asset = [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
    co_return respond(req.labels["Asset"], req);
  };
  for (const char* method : {"GET", "HEAD"}) {
    router.add({.name = "Console", .method = method, .pattern = "/", .handler = page});
    router.add(
        {.name = "Console", .method = method, .pattern = "/_console/{Asset}", .handler = asset});
  }
}

}  // namespace lambent::console

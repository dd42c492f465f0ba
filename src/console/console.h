// The web console's assets (console/, built by make build into console/dist), served by the main
// listener: GET / (the page, for browsers: requests signed for S3 are S3's, see http/router.h
// claims) and GET /_console/<file> (content-hashed scripts and styles; no bucket name starts with
// '_'). Everything is read once at start, with the gzip copies build.mjs made, and answered from
// memory with a strict Content-Security-Policy: the page runs only its own script, talks only to
// this origin (the AWS APIs it signs requests for), and cannot be framed.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "base/error.h"
#include "http/router.h"

namespace lambent::console {

struct Asset {
  std::string content_type;
  std::string body;
  std::string gzip;        // empty when compression does not pay
  std::string etag;        // "<16 hex of the SHA-256>"
  bool immutable = false;  // content-hashed: cached for a year
};

class Console final {
 public:
  // Reads `dir` (index.html and the files it names); `region` fills the page's {{region}}.
  static Result<Console> load(const std::filesystem::path& dir, const std::string& region);

  void add_routes(http::Router& router) const;

  // The response for `name` ("" = the page), honouring If-None-Match and Accept-Encoding.
  http::Response respond(const std::string& name, const http::Request& req) const;

 private:
  std::map<std::string, Asset> assets_;  // "" = index.html
};

// The console `lambent serve` serves: none when switched off, or when it is not built (said in
// the log); `dir` "" = default_console_dir().
std::optional<Console> load_if_enabled(bool enabled, const std::filesystem::path& dir,
                                       const std::string& region);

// Where the console's built assets are, relative to the executable: <prefix>/console/dist in the
// source tree (build/bin/lambent), or <prefix>/share/lambent/console when installed.
std::filesystem::path default_console_dir();

}  // namespace lambent::console

// A bucket's CORS configuration as S3 applies it: the rules (parsed from the stored
// <CORSConfiguration>), the answer to a browser's preflight (OPTIONS with Origin and
// Access-Control-Request-Method/-Headers), and the headers added to an actual request that
// carries an Origin. The first rule that matches wins; `*` is a wildcard in origins and headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambent::s3 {

struct CorsRule {
  std::vector<std::string> origins, methods, headers, expose;
  int max_age = -1;
};

// The rules of a stored <CORSConfiguration> document (empty when it has none).
std::vector<CorsRule> parse_cors(const std::string& xml);

// The response headers for a request from `origin` with `method` (and, for a preflight, the
// requested headers, comma-separated); nullopt when no rule allows it.
std::optional<std::vector<std::pair<std::string, std::string>>> cors_headers(
    const std::vector<CorsRule>& rules, std::string_view origin, std::string_view method,
    std::string_view request_headers, bool preflight);

}  // namespace lambent::s3

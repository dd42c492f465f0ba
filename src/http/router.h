// All routes of a server in one table: method, path pattern with {Label} segments, an optional
// query-parameter discriminator (AWS overloads some paths by query), a request-body limit, and the
// handler. Matching tolerates a trailing slash, as legacy AWS clients send one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace lambent::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct Route {
  std::string name;     // operation name, for logs
  std::string method;
  std::string pattern;  // e.g. /2015-03-31/functions/{FunctionName}/configuration
  size_t body_limit = 0;
  Handler handler;
  std::string query_key;  // when set, matches only if this query parameter is present
  std::string query_value;  // ... and, when also set, has this value
  // When set, matches only if this (lower-case) header starts with `header_prefix`: how the
  // JSON-RPC style AWS protocols (X-Amz-Target) share `POST /`.
  std::string header_key;
  std::string header_prefix;
  std::vector<std::string> parts;  // pattern split on '/'
  // The body is not read before the handler runs: it pulls it from req.body_stream, and
  // `body_limit` caps what Content-Length may declare.
  bool stream_body = false;
  // When set, the route takes every request this accepts, whatever its path (tried before all
  // other routes): how S3 claims the requests signed for it, or sent to a bucket's host name.
  std::function<bool(const Request&)> claim;
};

// Splits an origin-form request target into req.segments (percent-decoded, no trailing empty
// segment) and req.query (decoded, in order). False when the target is malformed. Targets made
// only of plain path characters (no '%', no query) take a direct split; everything else goes
// through Boost.URL's parser.
bool parse_target(std::string_view target, Request& req);
namespace detail {
bool parse_target_generic(std::string_view target, Request& req);  // always Boost.URL
}

// What the server answers when no handler can: statuses 400, 404, 405, 413, 500.
using ErrorResponder =
    std::function<Response(unsigned status, const std::string& message, const Route* route)>;

class Router final {
 public:
  struct Match {
    const Route* route = nullptr;
    bool path_matched = false;  // some route has this path but not this method
  };

  void add(Route route);
  // The route for requests whose path no other route has (S3's path-style requests), when its
  // `claim` (if set) accepts them.
  void set_fallback(Route route);
  // Fills req.labels on success.
  Match match(Request& req) const;

  void set_error_responder(ErrorResponder r) { error_responder_ = std::move(r); }
  Response error(unsigned status, const std::string& message, const Route* route) const;

 private:
  std::vector<Route> routes_;
  std::vector<Route> claims_;
  std::optional<Route> fallback_;
  ErrorResponder error_responder_;
};

}  // namespace lambent::http

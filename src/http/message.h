// The request and response values handlers see. Kept free of Beast types so that the API layer
// compiles without Beast's headers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambent::http {

class BodyReader;
class BodySource;

struct Request {
  std::string method;                  // "GET", "POST", ...
  std::string target;                  // as received: path and query, still encoded
  std::vector<std::string> segments;   // path segments, percent-decoded; no trailing empty one
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::map<std::string, std::string> labels;  // filled by the router from {Label} segments
  std::string body;
  std::string request_id;
  std::string peer;
  bool secure = false;  // arrived over TLS (URLs handed back use https)
  // Who sent it, once the protocol layer has authenticated it (an aws::Caller).
  std::shared_ptr<const void> principal;
  // Routes with `stream_body`: the body, read as the handler pulls it (`body` stays empty).
  // Valid until the handler returns.
  BodyReader* body_stream = nullptr;

  // First value of a query parameter, if present.
  std::optional<std::string> query_param(std::string_view name) const;
  std::vector<std::string> query_all(std::string_view name) const;
  // First value of a header (name in any case), if present.
  std::optional<std::string> header(std::string_view name) const;
  // The same without a copy: null when absent (valid while the request is).
  const std::string* find_header(std::string_view name) const;
  const std::string& label(const std::string& name) const { return labels.at(name); }
};

struct Response {
  unsigned status = 200;
  std::string content_type;  // omitted when empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A body produced as it is written (large objects, streamed function responses), instead of
  // `body`: of length `content_length` when set, else sent with `Transfer-Encoding: chunked`,
  // each piece a chunk as soon as the source makes it. Runs on the server's I/O thread.
  std::shared_ptr<BodySource> stream;
  // The Content-Length written instead of body.size(): a stream's length, or what a HEAD
  // answer announces (a HEAD answer never carries a body).
  std::optional<uint64_t> content_length;

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace lambent::http

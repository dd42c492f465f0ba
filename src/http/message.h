// The request and response values handlers see. Kept free of Beast types so that the API layer
// compiles without Beast's headers.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambent::http {

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

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace lambent::http

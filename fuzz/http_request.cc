// The HTTP request parser as the server runs it: Beast's parser with the server's header limit,
// then the target parsed into path segments and query parameters, header names lower-cased.
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>

#include "http/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec && ec != bhttp::error::need_more) return 0;
  if (!parser.is_header_done()) return 0;
  const auto& hdr = parser.get();
  lambent::http::Request req;
  req.method = std::string(hdr.method_string());
  req.target = std::string(hdr.target());
  for (const auto& f : hdr) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  if (lambent::http::parse_target(req.target, req)) {
    (void)req.query_param("Qualifier");
    (void)req.header("content-type");
  }
  lambent::http::Request generic;
  lambent::http::detail::parse_target_generic(req.target, generic);
  return 0;
}

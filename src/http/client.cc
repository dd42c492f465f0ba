#include "http/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace lambent::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
template <typename Stream>
asio::awaitable<Result<ClientResponse>> exchange(Stream& stream, beast::tcp_stream& tcp,
                                                 bhttp::request<bhttp::string_body>& req,
                                                 std::chrono::milliseconds timeout, size_t max_body,
                                                 bool whole_body) {
  tcp.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
  if (wec) co_return make_error(Errc::kIo, "sending the request: " + wec.message());
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  parser.header_limit(64 * 1024);
  if (req.method() == bhttp::verb::head) parser.skip(true);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  // A body over the limit still gave its status (unless the whole body was wanted).
  if (rec && (rec != bhttp::error::body_limit || whole_body)) {
    co_return make_error(Errc::kIo, "reading the response: " + rec.message());
  }
  ClientResponse out;
  out.status = parser.get().result_int();
  out.reason = std::string(parser.get().reason());
  for (const auto& field : parser.get()) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (!rec) out.body = std::move(parser.get().body());
  co_return out;
}

}  // namespace

asio::awaitable<Result<ClientResponse>> fetch(asio::any_io_executor ex, ClientRequest request,
                                              asio::ssl::context* tls) {
  auto parsed = boost::urls::parse_uri(request.url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty()) {
    co_return make_error(Errc::kInvalidArgument, "not an http(s) URL: " + request.url);
  }
  const bool secure = parsed->scheme() == "https";
  if (secure && !tls) co_return make_error(Errc::kInvalidArgument, "https is not available");
  std::string host(parsed->encoded_host_address());
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80");
  std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), target, 11};
  req.set(bhttp::field::host, std::string(parsed->encoded_host_and_port()));
  for (const auto& [k, v] : request.headers) {
    if (beast::iequals(k, "host")) {
      req.set(bhttp::field::host, v);
    } else {
      req.insert(k, v);  // repeated fields stay repeated
    }
  }
  req.body() = std::move(request.body);
  if (!req.body().empty() ||
      (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head &&
       req.method() != bhttp::verb::options)) {
    req.prepare_payload();
  }
  req.keep_alive(false);

  asio::ip::tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, kTuple);
  if (rec) co_return make_error(Errc::kIo, "resolving " + host + ": " + rec.message());
  beast::tcp_stream tcp(ex);
  tcp.expires_after(request.timeout);
  auto [cec, ep] = co_await tcp.async_connect(endpoints, kTuple);
  if (cec) co_return make_error(Errc::kIo, "connecting to " + host + ": " + cec.message());
  if (!secure) {
    auto r =
        co_await exchange(tcp, tcp, req, request.timeout, request.max_body, request.whole_body);
    beast::error_code ignored;
    tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    co_return r;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    co_return make_error(Errc::kIo, "TLS: SNI for " + host);
  }
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (hec) co_return make_error(Errc::kIo, "TLS handshake with " + host + ": " + hec.message());
  co_return co_await exchange(stream, beast::get_lowest_layer(stream), req, request.timeout,
                              request.max_body, request.whole_body);
}

}  // namespace lambent::http

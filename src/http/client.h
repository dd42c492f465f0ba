// An HTTP/1.1 client for outbound deliveries (SNS's http/https subscriptions): one request per
// connection, a deadline over the whole exchange, TLS with certificate and host name
// verification against the given context. The response body is read up to a limit (64 KiB by
// default: deliveries only need the status; the edge's origin fetches read whole bodies).
// Thread: the caller's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace lambent::http {

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{15'000};
  // The response body is read up to this; a longer one fails the exchange when `whole_body`,
  // else it is dropped and only the status comes back (deliveries).
  size_t max_body = 64 * 1024;
  bool whole_body = false;
};

struct ClientResponse {
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
};

// kInvalidArgument for a URL that is not http(s); kIo for a failed or timed-out exchange.
// `tls` is needed for https URLs (null: refused).
boost::asio::awaitable<Result<ClientResponse>> fetch(boost::asio::any_io_executor ex,
                                                     ClientRequest request,
                                                     boost::asio::ssl::context* tls);

}  // namespace lambent::http

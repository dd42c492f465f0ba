// The Lambda Runtime API (2018-06-01) for one execution environment: /runtime/invocation/next,
// /runtime/invocation/{id}/response, /runtime/invocation/{id}/error, /runtime/init/error, with the
// headers, status codes and 6 MB limit of compat §2. It speaks HTTP on the environment's listening
// socket (created inside the environment's network namespace) and asks its Host — the environment
// — for invocations and hands it outcomes. Clients may use a connection per request or keep-alive.
// Thread: the io_context thread only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "http/router.h"
#include "http/server.h"

namespace lambent::runtime {

inline constexpr size_t kMaxResponseBytes = 6 * 1024 * 1024 + 100;  // RIE: 6 MiB + 100 bytes
// A streamed response (Lambda-Runtime-Function-Response-Mode: streaming): 200 MiB, as AWS
// documents it for response streaming.
inline constexpr size_t kMaxStreamedResponseBytes = 200ull * 1024 * 1024;

struct Invocation {
  std::string request_id;
  std::string payload;
  int64_t deadline_ms = 0;
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;    // decoded JSON, "" when absent
  std::string cognito_identity;  // JSON, "" when absent
};

class Host {
 public:
  enum class Accept { kOk, kUnknownId, kWrongState };
  virtual ~Host() = default;
  // Blocks (asynchronously) until there is an invocation; nullopt when the environment is going
  // away (answered 500 so the runtime exits).
  virtual boost::asio::awaitable<std::optional<Invocation>> next() = 0;
  virtual Accept response(const std::string& request_id, std::string body) = 0;
  virtual Accept error(const std::string& request_id, std::string body, std::string error_type) = 0;
  virtual Accept init_error(std::string body, std::string error_type) = 0;
  // The runtime tried to post a response over the limit: the invocation fails.
  virtual void response_too_large() = 0;
  // A streamed response (§2.4): it begins with the runtime's Content-Type; its pieces follow as
  // they arrive (stream_write waits while the caller reads slowly, and answers false once the
  // bytes are no longer wanted: the invocation ended or its caller went away); it ends with the
  // error the trailers declared ("" when none), or `truncated` when the body broke off.
  // Keeps the host (and so this server) alive while a handler is suspended mid-request.
  virtual std::shared_ptr<void> keep_alive() = 0;
  virtual Accept stream_begin(const std::string& request_id, std::string content_type) = 0;
  virtual boost::asio::awaitable<bool> stream_write(const std::string& request_id,
                                                    std::string_view data) = 0;
  virtual void stream_end(const std::string& request_id, std::string error_type,
                          std::string error_body, bool truncated) = 0;
};

class RuntimeApiServer final {
 public:
  static constexpr size_t kMaxConnections = 8;  // per environment
  static constexpr int kIdleConnectionSeconds = 60;
  // The cap every environment's Runtime API shares: half the server's descriptors (read once,
  // after the server raised its limit).
  static std::shared_ptr<http::ConnectionBudget> shared_budget();

  RuntimeApiServer(boost::asio::io_context& ioc, Host& host);
  Result<void> start(int listening_fd);
  void stop(bool force = true);

 private:
  // POST /response in streaming mode: the chunked body handed on piece by piece.
  boost::asio::awaitable<http::Response> stream_response(http::Request& req);

  Host& host_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
};

// RIE's normalisation of Lambda-Runtime-Function-Error-Type: (Runtime|Function).[A-Z][a-zA-Z]+,
// else Runtime.Unknown (or Function.Unknown).
std::string normalize_error_type(const std::string& raw);

}  // namespace lambent::runtime

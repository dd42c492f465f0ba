#include "runtime/runtime_api.h"

#include <algorithm>

#include <boost/json.hpp>

#include "base/codec.h"
#include "base/fs.h"
#include "http/stream.h"

namespace lambent::runtime {

namespace {

http::Response status_json(unsigned status, const std::string& body) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body;
  return r;
}

http::Response api_error(unsigned status, const std::string& type, const std::string& message) {
  return status_json(status, boost::json::serialize(boost::json::object{
                                 {"errorMessage", message}, {"errorType", type}}));
}

http::Response accepted() { return status_json(202, R"({"status":"OK"})"); }

http::Response from_accept(Host::Accept a, const std::string& id) {
  switch (a) {
    case Host::Accept::kOk:
      return accepted();
    case Host::Accept::kUnknownId:
      return api_error(400, "InvalidRequestID", "Invalid request ID: " + id);
    case Host::Accept::kWrongState:
      break;
  }
  return api_error(403, "InvalidStateTransition", "State transition is not allowed");
}

bool valid_category(const std::string& s, const char* prefix) {
  size_t n = std::strlen(prefix);
  if (s.compare(0, n, prefix) != 0 || s.size() <= n || !std::isupper(static_cast<unsigned char>(s[n]))) {
    return false;
  }
  for (size_t i = n; i < s.size(); ++i) {
    if (!std::isalpha(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

std::string normalize_error_type(const std::string& raw) {
  if (raw.empty()) return "";
  if (valid_category(raw, "Runtime.") || valid_category(raw, "Function.")) return raw;
  return raw.rfind("Function.", 0) == 0 ? "Function.Unknown" : "Runtime.Unknown";
}

RuntimeApiServer::RuntimeApiServer(boost::asio::io_context& ioc, Host& host) : host_(host) {
  constexpr size_t kEventLimit = kMaxResponseBytes;
  router_.add({.name = "Next",
               .method = "GET",
               .pattern = "/2018-06-01/runtime/invocation/next",
               .body_limit = 0,
               .handler = [this](http::Request&) -> boost::asio::awaitable<http::Response> {
                 auto inv = co_await host_.next();
                 if (!inv) {
                   co_return api_error(500, "InternalServerError", "The environment is shutting down");
                 }
                 http::Response r;
                 r.status = 200;
                 r.content_type = "application/json";
                 r.set_header("Lambda-Runtime-Aws-Request-Id", inv->request_id);
                 r.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(inv->deadline_ms));
                 r.set_header("Lambda-Runtime-Invoked-Function-Arn", inv->invoked_function_arn);
                 if (!inv->trace_id.empty()) r.set_header("Lambda-Runtime-Trace-Id", inv->trace_id);
                 if (!inv->client_context.empty()) {
                   r.set_header("Lambda-Runtime-Client-Context", inv->client_context);
                 }
                 if (!inv->cognito_identity.empty()) {
                   r.set_header("Lambda-Runtime-Cognito-Identity", inv->cognito_identity);
                 }
                 r.body = std::move(inv->payload);
                 co_return r;
               }});
  router_.add({.name = "ResponseStream",
               .method = "POST",
               .pattern = "/2018-06-01/runtime/invocation/{RequestId}/response",
               .body_limit = kMaxStreamedResponseBytes,
               .handler = [this](http::Request& req) { return stream_response(req); },
               .header_key = "lambda-runtime-function-response-mode",
               .header_prefix = "streaming",
               .stream_body = true});
  router_.add({.name = "Response",
               .method = "POST",
               .pattern = "/2018-06-01/runtime/invocation/{RequestId}/response",
               .body_limit = kEventLimit,
               .handler = [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
                 if (auto mode = req.header("lambda-runtime-function-response-mode");
                     mode && *mode != "buffered") {
                   // Streaming responses come with InvokeWithResponseStream; refuse clearly.
                   // The header's value is the runtime's: serialized, never pasted into JSON.
                   host_.error(
                       req.label("RequestId"),
                       boost::json::serialize(boost::json::object{
                           {"errorType", "Runtime.InvalidResponseModeHeader"},
                           {"errorMessage", "Response mode " + *mode + " is not supported"}}),
                       "Runtime.InvalidResponseModeHeader");
                   co_return api_error(400, "InvalidFunctionResponseMode",
                                       "Response mode " + *mode + " is not supported");
                 }
                 const std::string& id = req.label("RequestId");
                 co_return from_accept(host_.response(id, std::move(req.body)), id);
               }});
  router_.add({.name = "Error",
               .method = "POST",
               .pattern = "/2018-06-01/runtime/invocation/{RequestId}/error",
               .body_limit = kEventLimit,
               .handler = [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
                 const std::string& id = req.label("RequestId");
                 std::string type = normalize_error_type(
                     req.header("lambda-runtime-function-error-type").value_or(""));
                 co_return from_accept(host_.error(id, std::move(req.body), type), id);
               }});
  router_.add({.name = "InitError",
               .method = "POST",
               .pattern = "/2018-06-01/runtime/init/error",
               .body_limit = kEventLimit,
               .handler = [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
                 std::string type = normalize_error_type(
                     req.header("lambda-runtime-function-error-type").value_or(""));
                 co_return from_accept(host_.init_error(std::move(req.body), type), "");
               }});
  router_.set_error_responder([this](unsigned status, const std::string& message,
                                     const http::Route* route) {
    if (status == 413) {
      if (route && (route->name == "Response" || route->name == "ResponseStream")) {
        host_.response_too_large();
      }
      return api_error(413, "RequestEntityTooLarge",
                       "Payload size exceeded maximum allowed payload size (" +
                           std::to_string(kMaxResponseBytes) + " bytes).");
    }
    if (status == 404 || status == 405) return api_error(404, "NotFound", message);
    if (status == 400) return api_error(400, "InvalidRequest", message);
    return api_error(500, "InternalServerError", message);
  });
  // A runtime needs one connection (two while it posts a response from another thread); a
  // function that opens thousands must not take the server's descriptors. Idle connections (not
  // a request parked in /next: that one has no deadline) close after a minute; the runtime
  // clients reconnect.
  server_ = std::make_unique<http::Server>(
      ioc, router_,
      http::ServerOptions{.request_id_header = "",
                          .idle_timeout_seconds = kIdleConnectionSeconds,
                          .log_requests = false,
                          .max_connections = kMaxConnections,
                          .budget = shared_budget()});
}

std::shared_ptr<http::ConnectionBudget> RuntimeApiServer::shared_budget() {
  // The server's descriptors: half for the environments' Runtime API connections together, a
  // quarter for the API listener's clients (http::Server's own cap, server.cc), the rest for the
  // stores and the environments' pipes and pidfds.
  static const auto budget =
      std::make_shared<http::ConnectionBudget>(std::max<size_t>(256, descriptor_limit() / 2));
  return budget;
}

Result<void> RuntimeApiServer::start(int listening_fd) {
  LAMBENT_TRY_VOID(server_->adopt(listening_fd));
  server_->start();
  return {};
}

void RuntimeApiServer::stop(bool force) { server_->stop(force); }

boost::asio::awaitable<http::Response> RuntimeApiServer::stream_response(http::Request& req) {
  auto hold = host_.keep_alive();
  const std::string id = req.label("RequestId");
  if (req.header("lambda-runtime-function-response-mode") != "streaming") {
    std::string mode = req.header("lambda-runtime-function-response-mode").value_or("");
    host_.error(id,
                boost::json::serialize(boost::json::object{
                    {"errorType", "Runtime.InvalidResponseModeHeader"},
                    {"errorMessage", "Response mode " + mode + " is not supported"}}),
                "Runtime.InvalidResponseModeHeader");
    co_return api_error(400, "InvalidFunctionResponseMode",
                        "Response mode " + mode + " is not supported");
  }
  auto accepted_begin =
      host_.stream_begin(id, req.header("content-type").value_or("application/octet-stream"));
  if (accepted_begin != Host::Accept::kOk) co_return from_accept(accepted_begin, id);
  // The pieces go on as they arrive; once the caller no longer wants them, the rest is read and
  // dropped so that the runtime finishes its request normally.
  std::string buffer(64 * 1024, '\0');
  bool wanted = true;
  for (;;) {
    auto n = co_await req.body_stream->read(buffer.data(), buffer.size());
    if (!n) {
      if (n.error().code == Errc::kInvalidArgument) {  // over the limit
        host_.stream_end(
            id, "Function.ResponseSizeTooLarge",
            boost::json::serialize(boost::json::object{
                {"errorType", "Function.ResponseSizeTooLarge"},
                {"errorMessage", "Response payload size exceeded maximum allowed payload size (" +
                                     std::to_string(kMaxStreamedResponseBytes) + " bytes)."}}),
            false);
        co_return api_error(413, "RequestEntityTooLarge",
                            "Payload size exceeded maximum allowed payload size (" +
                                std::to_string(kMaxStreamedResponseBytes) + " bytes).");
      }
      host_.stream_end(id, "", "", true);
      co_return api_error(400, "InvalidRequest", n.error().message);
    }
    if (*n == 0) break;
    if (wanted) wanted = co_await host_.stream_write(id, std::string_view(buffer.data(), *n));
  }
  std::string type = normalize_error_type(
      req.body_stream->trailer("lambda-runtime-function-error-type").value_or(""));
  std::string body;
  if (auto b = req.body_stream->trailer("lambda-runtime-function-error-body")) {
    body = base64_decode(*b).value_or(*b);
  }
  host_.stream_end(id, std::move(type), std::move(body), false);
  co_return accepted();
}

}  // namespace lambent::runtime

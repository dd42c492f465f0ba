// Invoke: POST /2015-03-31/functions/{FunctionName}/invocations (compat §1.3, §2.5), and
// InvokeWithResponseStream: POST
// /2021-11-15/functions/{FunctionName}/response-streaming-invocations (the response as AWS
// event-stream messages while the function streams it).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "aws/event_stream.h"
#include "base/codec.h"
#include "base/offload.h"
#include "base/time.h"
#include "http/stream.h"
#include "invoke/streaming.h"
#include "services/lambda/errors.h"
#include "services/lambda/lambda_api.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kMaxClientContextBytes = 3583;
constexpr size_t kMaxAsyncPayloadBytes = 1'048'576;

}  // namespace

boost::asio::awaitable<LambdaApi::InvokeRequest> LambdaApi::read_invoke(http::Request& req,
                                                                        bool streaming) {
  InvokeRequest call;
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_, "functionName", 170);
  call.name = ref.name;
  call.qualifier = merge_qualifier(ref, req.query_param("Qualifier"));

  call.type = req.header("x-amz-invocation-type").value_or("RequestResponse");
  if (call.type != "RequestResponse" && call.type != "DryRun" &&
      (streaming || call.type != "Event")) {
    throw_validation(
        "1 validation error detected: Value '" + call.type +
        "' at 'invocationType' failed to satisfy constraint: Member must satisfy "
        "enum value set: " +
        (streaming ? "[RequestResponse, DryRun]" : "[Event, RequestResponse, DryRun]"));
  }
  std::string log_type = req.header("x-amz-log-type").value_or("None");
  if (log_type != "None" && log_type != "Tail") {
    throw_validation("1 validation error detected: Value '" + log_type +
                     "' at 'logType' failed to satisfy constraint: Member must satisfy enum "
                     "value set: [None, Tail]");
  }
  call.tail = log_type == "Tail";
  if (auto cc = req.header("x-amz-client-context")) {
    auto decoded = base64_decode(*cc);
    boost::system::error_code ec;
    if (decoded) json::parse(*decoded, ec);
    if (!decoded || ec || decoded->size() > kMaxClientContextBytes) {
      throw_invalid_parameter("Client context must be a valid Base64-encoded JSON object of at "
                              "most 3583 bytes.");
    }
    call.client_context = std::move(*decoded);
  }
  if (call.type == "Event" && req.body.size() > kMaxAsyncPayloadBytes) {
    throw lambda_error(413, "RequestEntityTooLargeException",
                   fmt::format("Request must be smaller than {} bytes for the InvokeAsync operation",
                               kMaxAsyncPayloadBytes));
  }

  // The payload must be JSON. Large ones are checked off the I/O thread.
  call.payload = std::move(req.body);
  if (call.payload.find_first_not_of(" \t\r\n") == std::string::npos) call.payload = "{}";
  auto parse_error = [](const std::string& p) {
    boost::system::error_code ec;
    json::parse(p, ec);
    return ec ? ec.message() : std::string();
  };
  // (No co_await inside a conditional expression: GCC 12 miscompiles that.)
  std::string bad;
  if (call.payload.size() > 64 * 1024) {
    const std::string& payload = call.payload;
    bad = co_await offload(deps_.pool, [&] { return parse_error(payload); });
  } else {
    bad = parse_error(call.payload);
  }
  if (!bad.empty()) {
    throw_invalid_content("Could not parse request body into json: Could not parse payload into "
                          "json: " + bad);
  }

  auto resolved = co_await deps_.invoker.resolve(call.name, call.qualifier);
  if (!resolved) {
    if (resolved.error().code == Errc::kNotFound) {
      throw_not_found("Function not found: " +
                      (call.qualifier ? names_.function_arn(call.name, *call.qualifier)
                                      : names_.function_arn(call.name)));
    }
    throw_error(resolved.error());
  }
  call.target = std::move(*resolved);
  co_return call;
}

invoke::InvokeInput LambdaApi::invoke_input(const http::Request& req, InvokeRequest& call) const {
  invoke::InvokeInput input;
  input.request_id = req.request_id;
  input.payload = std::move(call.payload);
  input.invoked_function_arn = call.qualifier ? names_.function_arn(call.name, *call.qualifier)
                                              : names_.function_arn(call.name);
  input.trace_id = req.header("x-amzn-trace-id").value_or(invoke::new_trace_id());
  input.client_context = std::move(call.client_context);
  input.qualifier = call.qualifier.value_or("");
  return input;
}

std::optional<http::Response> invoke_failure(const invoke::InvokeResult& result) {
  switch (result.status) {
    case invoke::InvokeResult::kOk:
      return std::nullopt;
    case invoke::InvokeResult::kThrottled: {
      auto e = lambda_error(429, "TooManyRequestsException", "Rate Exceeded.");
      e.extra.emplace_back("Reason", result.reason.empty()
                                         ? std::string("ConcurrentInvocationLimitExceeded")
                                         : result.reason);
      http::Response r = error_response(e);
      r.set_header("Retry-After", "1");
      return r;
    }
    case invoke::InvokeResult::kInvalidRuntime:
      throw lambda_error(502, "InvalidRuntimeException", result.message, true);
    case invoke::InvokeResult::kServiceError:
      throw_service(result.message);
  }
  return std::nullopt;
}

boost::asio::awaitable<http::Response> LambdaApi::invoke(http::Request& req) {
  InvokeRequest call = co_await read_invoke(req, false);
  if (call.type == "DryRun") {
    http::Response r;
    r.status = 204;
    co_return r;
  }
  if (call.type == "Event") {
    // Stored durably before the 202: from here the event runs at least once.
    store::AsyncEvent e;
    e.id = req.request_id;
    e.function = call.name;
    e.qualifier = call.qualifier.value_or("");
    e.payload = std::move(call.payload);
    e.received_ms = now_ms();
    e.due_ms = e.received_ms;
    auto store_event = [this, e] { return enqueue_async(e); };  // named: see offload.h
    auto stored = co_await offload(deps_.pool, std::move(store_event));
    if (!stored) throw_error(stored.error());
    if (deps_.metrics) deps_.metrics->count("AsyncEventsReceived", call.name, 1);
    if (deps_.async) deps_.async->wake();
    http::Response r;
    r.status = 202;
    co_return r;
  }

  invoke::InvokeInput input = invoke_input(req, call);
  invoke::InvokeResult result = co_await deps_.invoker.invoke(call.target, std::move(input));
  if (auto failed = invoke_failure(result)) co_return std::move(*failed);
  const auto& out = result.outcome;
  http::Response r;
  r.status = 200;
  r.content_type = "application/json";
  r.set_header("X-Amz-Executed-Version", out.executed_version);
  if (out.kind != scheduler::Outcome::kSuccess) r.set_header("X-Amz-Function-Error", "Unhandled");
  if (call.tail) r.set_header("X-Amz-Log-Result", base64_encode(out.log_tail));
  r.body = out.payload;
  co_return r;
}

namespace {

// InvokeWithResponseStream's body: a PayloadChunk event per piece as the function streams it
// (or its buffered response, in pieces), then one InvokeComplete.
class EventStreamBody final : public http::BodySource {
 public:
  EventStreamBody(std::unique_ptr<invoke::StreamingCall> call, bool tail)
      : call_(std::move(call)), tail_(tail) {}

  boost::asio::awaitable<Result<std::string_view>> next() override {
    if (done_) co_return std::string_view();
    if (auto piece = co_await call_->read()) {
      current_ = chunk_event(*piece);
      co_return std::string_view(current_);
    }
    const invoke::InvokeResult& result = *call_->result();
    const scheduler::Outcome& out = result.outcome;
    // A response the runtime posted whole comes out here, in pieces of at most 256 KiB.
    if (out.kind == scheduler::Outcome::kSuccess && !out.payload.empty() &&
        sent_payload_ < out.payload.size()) {
      size_t n = std::min<size_t>(256 * 1024, out.payload.size() - sent_payload_);
      current_ = chunk_event(std::string_view(out.payload).substr(sent_payload_, n));
      sent_payload_ += n;
      co_return std::string_view(current_);
    }
    json::object complete;
    if (result.status != invoke::InvokeResult::kOk) {
      complete["ErrorCode"] = result.status == invoke::InvokeResult::kThrottled
                                  ? "TooManyRequestsException"
                                  : "ServiceException";
      complete["ErrorDetails"] = result.message.empty() ? "Rate Exceeded." : result.message;
    } else if (out.kind != scheduler::Outcome::kSuccess) {
      // The error the runtime reported (its trailers, or its /error body): errorType and
      // errorMessage as the code and details.
      std::string code = "Unhandled", details = out.payload;
      boost::system::error_code ec;
      json::value v = json::parse(out.payload, ec);
      if (!ec && v.is_object()) {
        if (auto* t = v.as_object().if_contains("errorType"); t && t->is_string()) {
          code = std::string(t->as_string());
        }
        if (auto* m = v.as_object().if_contains("errorMessage"); m && m->is_string()) {
          details = std::string(m->as_string());
        }
      }
      complete["ErrorCode"] = code;
      complete["ErrorDetails"] = details;
    }
    if (tail_) complete["LogResult"] = base64_encode(out.log_tail);
    std::string body = json::serialize(complete);
    current_ = aws::encode_event_message({{":event-type", "InvokeComplete"},
                                          {":content-type", "application/json"},
                                          {":message-type", "event"}},
                                         body);
    done_ = true;
    co_return std::string_view(current_);
  }

 private:
  static std::string chunk_event(std::string_view bytes) {
    return aws::encode_event_message({{":event-type", "PayloadChunk"},
                                      {":content-type", "application/octet-stream"},
                                      {":message-type", "event"}},
                                     bytes);
  }

  std::unique_ptr<invoke::StreamingCall> call_;
  bool tail_;
  std::string current_;
  size_t sent_payload_ = 0;
  bool done_ = false;
};

}  // namespace

boost::asio::awaitable<http::Response> LambdaApi::invoke_with_response_stream(http::Request& req) {
  InvokeRequest call = co_await read_invoke(req, true);
  if (call.type == "DryRun") {
    http::Response r;
    r.status = 204;
    co_return r;
  }
  const std::string executed = call.target.version->version;
  invoke::InvokeInput input = invoke_input(req, call);
  auto executor = co_await boost::asio::this_coro::executor;
  auto streaming =
      invoke::StreamingCall::start(executor, deps_.invoker, call.target, std::move(input));
  // Errors before the function ran (throttling, a runtime this node lacks) are plain errors;
  // from the first byte on, failures are reported inside the stream.
  co_await streaming->wait_begun();
  if (!streaming->streamed() && streaming->result()) {
    if (auto failed = invoke_failure(*streaming->result())) co_return std::move(*failed);
  }
  http::Response r;
  r.status = 200;
  r.content_type = "application/vnd.amazon.eventstream";
  r.set_header("X-Amz-Executed-Version", executed);
  r.stream = std::make_shared<EventStreamBody>(std::move(streaming), call.tail);
  co_return r;
}

Result<void> LambdaApi::enqueue_async(const store::AsyncEvent& e) {
  return deps_.store.enqueue_event(e);
}

}  // namespace lambent::lambda

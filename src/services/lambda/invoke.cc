// Invoke: POST /2015-03-31/functions/{FunctionName}/invocations (compat §1.3, §2.5).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "services/lambda/errors.h"
#include "services/lambda/lambda_api.h"
#include "base/codec.h"
#include "base/time.h"
#include "base/offload.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kMaxClientContextBytes = 3583;
constexpr size_t kMaxAsyncPayloadBytes = 1'048'576;

}  // namespace

boost::asio::awaitable<http::Response> LambdaApi::invoke(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_, "functionName", 170);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));

  std::string type = req.header("x-amz-invocation-type").value_or("RequestResponse");
  if (type != "RequestResponse" && type != "Event" && type != "DryRun") {
    throw_validation("1 validation error detected: Value '" + type +
                     "' at 'invocationType' failed to satisfy constraint: Member must satisfy "
                     "enum value set: [Event, RequestResponse, DryRun]");
  }
  std::string log_type = req.header("x-amz-log-type").value_or("None");
  if (log_type != "None" && log_type != "Tail") {
    throw_validation("1 validation error detected: Value '" + log_type +
                     "' at 'logType' failed to satisfy constraint: Member must satisfy enum "
                     "value set: [None, Tail]");
  }
  std::string client_context;
  if (auto cc = req.header("x-amz-client-context")) {
    auto decoded = base64_decode(*cc);
    boost::system::error_code ec;
    if (decoded) json::parse(*decoded, ec);
    if (!decoded || ec || decoded->size() > kMaxClientContextBytes) {
      throw_invalid_parameter("Client context must be a valid Base64-encoded JSON object of at "
                              "most 3583 bytes.");
    }
    client_context = std::move(*decoded);
  }
  if (type == "Event" && req.body.size() > kMaxAsyncPayloadBytes) {
    throw lambda_error(413, "RequestEntityTooLargeException",
                   fmt::format("Request must be smaller than {} bytes for the InvokeAsync operation",
                               kMaxAsyncPayloadBytes));
  }

  // The payload must be JSON. Large ones are checked off the I/O thread.
  std::string payload = std::move(req.body);
  if (payload.find_first_not_of(" \t\r\n") == std::string::npos) payload = "{}";
  auto parse_error = [](const std::string& p) {
    boost::system::error_code ec;
    json::parse(p, ec);
    return ec ? ec.message() : std::string();
  };
  // (No co_await inside a conditional expression: GCC 12 miscompiles that.)
  std::string bad;
  if (payload.size() > 64 * 1024) {
    bad = co_await offload(deps_.pool, [&] { return parse_error(payload); });
  } else {
    bad = parse_error(payload);
  }
  if (!bad.empty()) {
    throw_invalid_content("Could not parse request body into json: Could not parse payload into "
                          "json: " + bad);
  }

  auto resolved = co_await deps_.invoker.resolve(ref.name, qualifier);
  if (!resolved) {
    if (resolved.error().code == Errc::kNotFound) {
      throw_not_found("Function not found: " +
                      (qualifier ? names_.function_arn(ref.name, *qualifier)
                                 : names_.function_arn(ref.name)));
    }
    throw_error(resolved.error());
  }
  if (type == "DryRun") {
    http::Response r;
    r.status = 204;
    co_return r;
  }
  if (type == "Event") {
    // Stored durably before the 202: from here the event runs at least once.
    store::AsyncEvent e;
    e.id = req.request_id;
    e.function = ref.name;
    e.qualifier = qualifier.value_or("");
    e.payload = std::move(payload);
    e.received_ms = now_ms();
    e.due_ms = e.received_ms;
    auto store_event = [this, e] { return enqueue_async(e); };  // named: see offload.h
    auto stored = co_await offload(deps_.pool, std::move(store_event));
    if (!stored) throw_error(stored.error());
    if (deps_.metrics) deps_.metrics->count("AsyncEventsReceived", ref.name, 1);
    if (deps_.async) deps_.async->wake();
    http::Response r;
    r.status = 202;
    co_return r;
  }

  invoke::InvokeInput input;
  input.request_id = req.request_id;
  input.payload = std::move(payload);
  input.invoked_function_arn =
      qualifier ? names_.function_arn(ref.name, *qualifier) : names_.function_arn(ref.name);
  input.trace_id = req.header("x-amzn-trace-id").value_or(invoke::new_trace_id());
  input.client_context = std::move(client_context);
  input.qualifier = qualifier.value_or("");
  invoke::InvokeResult result = co_await deps_.invoker.invoke(*resolved, std::move(input));

  switch (result.status) {
    case invoke::InvokeResult::kOk:
      break;
    case invoke::InvokeResult::kThrottled: {
      auto e = lambda_error(429, "TooManyRequestsException", "Rate Exceeded.");
      e.extra.emplace_back("Reason", result.reason.empty()
                                              ? std::string("ConcurrentInvocationLimitExceeded")
                                              : result.reason);
      http::Response r = error_response(e);
      r.set_header("Retry-After", "1");
      co_return r;
    }
    case invoke::InvokeResult::kInvalidRuntime:
      throw lambda_error(502, "InvalidRuntimeException", result.message, true);
    case invoke::InvokeResult::kServiceError:
      throw_service(result.message);
  }
  const auto& out = result.outcome;
  http::Response r;
  r.status = 200;
  r.content_type = "application/json";
  r.set_header("X-Amz-Executed-Version", out.executed_version);
  if (out.kind != scheduler::Outcome::kSuccess) r.set_header("X-Amz-Function-Error", "Unhandled");
  if (log_type == "Tail") r.set_header("X-Amz-Log-Result", base64_encode(out.log_tail));
  r.body = out.payload;
  co_return r;
}

Result<void> LambdaApi::enqueue_async(const store::AsyncEvent& e) {
  return deps_.store.enqueue_event(e);
}

}  // namespace lambent::lambda

// What an invocation asks for and what comes back, shared by the invoke path, the environment
// contract and the callers (Invoke API, async dispatcher, event source pollers).
#pragma once

#include <memory>
#include <string>

#include "scheduler/environment.h"
#include "store/function.h"

namespace lambent::invoke {

struct Resolved {
  std::shared_ptr<const store::Function> function;
  // Points into *function. For an alias with weighted routing, the version this invocation
  // was routed to (chosen by weight).
  const store::FunctionVersion* version = nullptr;
  const store::Alias* alias = nullptr;  // when the qualifier named an alias
};

struct InvokeInput {
  std::string request_id;
  std::string payload;
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;  // decoded JSON
  std::string qualifier;       // as the caller gave it ("" = unqualified), for metrics
  // A Lambda@Edge replica's region ("" = the function itself): see EnvironmentContract.
  std::string replica;
  // Set by callers that stream the response on (streaming.h): a streamed response's bytes go
  // there as the runtime posts them.
  std::shared_ptr<scheduler::ResponseStream> stream;
};

struct InvokeResult {
  enum Status { kOk, kThrottled, kInvalidRuntime, kServiceError } status = kOk;
  std::string message;  // for the error statuses
  std::string reason;   // kThrottled: the TooManyRequestsException Reason
  scheduler::Outcome outcome;
};

}  // namespace lambent::invoke

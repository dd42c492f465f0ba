// Lambda's errors: the error shapes handlers throw (aws::ServiceError, written by the protocol
// layer in rest-json: `x-amzn-ErrorType`, the model's status, {"Type", "message"|"Message"} with
// the member casing of each shape — botocore and the JS SDK read either), and the one mapping of
// `Errc` values from the store and the code store to them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aws/error.h"
#include "aws/protocol.h"
#include "base/error.h"
#include "http/message.h"

namespace lambent::lambda {

// Lambda's description for the protocol layer (signing name "lambda", rest-json).
const aws::ServiceInfo& service_info();

// An error shape; `capital_message` for the shapes whose member is "Message".
aws::ServiceError lambda_error(unsigned status, std::string code, std::string message,
                               bool capital_message = false);

[[noreturn]] void throw_not_found(const std::string& message);
[[noreturn]] void throw_conflict(const std::string& message);
[[noreturn]] void throw_invalid_parameter(const std::string& message);
[[noreturn]] void throw_validation(const std::string& message);
// ValidationException listing every violation, as AWS does: "2 validation errors detected: a; b".
[[noreturn]] void throw_validation_errors(const std::vector<std::string>& violations);
// The violation of a required member that is absent: "Value null at '<field>' failed to satisfy
// constraint: Member must not be null"; throw_null throws it alone.
std::string null_violation(std::string_view field);
[[noreturn]] void throw_null(const std::string& field);
[[noreturn]] void throw_invalid_content(const std::string& message);
[[noreturn]] void throw_precondition_failed(const std::string& message);
[[noreturn]] void throw_service(const std::string& message);
[[noreturn]] void throw_error(const Error& e);

// Unwraps a Result or throws the matching AWS error.
template <class T>
T unwrap(Result<T>&& r) {
  if (!r) throw_error(r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

// The error as a response, outside the dispatcher (router errors, the invoke path's 429).
http::Response error_response(const aws::ServiceError& e);

}  // namespace lambent::lambda

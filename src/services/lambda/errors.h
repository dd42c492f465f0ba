// AWS error responses for the Lambda API: the error name in `x-amzn-ErrorType`, the model's HTTP
// status, and a JSON body {"Type": "User"|"Service", "message"|"Message": ...} with the member casing
// of each error shape (botocore and the JS SDK read either). Handlers throw ApiError; the route
// wrapper in lambda_api.cc is the one place that catches it.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "http/message.h"

namespace lambent::api {

struct ApiError : std::runtime_error {
  ApiError(unsigned status, std::string type, std::string message, bool capital_message = false)
      : std::runtime_error(message),
        status(status),
        type(std::move(type)),
        capital_message(capital_message) {}

  unsigned status;
  std::string type;
  bool capital_message;  // body member "Message" instead of "message"
  std::vector<std::pair<std::string, std::string>> extra_body;  // e.g. Reason
};

[[noreturn]] void throw_not_found(const std::string& message);
[[noreturn]] void throw_conflict(const std::string& message);
[[noreturn]] void throw_invalid_parameter(const std::string& message);
[[noreturn]] void throw_validation(const std::string& message);
// ValidationException listing every violation, as AWS does: "2 validation errors detected: a; b".
[[noreturn]] void throw_validation_errors(const std::vector<std::string>& violations);
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

http::Response error_response(const ApiError& e);

}  // namespace lambent::api

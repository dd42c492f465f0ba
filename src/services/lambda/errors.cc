#include "services/lambda/errors.h"

#include "base/log.h"

namespace lambent::lambda {

const aws::ServiceInfo& service_info() {
  static const aws::ServiceInfo info{
      .name = "lambda", .protocol = aws::Protocol::kRestJson, .skew_seconds = 300};
  return info;
}

aws::ServiceError lambda_error(unsigned status, std::string code, std::string message,
                               bool capital_message) {
  aws::ServiceError e(status, std::move(code), std::move(message));
  if (capital_message) e.message_member = "Message";
  return e;
}

void throw_not_found(const std::string& m) {
  throw lambda_error(404, "ResourceNotFoundException", m, true);
}
void throw_conflict(const std::string& m) { throw lambda_error(409, "ResourceConflictException", m); }
void throw_invalid_parameter(const std::string& m) {
  throw lambda_error(400, "InvalidParameterValueException", m);
}
void throw_validation(const std::string& m) { throw lambda_error(400, "ValidationException", m); }
void throw_validation_errors(const std::vector<std::string>& violations) {
  std::string msg = std::to_string(violations.size()) + " validation error" +
                    (violations.size() == 1 ? "" : "s") + " detected: ";
  for (size_t i = 0; i < violations.size(); ++i) msg += (i ? "; " : "") + violations[i];
  throw_validation(msg);
}
std::string null_violation(std::string_view field) {
  return "Value null at '" + std::string(field) +
         "' failed to satisfy constraint: Member must not be null";
}
void throw_null(const std::string& field) { throw_validation_errors({null_violation(field)}); }
void throw_invalid_content(const std::string& m) {
  throw lambda_error(400, "InvalidRequestContentException", m);
}
void throw_precondition_failed(const std::string& m) {
  throw lambda_error(412, "PreconditionFailedException", m);
}
void throw_service(const std::string& m) { throw lambda_error(500, "ServiceException", m, true); }

void throw_error(const Error& e) {
  switch (e.code) {
    case Errc::kNotFound:
      throw_not_found(e.message);
    case Errc::kAlreadyExists:
    case Errc::kConflict:
      throw_conflict(e.message);
    case Errc::kPreconditionFailed:
      throw_precondition_failed(e.message);
    case Errc::kInvalidArgument:
      throw_invalid_parameter(e.message);
    case Errc::kCorrupt:
    case Errc::kIo:
    case Errc::kInternal:
      break;
  }
  // Internal detail goes to the log, not to the client.
  log::error("service error: {}", e.message);
  throw_service("An internal error occurred. See the server log for details.");
}

http::Response error_response(const aws::ServiceError& e) {
  return aws::error_response(service_info(), aws::Protocol::kRestJson, e, "");
}

}  // namespace lambent::lambda

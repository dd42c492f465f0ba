#include "services/lambda/errors.h"

#include <boost/json.hpp>

#include "base/log.h"

namespace lambent::api {

void throw_not_found(const std::string& m) { throw ApiError(404, "ResourceNotFoundException", m, true); }
void throw_conflict(const std::string& m) { throw ApiError(409, "ResourceConflictException", m); }
void throw_invalid_parameter(const std::string& m) {
  throw ApiError(400, "InvalidParameterValueException", m);
}
void throw_validation(const std::string& m) { throw ApiError(400, "ValidationException", m); }
void throw_validation_errors(const std::vector<std::string>& violations) {
  std::string msg = std::to_string(violations.size()) + " validation error" +
                    (violations.size() == 1 ? "" : "s") + " detected: ";
  for (size_t i = 0; i < violations.size(); ++i) msg += (i ? "; " : "") + violations[i];
  throw_validation(msg);
}
void throw_invalid_content(const std::string& m) {
  throw ApiError(400, "InvalidRequestContentException", m);
}
void throw_precondition_failed(const std::string& m) {
  throw ApiError(412, "PreconditionFailedException", m);
}
void throw_service(const std::string& m) { throw ApiError(500, "ServiceException", m, true); }

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

http::Response error_response(const ApiError& e) {
  boost::json::object body;
  body["Type"] = e.status >= 500 ? "Service" : "User";
  body[e.capital_message ? "Message" : "message"] = e.what();
  for (const auto& [k, v] : e.extra_body) body[k] = v;
  http::Response r;
  r.status = e.status;
  r.content_type = "application/json";
  r.set_header("x-amzn-ErrorType", e.type);
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace lambent::api

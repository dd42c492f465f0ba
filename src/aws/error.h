// The one exception of the service edge. Below the services (queue/, telemetry/, invoke/, store/)
// expected failures are values; a service handler turns them into a ServiceError — the error
// shape's name in the service model, its HTTP status and the message — and throws it. The
// operation dispatcher (aws/service.h) is the one place that catches it and writes it in the
// wire shape of the protocol the request came in (aws/protocol.h).
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambent::aws {

struct ServiceError : std::exception {
  ServiceError(unsigned status, std::string code, std::string message)
      : status(status), code(std::move(code)), message(std::move(message)) {}

  const char* what() const noexcept override { return message.c_str(); }
  // Client fault ("Sender", "User") below 500; the service's own ("Receiver", "Service") above.
  bool sender() const { return status < 500; }

  unsigned status;
  std::string code;     // the error shape's name: ResourceNotFoundException, QueueDoesNotExist
  std::string message;
  // awsQueryCompatible services (SQS): the code the query protocol uses for this shape, when it
  // differs (AWS.SimpleQueueService.NonExistentQueue); also sent as x-amzn-query-error in JSON.
  std::string query_code;
  // rest-json: the body member that carries the message ("message"; some Lambda shapes use
  // "Message").
  std::string message_member = "message";
  // Further members of the error body (Lambda's TooManyRequestsException: Reason).
  std::vector<std::pair<std::string, std::string>> extra;
};

// The model-validation refusal AWS's front ends write, e.g. "1 validation error detected: Value
// 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or
// equal to 2" (IAM and STS answer it as 400 ValidationError).
inline ServiceError validation_error(std::string_view value, std::string_view member,
                                     std::string_view constraint,
                                     std::string code = "ValidationError") {
  std::string message = "1 validation error detected: Value '";
  message.append(value).append("' at '").append(member).append("' failed to satisfy constraint: ");
  message.append(constraint);
  return ServiceError(400, std::move(code), std::move(message));
}

}  // namespace lambent::aws

#include "aws/auth.h"

#include "base/codec.h"

namespace lambent::aws {

namespace {

struct Codes {
  const char* rest_json;  // rest-json and JSON
  const char* query;
  unsigned rest_status;  // rest-json and query (JSON services answer 400)
  unsigned query_status;
};

Codes codes(sigv4::Failure f) {
  switch (f) {
    case sigv4::Failure::kMissing:
      return {"MissingAuthenticationTokenException", "MissingAuthenticationToken", 403, 403};
    case sigv4::Failure::kIncomplete:
      return {"IncompleteSignatureException", "IncompleteSignature", 403, 400};
    case sigv4::Failure::kUnknownKey:
      return {"UnrecognizedClientException", "InvalidClientTokenId", 403, 403};
    case sigv4::Failure::kExpiredToken:
      return {"ExpiredTokenException", "ExpiredToken", 403, 403};
    case sigv4::Failure::kMismatch:
      break;
  }
  return {"InvalidSignatureException", "SignatureDoesNotMatch", 403, 403};
}

ServiceError shaped(const ServiceInfo& service, Protocol protocol, const char* json_code,
                    const std::string& query_code, unsigned rest_status, unsigned query_status,
                    std::string message) {
  switch (protocol) {
    case Protocol::kRestJson:
      return ServiceError(rest_status, json_code, std::move(message));
    case Protocol::kJson: {
      ServiceError e(400, json_code, std::move(message));
      // awsQueryCompatible services (SQS) also name it as their query protocol does.
      if (!service.xmlns.empty()) e.query_code = query_code;
      return e;
    }
    case Protocol::kQuery:
    case Protocol::kRestXml:
      break;
  }
  return ServiceError(query_status, query_code, std::move(message));
}

}  // namespace

ServiceError auth_error(const ServiceInfo& service, Protocol protocol,
                        const sigv4::AuthFailure& failure) {
  Codes c = codes(failure.kind);
  std::string message = failure.message;
  if (failure.kind == sigv4::Failure::kMissing && protocol != Protocol::kRestJson) {
    message = "Request is missing Authentication Token";
  }
  return shaped(service, protocol, c.rest_json, c.query, c.rest_status, c.query_status,
                std::move(message));
}

ServiceError access_denied(const ServiceInfo& service, Protocol protocol, const Denial& denial) {
  return shaped(service, protocol, "AccessDeniedException", service.access_denied_query_code, 403,
                403, denial.message);
}

std::shared_ptr<const Caller> caller_of(const http::Request& req) {
  return std::static_pointer_cast<const Caller>(req.principal);
}

void set_caller(http::Request& req, std::shared_ptr<const Caller> caller) {
  req.principal = std::move(caller);
}

void authenticate_request(Guard* guard, const ServiceInfo& service, http::Request& req,
                          Protocol protocol) {
  if (!guard || req.principal) return;
  char digest[64];
  hex_encode_to(as_bytes(sha256(req.body)), digest);
  auto result = guard->authenticate(req, service, std::string_view(digest, sizeof digest));
  if (result.failure) throw auth_error(service, protocol, *result.failure);
  set_caller(req, std::move(result.caller));
}

void authorize_more(Guard* guard, const ServiceInfo& service, Protocol protocol,
                    const http::Request& req, const std::vector<Access>& accesses) {
  if (!guard) return;
  auto caller = caller_of(req);
  if (!caller) throw internal_error();  // authenticate first
  for (const auto& access : accesses) {
    if (auto denial = guard->authorize(*caller, access, req)) {
      throw access_denied(service, protocol, *denial);
    }
  }
}

void check_request(Guard* guard, const ServiceInfo& service, Protocol protocol, http::Request& req,
                   const std::vector<Access>& accesses) {
  authenticate_request(guard, service, req, protocol);
  authorize_more(guard, service, protocol, req, accesses);
}

}  // namespace lambent::aws

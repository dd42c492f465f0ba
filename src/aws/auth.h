// Authentication and authorization as the protocol layer sees them: who is calling (Caller),
// what a request asks to do (Access: an IAM action on a resource ARN, with condition keys), and
// the Guard that decides — implemented by iam::AccessControl (SigV4 against the account's keys,
// IAM policy evaluation). The protocol layer calls it once for every operation of every
// service, before the handler runs, and writes refusals in each protocol's words (auth_error).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/error.h"
#include "aws/protocol.h"
#include "aws/sigv4.h"
#include "http/message.h"

namespace lambent::aws {

// The authenticated caller.
struct Caller {
  std::string
      arn;  // arn:aws:iam::<a>:root | …:user/<path>name | arn:aws:sts::<a>:assumed-role/<r>/<s>
  std::string user_id;  // <account> | AIDA… | AROA…:<session>
  std::string account;
  std::string type;  // "Account", "User", "AssumedRole"
  std::string access_key_id;
  std::string name;            // user name, or role name for sessions
  std::string role_arn;        // sessions: the role's ARN (aws:PrincipalArn)
  std::string session_name;    // sessions
  int64_t token_issued = 0;    // sessions: Unix seconds
  std::string session_policy;  // sessions: the inline session policy, or ""
  bool root = false;
};

// What one operation asks to do. An operation may need several (CreateFunction: the function,
// and iam:PassRole on its role).
struct Access {
  std::string action;                                     // "lambda:InvokeFunction"
  std::string resource;                                   // ARN, or "*"
  std::vector<std::pair<std::string, std::string>> keys;  // service condition keys
};

// A refusal of authorization: AWS's message ("User: … is not authorized to perform: …").
struct Denial {
  std::string message;
};

class Guard {
 public:
  virtual ~Guard() = default;
  // Checks the request's signature for `service` (its signing name, region and time window).
  // `body_sha256_hex` is the digest of the body as received.
  struct Authenticated {
    std::shared_ptr<const Caller> caller;
    std::optional<sigv4::AuthFailure> failure;
    // The derived signing key the request was verified with (S3: to verify the signatures of
    // an aws-chunked body's chunks).
    std::shared_ptr<const HmacSha256> signing_key;
  };
  virtual Authenticated authenticate(const http::Request& req, const ServiceInfo& service,
                                     std::string_view body_sha256_hex) = 0;
  // May `caller` do `access`? nullopt when allowed.
  virtual std::optional<Denial> authorize(const Caller& caller, const Access& access,
                                          const http::Request& req) = 0;
  // May an unauthenticated request do `access`? Only a resource policy granting everyone
  // (Principal "*") allows it (S3's public buckets).
  virtual std::optional<Denial> authorize_anonymous(const Access& access,
                                                    const http::Request& req) {
    (void)access;
    (void)req;
    return Denial{"Access Denied"};
  }
};

// The refusal in the service's words: codes and statuses per protocol (rest-json 403
// MissingAuthenticationTokenException …, JSON 400 …, query 403 MissingAuthenticationToken …).
ServiceError auth_error(const ServiceInfo& service, Protocol protocol,
                        const sigv4::AuthFailure& failure);
ServiceError access_denied(const ServiceInfo& service, Protocol protocol, const Denial& denial);

// The caller the protocol layer attached to a request (null before authentication, or when
// authentication is off).
std::shared_ptr<const Caller> caller_of(const http::Request& req);
void set_caller(http::Request& req, std::shared_ptr<const Caller> caller);

// Authenticates and authorizes one request: throws the service's ServiceError when refused;
// otherwise attaches the caller to the request. A null guard lets everything through (the
// `--auth open` mode). `accesses` may be empty when the handler authorizes itself
// (authorize_more, after it has read what it needs from the body).
void check_request(Guard* guard, const ServiceInfo& service, Protocol protocol, http::Request& req,
                   const std::vector<Access>& accesses);
// Authorizes further accesses for a request already authenticated by check_request.
void authorize_more(Guard* guard, const ServiceInfo& service, Protocol protocol,
                    const http::Request& req, const std::vector<Access>& accesses);
// Authentication only (the body digest included).
void authenticate_request(Guard* guard, const ServiceInfo& service, http::Request& req,
                          Protocol protocol);

}  // namespace lambent::aws

// IAM policy documents and their evaluation within one account, as the IAM User Guide documents
// it ("Policy evaluation logic"): an explicit Deny anywhere wins; else an Allow in a resource
// policy that names the caller (or everyone, or the calling service) suffices; else an Allow in
// the caller's identity policies, capped by a permissions boundary when there is one; else
// implicit deny. The account's root is allowed unless explicitly denied by a resource policy.
//
// Policies are parsed once (parse_policy, with IAM's MalformedPolicyDocument messages) and
// evaluated many times against a request Context.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace lambent::iam {

enum class PolicyKind {
  kIdentity,  // user, role, managed: no Principal, Resource required
  kResource,  // function, queue, layer, topic, bucket: Principal required
  kTrust,     // a role's assume-role policy: Principal required, no Resource
};

struct Condition {
  std::string op;  // base operator, e.g. "StringLike", "NumericLessThan", "Null"
  bool if_exists = false;
  enum class Set { kNone, kAnyValue, kAllValues } set = Set::kNone;
  std::string key;  // lower-cased: condition keys are case-insensitive
  std::vector<std::string> values;
};

struct Statement {
  std::string sid;
  bool allow = true;
  // Principal / NotPrincipal (resource and trust policies).
  bool has_principal = false;
  bool not_principal = false;
  bool principal_any = false;              // "*" or {"AWS":"*"}
  std::vector<std::string> principal_aws;  // ARNs or account ids, as written
  std::vector<std::string> principal_service;
  bool not_action = false;
  std::vector<std::string> actions;
  bool has_resource = false;
  bool not_resource = false;
  std::vector<std::string> resources;
  std::vector<Condition> conditions;
};

struct Policy {
  std::string version;  // "2012-10-17" (variables substituted) or "2008-10-17"
  std::vector<Statement> statements;
  // Some statement has a condition or a policy variable: evaluation reads condition keys.
  bool needs_context = false;
};

// kInvalidArgument with IAM's MalformedPolicyDocument message.
Result<Policy> parse_policy(std::string_view document, PolicyKind kind);

// Who is asking for what. Condition keys are lower-cased; a key may have several values
// (multi-valued keys such as aws:TagKeys).
struct Context {
  std::string action;    // "lambda:InvokeFunction"
  std::string resource;  // an ARN, or "*"
  // The caller: "arn:aws:iam::<a>:user/<path>name", "arn:aws:iam::<a>:root", or the session ARN
  // "arn:aws:sts::<a>:assumed-role/<role>/<session>" (then role_arn is the role's ARN). Empty
  // when a service principal (service) calls on its own behalf.
  std::string principal_arn;
  std::string role_arn;
  std::string service;  // "s3.amazonaws.com" when a service calls
  std::string account;
  bool root = false;
  std::map<std::string, std::vector<std::string>> keys;

  void set(std::string key, std::string value);  // lower-cases the key
};

enum class Decision { kAllow, kExplicitDeny, kImplicitDeny };

// Which policies apply to a request.
struct Applicable {
  std::vector<const Policy*> identity;  // the caller's inline and attached policies
  const Policy* resource = nullptr;     // the resource's policy, if it has one
  const Policy* boundary = nullptr;     // the caller's permissions boundary, if any
  const Policy* session = nullptr;      // an AssumeRole session policy, if any
};

struct Evaluation {
  Decision decision = Decision::kImplicitDeny;
  // For AWS's message: "identity-based", "resource-based", "permissions boundary",
  // "session policy".
  std::string policy_type = "identity-based";
};
Evaluation evaluate(const Applicable& policies, const Context& ctx);

// A role's trust policy, for sts:AssumeRole (by a caller) or a service assuming it: the trust
// policy must allow the caller explicitly. When it names only the account, the caller's
// identity policies must allow the action too (`identity_allows`).
Evaluation evaluate_trust(const Policy& trust, const Context& ctx, bool identity_allows);

// "User: <arn> is not authorized to perform: <action> on resource: <arn> because no
// identity-based policy allows the <action> action" (or "with an explicit deny in a … policy").
std::string denied_message(const Evaluation& e, const Context& ctx);

// Glob matching as IAM does it: '*' any run, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text, bool ignore_case);

}  // namespace lambent::iam

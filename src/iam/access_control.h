// The Guard of every AWS-compatible API: SigV4 against the account's access keys (long-term
// keys and STS session tokens), then IAM policy evaluation of the operation's action and
// resource with the caller's identity policies, the resource's own policy (functions, layer
// versions, queues: registered by their services), the permissions boundary and the session
// policy.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "aws/auth.h"
#include "aws/sigv4.h"
#include "iam/directory.h"
#include "iam/policy.h"

namespace lambent::iam {

class AccessControl final : public aws::Guard {
 public:
  explicit AccessControl(Directory& directory) : directory_(directory) {}

  // The policy document of a resource by its ARN (nullopt: none), for ARNs of `service`
  // ("lambda", "sqs"). Called on the request's thread; must be cheap or cached.
  using ResourcePolicyOf = std::function<std::optional<std::string>(std::string_view arn)>;
  void add_resource_policies(std::string service, ResourcePolicyOf of);

  Authenticated authenticate(const http::Request& req, const aws::ServiceInfo& service,
                             std::string_view body_sha256_hex) override;
  std::optional<aws::Denial> authorize(const aws::Caller& caller, const aws::Access& access,
                                       const http::Request& req) override;
  std::optional<aws::Denial> authorize_anonymous(const aws::Access& access,
                                                 const http::Request& req) override;

  // May `service` ("s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com"), acting for
  // `source_arn` of `source_account`, do `access`? Service principals have no identity policies:
  // only the resource's own policy can allow it (with aws:SourceArn / aws:SourceAccount
  // conditions, as AddPermission writes them). What the event-source services call.
  std::optional<aws::Denial> authorize_service(std::string_view service, const aws::Access& access,
                                               std::string_view source_arn,
                                               std::string_view source_account);

  // May `service` ("lambda.amazonaws.com") or `caller` assume `role`? The trust policy must
  // allow it (plus, for a caller when it names only the account, the caller's own policies).
  std::optional<aws::Denial> may_assume(const Role& role, const aws::Caller* caller,
                                        std::string_view service, const http::Request* req);
  // Does `role`'s policies allow `action` on `resource` (what Lambda checks before acting on a
  // function's behalf)? The role's identity policies, boundary included.
  bool role_allows(std::string_view role_name, std::string_view action, std::string_view resource);

  Directory& directory() { return directory_; }

 private:
  struct SessionEntry {
    Session session;
    std::shared_ptr<const aws::Caller> caller;
  };
  std::shared_ptr<const SessionEntry> session(std::string_view token);
  std::shared_ptr<const Policy> compile_cached(const std::string& doc, PolicyKind kind);
  // The compiled policy of the resource `arn` names (its service's registered lookup), or null.
  std::shared_ptr<const Policy> resource_policy_of(const std::string& arn);
  Context context(const aws::Caller& caller, const aws::Access& access, const http::Request* req,
                  bool with_keys) const;

  Directory& directory_;
  aws::sigv4::KeyCache keys_;
  std::mutex mu_;
  StringMap<std::shared_ptr<const SessionEntry>> sessions_;
  StringMap<std::shared_ptr<const Policy>> policies_;
  std::map<std::string, ResourcePolicyOf, std::less<>> resource_policies_;
};

}  // namespace lambent::iam

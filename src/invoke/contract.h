// The environment contract (compat §3.1): what an environment of one function version is built
// from — the extracted code and merged layers, the runtime's launch, the environment variables in
// AWS's precedence, the limits — and the fingerprint that tells environments of different code or
// configuration apart.
// Thread: build() runs on the io_context thread (extraction and merging hop to the worker pool).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <optional>
#include <string>

#include "base/node.h"
#include "blob/code_store.h"
#include "invoke/result.h"
#include "runtime/catalogue.h"
#include "scheduler/scheduler.h"

namespace lambent::invoke {

// The temporary credentials of a function's execution role, as its environments get them
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
struct RoleCredentials {
  std::string access_key_id, secret_access_key, session_token;
};
// Issues them for (role ARN, session name = the function's name); nullopt when the role does not
// exist (the environment then has none, as with --auth open and a made-up role).
using IssueCredentials = std::function<std::optional<RoleCredentials>(const std::string& role,
                                                                      const std::string& session)>;

class EnvironmentContract final {
 public:
  EnvironmentContract(boost::asio::thread_pool& pool, blob::CodeStore& code,
                      const runtime::Catalogue& catalogue, NodeIdentity node)
      : pool_(pool), code_(code), catalogue_(catalogue), node_(std::move(node)) {}

  // Environments of equal fingerprints are interchangeable: a version's revision changes with
  // every change of its code or configuration.
  // A Lambda@Edge replica (`replica` = the region it is named after, "" = none) runs in
  // environments of its own: log group /aws/lambda/<replica>.<name>, function name
  // <replica>.<name>, as AWS names edge replicas.
  static std::string fingerprint(const store::Function& f, const store::FunctionVersion& v,
                                 std::string_view replica = "");

  // Everything an environment of this version needs. When it cannot start, nullopt, with why in
  // `result`: kServiceError (code or layers unavailable), kInvalidRuntime (a runtime this node
  // does not have), or a function error outcome (a package without its bootstrap), as on AWS.
  boost::asio::awaitable<std::optional<scheduler::VersionSpec>> build(
      const store::Function& f, const store::FunctionVersion& v, InvokeResult& result,
      std::string replica = "");

  void set_credentials(IssueCredentials issue) { issue_ = std::move(issue); }
  // The platform endpoint environments reach Lambent's APIs at (its address on the node's
  // network; "" = no network): AWS_ENDPOINT_URL and the CA variables are set for it.
  void set_platform_endpoint(std::string address) { platform_ = std::move(address); }

 private:
  boost::asio::thread_pool& pool_;
  blob::CodeStore& code_;
  const runtime::Catalogue& catalogue_;
  NodeIdentity node_;
  IssueCredentials issue_;
  std::string platform_;
};

}  // namespace lambent::invoke

// The account's identities: IAM users with their access keys, roles with their trust policies,
// managed policies with versions (AWS's managed policies Lambda users attach included), inline
// policies and attachments; the root access key; STS sessions.
//
// Reads are served from an immutable snapshot (a request's authentication and authorization
// read no database); a change copies the snapshot, applies, writes the changed entities through
// the store in one transaction, then publishes the copy. Secrets are sealed with the node key in
// the store and in session tokens; the root key lives sealed in `<data>/root-credentials`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "aws/auth.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/node.h"
#include "iam/policy.h"
#include "store/store.h"

namespace lambent::iam {

struct Tag {
  std::string key, value;
};

struct User {
  std::string name, path = "/", id;
  int64_t created_ms = 0;
  std::map<std::string, std::string> inline_policies;  // name → document
  std::vector<std::string> attached;                   // managed policy ARNs
  std::string boundary;                                // managed policy ARN, or ""
  std::vector<Tag> tags;
};

struct Role {
  std::string name, path = "/", id;
  int64_t created_ms = 0;
  std::string trust_policy;
  std::string description;
  int max_session_seconds = 3600;
  std::map<std::string, std::string> inline_policies;
  std::vector<std::string> attached;
  std::string boundary;
  std::vector<Tag> tags;
};

struct PolicyVersion {
  std::string id;  // v1, v2, …
  std::string document;
  int64_t created_ms = 0;
};

struct ManagedPolicy {
  std::string arn, name, path = "/", id, description;
  int64_t created_ms = 0, updated_ms = 0;
  std::string default_version = "v1";
  std::vector<PolicyVersion> versions;
  int next_version = 2;
  bool aws_managed = false;  // built in, not stored, not deletable
  const PolicyVersion* current() const;
};

struct AccessKey {
  std::string id, user;  // user "" = the account's root
  std::string secret;    // plaintext in memory only
  bool active = true;
  int64_t created_ms = 0;
};

// A role session (AssumeRole, or an execution role in a function's environment).
struct Session {
  std::string access_key_id, secret;
  std::string role_name, role_id, session_name;
  std::string policy;               // inline session policy, or ""
  int64_t issued = 0, expires = 0;  // Unix seconds
};

// What the evaluator needs about a principal, compiled once per snapshot.
struct Principal {
  std::shared_ptr<const aws::Caller> caller;
  std::vector<std::shared_ptr<const Policy>> policies;
  std::shared_ptr<const Policy> boundary;
};

// Hashing for maps looked up by string_view (no key copy on the request path).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Snapshot {
  std::map<std::string, User> users;
  std::map<std::string, Role> roles;
  std::map<std::string, ManagedPolicy> policies;       // by ARN
  std::map<std::string, AccessKey, std::less<>> keys;  // by id (root's included)
  // Compiled: access key id → principal (users and root); role name → its policies.
  StringMap<Principal> by_key;
  StringMap<Principal> by_role;
};

// Which entities a change touched, to be written (or deleted, when gone from the snapshot).
struct Touched {
  std::vector<std::string> users, roles, policies, keys;
};

class Directory final {
 public:
  Directory(store::Store& store, const Cipher& cipher, NodeIdentity names);

  // Loads the entities and the root key (creating `root_file` with a fresh key, or the one given,
  // on first start). `created` tells whether it was created now.
  struct RootKey {
    std::string access_key_id, secret;
  };
  Result<void> load(const std::filesystem::path& root_file, const std::optional<RootKey>& first,
                    bool* created);

  std::shared_ptr<const Snapshot> view() const;
  // Applies `change` to a copy of the snapshot; on success writes what it touched and publishes.
  Result<void> update(const std::function<Result<void>(Snapshot&, Touched&)>& change);

  const NodeIdentity& names() const { return names_; }
  std::string user_arn(const User& u) const;
  std::string role_arn(const Role& r) const;
  // The role an ARN names (arn:aws:iam::<account>:role/<path><name>), or null.
  const Role* find_role(const Snapshot& s, std::string_view arn) const;
  std::string policy_arn(std::string_view path, std::string_view name) const;

  // STS sessions: a self-contained token (the session sealed with the node key), so that any
  // node with the key can verify it and nothing needs to be stored.
  Session new_session(const Role& role, std::string session_name, int64_t now, int64_t seconds,
                      std::string policy) const;
  std::string session_token(const Session& s) const;
  Result<Session> open_session_token(std::string_view token) const;

  // Reads the sealed root credentials file (the CLI uses this to find them).
  static Result<RootKey> read_root_file(const std::filesystem::path& file, const Cipher& cipher);

 private:
  void compile(Snapshot& s) const;
  Result<void> persist(const Snapshot& s, const Touched& t);

  store::Store& store_;
  const Cipher& cipher_;
  NodeIdentity names_;
  mutable std::mutex mu_;  // guards current_
  std::mutex update_mu_;   // one change at a time
  std::shared_ptr<const Snapshot> current_;
};

// Identifiers as AWS writes them: AKIA/ASIA + 16, AIDA/AROA/ANPA + 17, 40-character secrets.
std::string new_id(std::string_view prefix, size_t length);
std::string new_secret();

// The AWS managed policies built in (arn:aws:iam::aws:policy/…).
std::vector<ManagedPolicy> aws_managed_policies();

}  // namespace lambent::iam

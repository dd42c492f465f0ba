// The stored shape of a function: function-level data (tags, policies, version counter) and its
// versions, each an immutable snapshot of configuration + code except `$LATEST`.
// Plain values; the api/ layer maps them to and from the Lambda wire shapes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lambent::store {

inline constexpr const char* kLatest = "$LATEST";

struct FunctionConfig {
  std::string runtime;
  std::string handler;
  std::string role;
  std::string description;
  int timeout = 3;
  int memory_size = 128;
  int ephemeral_storage = 512;
  // Encrypted at rest by the store. nullopt = never set (the API then omits `Environment`).
  std::optional<std::map<std::string, std::string>> environment;
  std::vector<std::string> layers;  // layer version ARNs, in order
  std::string architecture = "x86_64";
  std::string tracing_mode = "PassThrough";
  std::string dead_letter_target;
  std::string kms_key_arn;
  std::string log_format = "Text";
  std::string application_log_level;
  std::string system_log_level;
  std::string log_group;  // empty = /aws/lambda/<name>
  std::string snap_start_apply_on = "None";

  bool operator==(const FunctionConfig&) const = default;
};

struct CodeRef {
  std::string digest_hex;  // SHA-256 of the zip, hex: the key of the code store
  std::string sha256_b64;  // the same digest as Lambda shows it (CodeSha256)
  int64_t size = 0;        // zip bytes (CodeSize)
  bool operator==(const CodeRef&) const = default;
};

struct FunctionVersion {
  std::string version = kLatest;
  FunctionConfig config;
  CodeRef code;
  std::string revision_id;
  int64_t last_modified_ms = 0;
  std::string state = "Active";
  std::string last_update_status = "Successful";
};

struct Function {
  std::string name;
  int64_t created_ms = 0;
  std::map<std::string, std::string> tags;
  // Resource policy statements (a JSON array as text) by qualifier; "" = the unqualified function.
  std::map<std::string, std::string> policies;
  int64_t next_version = 1;
  FunctionVersion latest;
  std::vector<FunctionVersion> versions;  // published versions, ascending
};

struct AccountUsage {
  int64_t function_count = 0;
  int64_t total_code_size = 0;
};

}  // namespace lambent::store

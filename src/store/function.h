// The stored shape of a function: function-level data (tags, policies, version counter) and its
// versions, each an immutable snapshot of configuration + code except `$LATEST`.
// Plain values; services/lambda maps them to and from the Lambda wire shapes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambent::store {

inline constexpr const char* kLatest = "$LATEST";

// A layer version as a function version uses it: resolved when the function's configuration is
// set, so the function keeps its layers even after the layer version is deleted.
struct LayerRef {
  std::string arn;         // arn:aws:lambda:<region>:<account>:layer:<name>:<N>
  std::string digest_hex;  // code store key of the layer's zip
  int64_t code_size = 0;   // zip bytes
  int64_t unzipped_size = 0;
  bool operator==(const LayerRef&) const = default;
};

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
  std::vector<LayerRef> layers;  // in order: a later layer's files win in /opt
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

// An alias: a named pointer to a published version, optionally splitting traffic with a second one.
struct Alias {
  std::string name;
  std::string function_version;
  std::string description;
  std::map<std::string, double> additional_weights;  // version -> weight 0..1 (at most one)
  std::string revision_id;
  bool operator==(const Alias&) const = default;
};

// A provisioned concurrency configuration of one version or alias. What is allocated and ready
// is runtime state (the scheduler reports it); the store keeps what was asked for.
struct ProvisionedConfig {
  std::string qualifier;  // a version number or an alias name
  int64_t requested = 0;
  int64_t last_modified_ms = 0;
  bool operator==(const ProvisionedConfig&) const = default;
};

// Asynchronous invocation settings of a function, version or alias (FunctionEventInvokeConfig).
struct EventInvokeConfig {
  std::string qualifier;  // "$LATEST" for the unqualified function
  std::optional<int64_t> max_retry_attempts;
  std::optional<int64_t> max_event_age_seconds;
  std::string on_success;  // destination ARN, "" = none
  std::string on_failure;
  int64_t last_modified_ms = 0;
  bool operator==(const EventInvokeConfig&) const = default;
};

// A function URL (FunctionUrlConfig) of the function or of one of its aliases.
struct FunctionUrlConfig {
  std::string qualifier;                 // "" = the unqualified function, else an alias name
  std::string url_id;                    // 32 lower-case letters and digits: the URL's host label
  std::string auth_type;                 // NONE | AWS_IAM
  std::string cors;                      // the Cors object as JSON text, "" = none
  std::string invoke_mode = "BUFFERED";  // BUFFERED | RESPONSE_STREAM
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  bool operator==(const FunctionUrlConfig&) const = default;
};

// An accepted asynchronous invocation, stored until it ran or reached its failure path.
struct AsyncEvent {
  std::string id;         // the request id returned with 202
  // The function's name; or an SQS queue's ARN: a delivery of `payload` as a message to that
  // queue (a bucket's notification), retried like an invocation that was throttled.
  std::string function;
  std::string qualifier;  // "" = unqualified
  std::string payload;
  int64_t received_ms = 0;
  int64_t attempts = 0;   // function attempts so far (errors count, throttles do not)
  int64_t throttles = 0;  // throttled or failed-to-start tries (exponential backoff)
  int64_t due_ms = 0;
  // How to deliver, for events that are not plain invocations (JSON, "" = none): a
  // notification's subscription and dead-letter queue, an HTTP endpoint's headers and retry
  // policy, a queue message's attributes (notify/delivery.h).
  std::string delivery;
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
  std::vector<Alias> aliases;              // by name
  std::optional<int64_t> reserved_concurrency;
  std::vector<ProvisionedConfig> provisioned;
  std::vector<EventInvokeConfig> event_configs;
  std::vector<FunctionUrlConfig> urls;

  const FunctionVersion* find_version(std::string_view v) const {
    if (v == kLatest) return &latest;
    for (const auto& x : versions) {
      if (x.version == v) return &x;
    }
    return nullptr;
  }
  const EventInvokeConfig* find_event_config(std::string_view q) const {
    for (const auto& x : event_configs) {
      if (x.qualifier == q) return &x;
    }
    return nullptr;
  }
  FunctionUrlConfig* find_url(std::string_view q) {
    for (auto& x : urls) {
      if (x.qualifier == q) return &x;
    }
    return nullptr;
  }
  const Alias* find_alias(std::string_view a) const {
    for (const auto& x : aliases) {
      if (x.name == a) return &x;
    }
    return nullptr;
  }
};

// A layer and its versions. Deleted versions are kept (marked) so that functions that use them
// keep their code; the API no longer shows them.
struct LayerVersion {
  int64_t version = 0;
  std::string description;
  std::string license;
  std::vector<std::string> compatible_runtimes;
  std::vector<std::string> compatible_architectures;
  CodeRef code;
  int64_t unzipped_size = 0;
  int64_t created_ms = 0;
  std::string policy;  // JSON array of statements, "" = none
  std::string policy_revision;
  bool deleted = false;
};

struct Layer {
  std::string name;
  int64_t next_version = 1;
  std::vector<LayerVersion> versions;  // ascending
  LayerVersion* find(int64_t v) {
    for (auto& x : versions) {
      if (x.version == v && !x.deleted) return &x;
    }
    return nullptr;
  }
};

struct AccountUsage {
  int64_t function_count = 0;
  int64_t total_code_size = 0;
};

}  // namespace lambent::store

#include "services/lambda/function_config.h"

#include "queue/rules.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <boost/json.hpp>
#include <regex>
#include <set>
#include <vector>

#include "services/lambda/errors.h"
#include "services/lambda/validation.h"
#include "base/time.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

// Runtimes that may be used to create or update functions (current model enum minus deprecated).
const std::set<std::string, std::less<>> kSupportedRuntimes = {
    "nodejs18.x",   "nodejs20.x",   "nodejs22.x", "nodejs24.x",   "nodejs26.x",    "python3.9",
    "python3.10",   "python3.11",   "python3.12", "python3.13",   "python3.14",    "python3.15",
    "java8.al2",    "java8.al2023", "java11",     "java11.al2023", "java17",       "java17.al2023",
    "java21",       "java25",       "dotnet8",    "dotnet10",     "ruby3.2",       "ruby3.3",
    "ruby3.4",      "ruby4.0",      "provided.al2", "provided.al2023"};

// In the enum, but blocked for create/update, with the runtime AWS suggests instead.
const std::map<std::string, std::string, std::less<>> kDeprecatedRuntimes = {
    {"nodejs", "nodejs20.x"},      {"nodejs4.3", "nodejs20.x"},    {"nodejs6.10", "nodejs20.x"},
    {"nodejs8.10", "nodejs20.x"},  {"nodejs10.x", "nodejs20.x"},   {"nodejs12.x", "nodejs20.x"},
    {"nodejs14.x", "nodejs20.x"},  {"nodejs16.x", "nodejs20.x"},   {"nodejs4.3-edge", "nodejs20.x"},
    {"java8", "java21"},           {"python2.7", "python3.12"},    {"python3.6", "python3.12"},
    {"python3.7", "python3.12"},   {"python3.8", "python3.12"},    {"dotnetcore1.0", "dotnet8"},
    {"dotnetcore2.0", "dotnet8"},  {"dotnetcore2.1", "dotnet8"},   {"dotnetcore3.1", "dotnet8"},
    {"dotnet6", "dotnet8"},        {"go1.x", "provided.al2023"},   {"ruby2.5", "ruby3.3"},
    {"ruby2.7", "ruby3.3"},        {"provided", "provided.al2023"}};

// Set by Lambda itself; users may not define them (compat §3.1).
const std::set<std::string, std::less<>> kReservedEnv = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
};

constexpr const char* kRolePattern = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
constexpr const char* kLayerPattern =
    "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+";
constexpr const char* kResourceArnPattern = "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()";

// An object member holding one enumerated string (TracingConfig.Mode, SnapStart.ApplyOn):
// checked, and stored in `out` when present.
void read_enum_object(const JsonObject& body, const char* object, const char* member,
                      const char* field, std::initializer_list<std::string_view> allowed,
                      Violations& v, std::string& out) {
  auto o = body.object(object);
  if (!o) return;
  o->only({member});
  if (auto value = o->str(member)) {
    v.one_of(*value, field, allowed);
    out = *value;
  }
}

}  // namespace

bool runtime_supported(std::string_view runtime) { return kSupportedRuntimes.count(runtime) > 0; }

void apply_config(const JsonObject& body, store::FunctionConfig& cfg) {
  Violations v;
  if (auto runtime = body.str("Runtime")) {
    if (auto it = kDeprecatedRuntimes.find(*runtime); it != kDeprecatedRuntimes.end()) {
      throw_invalid_parameter(fmt::format(
          "The runtime parameter of {} is no longer supported for creating or updating AWS Lambda "
          "functions. We recommend you use the new runtime ({}) while creating or updating "
          "functions.",
          *runtime, it->second));
    }
    if (!runtime_supported(*runtime)) {
      std::string set;
      for (const auto& r : kSupportedRuntimes) set += (set.empty() ? "" : ", ") + r;
      v.add(*runtime, "runtime", "Member must satisfy enum value set: [" + set + "]");
    }
    cfg.runtime = *runtime;
  }
  if (auto handler = body.str("Handler")) {
    v.max_length(*handler, "handler", 128);
    v.pattern(*handler, "handler", "[^\\s]+");
    cfg.handler = *handler;
  }
  if (auto role = body.str("Role")) {
    v.pattern(*role, "role", kRolePattern);
    cfg.role = *role;
  }
  if (auto d = body.str("Description")) {
    v.max_length(*d, "description", 256);
    cfg.description = *d;
  }
  if (auto t = body.integer("Timeout")) {
    v.min(*t, "timeout", 1);
    v.max(*t, "timeout", 900);
    cfg.timeout = static_cast<int>(std::clamp<int64_t>(*t, 0, 1'000'000));
  }
  if (auto m = body.integer("MemorySize")) {
    v.min(*m, "memorySize", 128);
    v.max(*m, "memorySize", 10240);
    cfg.memory_size = static_cast<int>(std::clamp<int64_t>(*m, 0, 1'000'000));
  }
  if (auto es = body.object("EphemeralStorage")) {
    es->only({"Size"});
    auto size = es->integer("Size");
    if (!size) {
      v.add("null", "ephemeralStorage.size", "Member must not be null");
    } else {
      v.min(*size, "ephemeralStorage.size", 512);
      v.max(*size, "ephemeralStorage.size", 10240);
      cfg.ephemeral_storage = static_cast<int>(std::clamp<int64_t>(*size, 0, 1'000'000));
    }
  }
  std::optional<std::map<std::string, std::string>> env_vars;
  if (auto env = body.object("Environment")) {
    env->only({"Variables"});
    env_vars = env->str_map("Variables").value_or(std::map<std::string, std::string>{});
    for (const auto& [k, val] : *env_vars) {
      v.pattern(k, "environment.variables", "[a-zA-Z]([a-zA-Z0-9_])+");
    }
  }
  if (auto layers = body.str_list("Layers")) {
    for (size_t i = 0; i < layers->size(); ++i) {
      v.pattern((*layers)[i], fmt::format("layers.{}.member", i + 1), kLayerPattern);
    }
  }
  read_enum_object(body, "TracingConfig", "Mode", "tracingConfig.mode", {"Active", "PassThrough"},
                   v, cfg.tracing_mode);
  if (auto dl = body.object("DeadLetterConfig")) {
    dl->only({"TargetArn"});
    std::string target = dl->str("TargetArn").value_or("");
    v.pattern(target, "deadLetterConfig.targetArn", kResourceArnPattern);
    if (!target.empty() && target.rfind("arn:aws:sqs:", 0) != 0 &&
        target.rfind("arn:aws:sns:", 0) != 0) {
      // A dead-letter target is a queue or a topic, as on AWS.
      throw_invalid_parameter("The provided target arn is invalid: " + target);
    }
    if (target.rfind("arn:aws:sqs:", 0) == 0 && queue::is_fifo_name(target)) {
      // Lambda's dead-letter queues are standard queues.
      throw_invalid_parameter("The provided target arn is invalid: " + target +
                              ". FIFO queues are not supported as dead-letter queues.");
    }
    cfg.dead_letter_target = target;
  }
  if (auto kms = body.str("KMSKeyArn")) {
    v.pattern(*kms, "kMSKeyArn", kResourceArnPattern);
    cfg.kms_key_arn = *kms;
  }
  if (auto lc = body.object("LoggingConfig")) {
    lc->only({"LogFormat", "ApplicationLogLevel", "SystemLogLevel", "LogGroup"});
    if (auto f = lc->str("LogFormat")) {
      v.one_of(*f, "loggingConfig.logFormat", {"JSON", "Text"});
      cfg.log_format = *f;
    }
    if (auto l = lc->str("ApplicationLogLevel")) {
      v.one_of(*l, "loggingConfig.applicationLogLevel",
                 {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"});
      cfg.application_log_level = *l;
    }
    if (auto l = lc->str("SystemLogLevel")) {
      v.one_of(*l, "loggingConfig.systemLogLevel", {"DEBUG", "INFO", "WARN"});
      cfg.system_log_level = *l;
    }
    if (auto g = lc->str("LogGroup")) {
      v.pattern(*g, "loggingConfig.logGroup", "[\\.\\-_/#A-Za-z0-9]+");
      v.max_length(*g, "loggingConfig.logGroup", 512);
      cfg.log_group = *g;
    }
  }
  read_enum_object(body, "SnapStart", "ApplyOn", "snapStart.applyOn", {"PublishedVersions", "None"},
                   v, cfg.snap_start_apply_on);
  if (auto archs = body.str_list("Architectures")) {
    if (archs->size() != 1) {
      v.add(fmt::format("[{}]", fmt::join(*archs, ", ")), "architectures",
            "Member must have length less than or equal to 1");
    } else {
      v.one_of((*archs)[0], "architectures.1.member", {"x86_64", "arm64"});
      cfg.architecture = (*archs)[0];
    }
  }
  if (auto vpc = body.object("VpcConfig")) {
    vpc->only({"SubnetIds", "SecurityGroupIds", "Ipv6AllowedForDualStack"});
    if (!vpc->str_list("SubnetIds").value_or(std::vector<std::string>{}).empty() ||
        !vpc->str_list("SecurityGroupIds").value_or(std::vector<std::string>{}).empty()) {
      throw_invalid_parameter("VpcConfig is not supported by Lambent: functions reach the network "
                              "through the node's configured egress.");
    }
    (void)vpc->boolean("Ipv6AllowedForDualStack");
  }
  if (auto fsc = body.has("FileSystemConfigs") ? std::optional<bool>(true) : std::nullopt) {
    if (!body.raw().at("FileSystemConfigs").is_array()) {
      throw_invalid_content("Could not parse request body into json: member \"FileSystemConfigs\" "
                            "must be a list");
    }
    if (!body.raw().at("FileSystemConfigs").as_array().empty()) {
      throw_invalid_parameter("FileSystemConfigs (EFS) are not supported by Lambent.");
    }
  }
  if (body.has("ImageConfig")) {
    throw_invalid_parameter("ImageConfig applies to container images, which Lambent does not run; "
                            "use a .zip deployment package.");
  }
  v.throw_if_any();

  // Service-side checks, after the model's.
  if (cfg.architecture != "x86_64") {
    throw_invalid_parameter("Architecture " + cfg.architecture +
                            " is not available on this Lambent node (it runs x86_64).");
  }
  if (cfg.snap_start_apply_on == "PublishedVersions") {
    throw_invalid_parameter("SnapStart is not supported by Lambent.");
  }
  if (env_vars) {
    std::vector<std::string> reserved;
    for (const auto& [k, val] : *env_vars) {
      if (kReservedEnv.count(k)) reserved.push_back(k);
    }
    if (!reserved.empty()) {
      throw_invalid_parameter(fmt::format(
          "Lambda was unable to configure your environment variables because the environment "
          "variables you have provided contains reserved keys that are currently not supported "
          "for modification. Reserved keys used in this request: {}",
          fmt::join(reserved, ", ")));
    }
    json::object measured;
    for (const auto& [k, val] : *env_vars) measured[k] = val;
    std::string text = json::serialize(measured);
    if (text.size() > 4096) {
      throw_invalid_parameter(
          "Lambda was unable to configure your environment variables because the environment "
          "variables you have provided exceeded the 4KB limit. String measured: " +
          text);
    }
    cfg.environment = std::move(env_vars);
  }
  if (auto layers = body.str_list("Layers")) {
    if (layers->size() > 5) throw_invalid_parameter("Cannot reference more than 5 layers.");
    std::set<std::string> seen;
    for (const auto& arn : *layers) {
      std::string layer = arn.substr(0, arn.rfind(':'));
      if (!seen.insert(layer).second) {
        throw_invalid_parameter("Two different versions of the same layer are not allowed to be "
                                "referenced in the same function. Layer: " + layer);
      }
    }
    // Resolved to layer versions (digest, sizes) by the caller, which can reach the store.
    cfg.layers.clear();
    for (const auto& arn : *layers) cfg.layers.push_back({arn, "", 0, 0});
  }
  if ((!cfg.application_log_level.empty() || !cfg.system_log_level.empty()) &&
      cfg.log_format != "JSON") {
    throw_invalid_parameter("ApplicationLogLevel and SystemLogLevel can only be set when the "
                            "LogFormat is JSON.");
  }
}

json::object configuration_json(const store::Function& f, const store::FunctionVersion& v,
                                const Names& names, bool qualified_arn,
                                std::string_view arn_qualifier) {
  const auto& c = v.config;
  json::object o;
  o["FunctionName"] = f.name;
  bool latest = v.version == store::kLatest;
  o["FunctionArn"] = !arn_qualifier.empty() ? names.function_arn(f.name, arn_qualifier)
                     : (latest && !qualified_arn) ? names.function_arn(f.name)
                                                  : names.function_arn(f.name, v.version);
  o["Runtime"] = c.runtime;
  o["Role"] = c.role;
  o["Handler"] = c.handler;
  o["CodeSize"] = v.code.size;
  o["Description"] = c.description;
  o["Timeout"] = c.timeout;
  o["MemorySize"] = c.memory_size;
  o["LastModified"] = format_timestamp(v.last_modified_ms);
  o["CodeSha256"] = v.code.sha256_b64;
  o["Version"] = v.version;
  if (c.environment) {
    json::object vars;
    for (const auto& [k, val] : *c.environment) vars[k] = val;
    o["Environment"] = json::object{{"Variables", std::move(vars)}};
  }
  o["TracingConfig"] = json::object{{"Mode", c.tracing_mode}};
  if (!c.dead_letter_target.empty()) {
    o["DeadLetterConfig"] = json::object{{"TargetArn", c.dead_letter_target}};
  }
  if (!c.kms_key_arn.empty()) o["KMSKeyArn"] = c.kms_key_arn;
  o["RevisionId"] = v.revision_id;
  if (!c.layers.empty()) {
    json::array layers;
    for (const auto& l : c.layers) {
      layers.push_back(json::object{{"Arn", l.arn}, {"CodeSize", l.code_size}});
    }
    o["Layers"] = std::move(layers);
  }
  o["State"] = v.state;
  o["LastUpdateStatus"] = v.last_update_status;
  o["PackageType"] = "Zip";
  o["Architectures"] = json::array{json::value(c.architecture)};
  o["EphemeralStorage"] = json::object{{"Size", c.ephemeral_storage}};
  o["SnapStart"] = json::object{{"ApplyOn", c.snap_start_apply_on}, {"OptimizationStatus", "Off"}};
  json::object logging{{"LogFormat", c.log_format},
                       {"LogGroup", c.log_group.empty() ? "/aws/lambda/" + f.name : c.log_group}};
  if (c.log_format == "JSON") {
    logging["ApplicationLogLevel"] =
        c.application_log_level.empty() ? "INFO" : c.application_log_level;
    logging["SystemLogLevel"] = c.system_log_level.empty() ? "INFO" : c.system_log_level;
  }
  o["LoggingConfig"] = std::move(logging);
  return o;
}

}  // namespace lambent::lambda

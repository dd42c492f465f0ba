#include "invoke/contract.h"

#include <boost/json.hpp>
#include <map>

#include "base/offload.h"
#include "sandbox/contain.h"

namespace lambent::invoke {
namespace asio = boost::asio;

std::string EnvironmentContract::fingerprint(const store::Function& f,
                                             const store::FunctionVersion& v,
                                             std::string_view replica) {
  std::string out = f.name + ":" + v.version + ":" + v.revision_id;
  if (!replica.empty()) out.append("@").append(replica);
  return out;
}

asio::awaitable<std::optional<scheduler::VersionSpec>> EnvironmentContract::build(
    const store::Function& f, const store::FunctionVersion& v, InvokeResult& result,
    std::string replica) {
  const store::FunctionConfig& c = v.config;
  // The code, extracted on the tmpfs (re-extracted from the sealed blob after a reboot).
  std::string digest = v.code.digest_hex;
  Result<std::filesystem::path> code_dir = make_error(Errc::kNotFound, "not extracted");
  if (auto present = code_.extracted_if_present(digest)) {
    code_dir = *present;
  } else {
    auto extract = [this, digest] { return code_.extracted(digest); };  // named: offload.h
    code_dir = co_await offload(pool_, std::move(extract));
  }
  if (!code_dir) {
    result.status = InvokeResult::kServiceError;
    result.message = "function code is unavailable: " + code_dir.error().message;
    co_return std::nullopt;
  }
  scheduler::VersionSpec spec;
  if (!c.layers.empty()) {
    std::vector<std::string> digests;
    for (const auto& l : c.layers) digests.push_back(l.digest_hex);
    auto merge = [this, digests] { return code_.merged_layers(digests); };  // named: offload.h
    auto opt = co_await offload(pool_, std::move(merge));
    if (!opt) {
      result.status = InvokeResult::kServiceError;
      result.message = "function layers are unavailable: " + opt.error().message;
      co_return std::nullopt;
    }
    spec.opt_dir = opt->string();
  }
  runtime::LaunchError launch_error;
  if (!catalogue_.launch(c.runtime, *code_dir, c.memory_size, &spec.launch, &launch_error)) {
    if (!launch_error.is_function_error) {
      result.status = InvokeResult::kInvalidRuntime;
      result.message = launch_error.message;
      co_return std::nullopt;
    }
    // A broken package (no bootstrap): the invocation fails as a function error, as on AWS.
    result.outcome.kind = scheduler::Outcome::kFunctionError;
    result.outcome.executed_version = v.version;
    result.outcome.payload = boost::json::serialize(boost::json::object{
        {"errorMessage", launch_error.message}, {"errorType", launch_error.error_type}});
    co_return std::nullopt;
  }
  const std::string shown_name = replica.empty() ? f.name : replica + "." + f.name;
  std::string log_group =
      c.log_group.empty() || !replica.empty() ? "/aws/lambda/" + shown_name : c.log_group;
  spec.info = {f.name, v.version, log_group, c.memory_size, c.timeout, fingerprint(f, v, replica)};
  spec.info.json_logs = c.log_format == "JSON";
  if (!c.system_log_level.empty()) spec.info.system_log_level = c.system_log_level;
  spec.code_dir = code_dir->string();
  spec.tmp_mb = c.ephemeral_storage;
  if (auto t = f.tags.find("lambent:egress"); t != f.tags.end()) spec.egress_mode = t->second;
  if (auto t = f.tags.find("lambent:egress-allow"); t != f.tags.end())
    spec.egress_allow = t->second;
  if (auto t = f.tags.find("lambent:egress-deny"); t != f.tags.end()) spec.egress_deny = t->second;

  // Environment variables, lowest precedence first (compat §3.1): unreserved platform defaults,
  // then the runtime's own, then the user's, then the reserved ones nobody may override.
  std::map<std::string, std::string> env = {
      {"LANG", "en_US.UTF-8"},
      {"TZ", ":UTC"},
      {"PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
      {"LD_LIBRARY_PATH",
       "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"},
  };
  if (!platform_.empty()) {
    // Unmodified AWS code reaches Lambent: SDKs that read AWS_ENDPOINT_URL go to the platform
    // endpoint, the others resolve the service names to it (net/dns.h); its certificate's
    // authority is in the sandbox's bundle and named where each SDK looks. The user may
    // override any of these.
    env["AWS_ENDPOINT_URL"] = "https://" + platform_;
    env["AWS_CA_BUNDLE"] = sandbox::kCaBundleFile;
    env["REQUESTS_CA_BUNDLE"] = sandbox::kCaBundleFile;
    env["SSL_CERT_FILE"] = sandbox::kCaBundleFile;
    env["NODE_EXTRA_CA_CERTS"] = sandbox::kLambentCaFile;
  }
  for (const auto& kv : spec.launch.env) {
    auto eq = kv.find('=');
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (c.log_format == "JSON") {
    env["AWS_LAMBDA_LOG_FORMAT"] = "JSON";
    env["AWS_LAMBDA_LOG_LEVEL"] = c.application_log_level.empty() ? "INFO" : c.application_log_level;
  }
  if (c.environment) {
    for (const auto& [k, val] : *c.environment) env[k] = val;
  }
  env["_HANDLER"] = c.handler;
  env["AWS_REGION"] = node_.region;
  env["AWS_DEFAULT_REGION"] = node_.region;
  if (spec.launch.sets_execution_env) env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + c.runtime;
  env["AWS_LAMBDA_FUNCTION_NAME"] = shown_name;
  env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(c.memory_size);
  env["AWS_LAMBDA_FUNCTION_VERSION"] = v.version;
  env["AWS_LAMBDA_LOG_GROUP_NAME"] = log_group;
  env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001";
  env["LAMBDA_TASK_ROOT"] = "/var/task";
  env["LAMBDA_RUNTIME_DIR"] = "/var/runtime";
  // The execution role's temporary credentials: fresh for every environment, valid longer than
  // an environment may live (the scheduler retires environments before they expire).
  if (issue_) {
    if (auto creds = issue_(c.role, f.name)) {
      env["AWS_ACCESS_KEY_ID"] = creds->access_key_id;
      env["AWS_SECRET_ACCESS_KEY"] = creds->secret_access_key;
      env["AWS_SESSION_TOKEN"] = creds->session_token;
    }
  }
  // AWS_LAMBDA_EXEC_WRAPPER (managed runtimes): the runtime starts through the user's wrapper
  // script, which gets the runtime's command line as its arguments.
  if (auto w = env.find("AWS_LAMBDA_EXEC_WRAPPER");
      w != env.end() && !w->second.empty() && c.runtime.rfind("provided", 0) != 0) {
    spec.launch.argv.insert(spec.launch.argv.begin(), w->second);
  }
  spec.env.reserve(env.size());
  for (const auto& [k, val] : env) spec.env.push_back(k + "=" + val);
  co_return spec;
}

}  // namespace lambent::invoke

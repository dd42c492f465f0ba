// What Lambda's operations ask of IAM: each route's action and resource as the Service
// Authorization Reference lists them, the resource policies of functions (AddPermission) and of
// layer versions (AddLayerVersionPermission), and the execution-role rules of CreateFunction and
// UpdateFunctionConfiguration.
#include <boost/json.hpp>
#include <mutex>
#include <shared_mutex>

#include "services/lambda/errors.h"
#include "services/lambda/lambda_api.h"

namespace lambent::lambda {
namespace json = boost::json;

namespace {

std::string action_of(std::string_view operation) {
  if (operation == "Invoke" || operation == "InvokeWithResponseStream") {
    return "lambda:InvokeFunction";
  }
  if (operation == "GetLayerVersionByArn") return "lambda:GetLayerVersion";
  if (operation == "GetFunctionConcurrency") return "lambda:GetFunctionConcurrency";
  return "lambda:" + std::string(operation);
}

}  // namespace

std::vector<aws::Access> LambdaApi::access_of(std::string_view operation, http::Request& req) {
  // CreateFunction's function and role, and CreateEventSourceMapping's function (the
  // lambda:FunctionArn key), are in the body: their handlers authorize them.
  if (operation == "CreateFunction" || operation == "CreateEventSourceMapping") return {};
  std::string resource = "*";
  std::vector<std::pair<std::string, std::string>> keys;
  if (auto fn = req.labels.find("FunctionName"); fn != req.labels.end()) {
    try {
      FunctionRef ref = parse_function_ref(fn->second, names_, "functionName", 170);
      std::optional<std::string> qualifier = ref.qualifier;
      if (!qualifier) qualifier = req.query_param("Qualifier");
      resource = names_.function_arn(ref.name, qualifier.value_or(""));
    } catch (const aws::ServiceError&) {
      // A malformed name: the handler answers its validation error once the caller may ask.
      resource = names_.function_arn(fn->second);
    }
  } else if (auto layer = req.labels.find("LayerName"); layer != req.labels.end()) {
    std::string name = layer->second;
    if (name.starts_with("arn:")) name = name.substr(name.rfind(':') + 1);
    resource = names_.layer_arn(name);
    if (auto v = req.labels.find("VersionNumber"); v != req.labels.end()) {
      resource += ":" + v->second;
    }
  } else if (auto uuid = req.labels.find("UUID"); uuid != req.labels.end()) {
    resource = names_.arn("lambda", "event-source-mapping:" + uuid->second);
    // lambda:FunctionArn: the function the mapping feeds (policies limit mappings by it).
    if (auto m = deps_.mappings ? deps_.mappings->get(uuid->second) : std::nullopt) {
      keys.emplace_back("lambda:FunctionArn",
                        names_.function_arn(m->config.function, m->config.qualifier));
    }
  } else if (auto r = req.labels.find("Resource"); r != req.labels.end()) {
    resource = r->second;
  } else if (operation == "GetLayerVersionByArn") {
    resource = req.query_param("Arn").value_or("*");
  }
  return {{action_of(operation), std::move(resource), std::move(keys)}};
}

std::optional<std::string> LambdaApi::resource_policy(std::string_view arn) {
  if (arn.find(":layer:") != std::string_view::npos) {
    // arn:aws:lambda:<r>:<a>:layer:<name>:<version>
    size_t at = arn.find(":layer:") + 7;
    size_t colon = arn.find(':', at);
    if (colon == std::string_view::npos) return std::nullopt;
    std::string name(arn.substr(at, colon - at));
    int64_t version = std::atoll(std::string(arn.substr(colon + 1)).c_str());
    auto layer = deps_.store.get_layer(name);
    if (!layer) return std::nullopt;
    store::LayerVersion* v = layer->find(version);
    if (!v || v->policy.empty()) return std::nullopt;
    return policy_document(parse_statements(v->policy));
  }
  std::shared_lock lock(policies_mu_);
  auto it = policy_docs_.find(arn);
  if (it == policy_docs_.end()) return std::nullopt;
  return it->second;
}

void LambdaApi::index_policies(const std::string& name, const store::Function* f) {
  std::unique_lock lock(policies_mu_);
  const std::string base = names_.function_arn(name);
  for (auto it = policy_docs_.lower_bound(base); it != policy_docs_.end();) {
    std::string_view arn = it->first;
    if (arn != base && !arn.starts_with(base + ":")) break;
    it = policy_docs_.erase(it);
  }
  if (!f) return;
  for (const auto& [qualifier, statements] : f->policies) {
    if (statements.empty()) continue;
    policy_docs_[names_.function_arn(name, qualifier)] =
        policy_document(parse_statements(statements));
  }
}

Result<void> LambdaApi::load_policies() {
  std::string after;
  while (true) {
    LAMBENT_TRY(page, deps_.store.list_functions(after, 100));
    for (const auto& f : page) {
      index_policies(f.name, &f);
      index_urls(f.name, &f);
    }
    if (page.size() < 100) break;
    after = page.back().name;
  }
  return {};
}

void LambdaApi::check_execution_role(const http::Request& req, const std::string& role_arn) {
  iam::AccessControl* access = deps_.access;
  if (!access) return;
  auto snapshot = access->directory().view();
  const iam::Role* role = access->directory().find_role(*snapshot, role_arn);
  if (!role || access->may_assume(*role, nullptr, "lambda.amazonaws.com", nullptr)) {
    throw_invalid_parameter("The role defined for the function cannot be assumed by Lambda.");
  }
  rest_.authorize(req,
                  {{"iam:PassRole", role_arn, {{"iam:PassedToService", "lambda.amazonaws.com"}}}});
}

void LambdaApi::check_delivery(const std::string& role_arn, const std::string& target) {
  if (!deps_.access || target.empty()) return;
  const bool queue = target.starts_with("arn:aws:sqs:");
  const bool topic = target.starts_with("arn:aws:sns:");
  const char* action = queue ? "SendMessage" : topic ? "Publish" : "InvokeFunction";
  std::string role_name = role_arn.substr(role_arn.rfind('/') + 1);
  if (!deps_.access->role_allows(role_name,
                                 std::string(queue   ? "sqs:"
                                             : topic ? "sns:"
                                                     : "lambda:") +
                                     action,
                                 target)) {
    throw_invalid_parameter(std::string("The function's execution role does not have permissions "
                                        "to call ") +
                            action + " on " + target);
  }
}

}  // namespace lambent::lambda

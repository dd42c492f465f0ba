// Resource-based policy: AddPermission, RemovePermission, GetPolicy. Statements are stored and
// returned exactly as AWS renders them; enforcement comes with authentication.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <boost/json.hpp>
#include <regex>

#include "services/lambda/errors.h"
#include "services/lambda/json_body.h"
#include "services/lambda/lambda_api.h"
#include "base/codec.h"
#include "base/time.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kMaxPolicyBytes = 20 * 1024;
constexpr const char* kStalePolicyRevision =
    "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to "
    "retrieve the latest Revision Id";

}  // namespace

json::value principal_json(const std::string& p) {
  static const std::regex kService("[a-z0-9.-]+\\.amazonaws\\.com(\\.cn)?");
  static const std::regex kAccount("\\d{12}");
  if (p == "*") return "*";
  if (std::regex_match(p, kAccount)) {
    return json::object{{"AWS", "arn:aws:iam::" + p + ":root"}};
  }
  if (p.rfind("arn:aws", 0) == 0) return json::object{{"AWS", p}};
  if (std::regex_match(p, kService)) return json::object{{"Service", p}};
  throw_invalid_parameter("The provided principal was invalid. Please check the principal and "
                          "try again.");
}

json::array parse_statements(const std::string& text) {
  if (text.empty()) return {};
  return json::parse(text).as_array();
}

std::string policy_document(const json::array& statements) {
  return json::serialize(json::object{
      {"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements}});
}

http::Response LambdaApi::add_permission(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));
  JsonBody body(req.body);
  body.only({"StatementId", "Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken",
             "RevisionId", "PrincipalOrgID", "FunctionUrlAuthType", "InvokedViaFunctionUrl"});
  auto sid = body.str("StatementId");
  auto action = body.str("Action");
  auto principal = body.str("Principal");
  std::vector<std::string> errors = body.missing(
      {{"StatementId", "statementId"}, {"Action", "action"}, {"Principal", "principal"}});
  if (sid && !std::regex_match(*sid, std::regex("[a-zA-Z0-9-_]{1,100}"))) {
    errors.push_back("Value '" + *sid + "' at 'statementId' failed to satisfy constraint: Member "
                     "must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)");
  }
  if (action && !std::regex_match(*action, std::regex("(lambda:[*]|lambda:[a-zA-Z]+|[*])"))) {
    errors.push_back("Value '" + *action + "' at 'action' failed to satisfy constraint: Member "
                     "must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])");
  }
  auto source_account = body.str("SourceAccount");
  if (source_account && !std::regex_match(*source_account, std::regex("\\d{12}"))) {
    errors.push_back("Value '" + *source_account + "' at 'sourceAccount' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: \\d{12}");
  }
  auto url_auth = body.str("FunctionUrlAuthType");
  if (url_auth && *url_auth != "NONE" && *url_auth != "AWS_IAM") {
    errors.push_back("Value '" + *url_auth + "' at 'functionUrlAuthType' failed to satisfy "
                     "constraint: Member must satisfy enum value set: [NONE, AWS_IAM]");
  }
  if (!errors.empty()) throw_validation_errors(errors);
  auto revision = body.str("RevisionId");

  json::object statement;
  statement["Sid"] = *sid;
  statement["Effect"] = "Allow";
  statement["Principal"] = principal_json(*principal);
  statement["Action"] = *action;
  json::object condition;
  if (auto v = body.str("SourceArn")) condition["ArnLike"] = json::object{{"AWS:SourceArn", *v}};
  json::object equals;
  if (source_account) equals["AWS:SourceAccount"] = *source_account;
  if (auto v = body.str("EventSourceToken")) equals["lambda:EventSourceToken"] = *v;
  if (auto v = body.str("PrincipalOrgID")) equals["aws:PrincipalOrgID"] = *v;
  if (url_auth) equals["lambda:FunctionUrlAuthType"] = *url_auth;
  if (!equals.empty()) condition["StringEquals"] = std::move(equals);
  if (body.boolean("InvokedViaFunctionUrl").value_or(false)) {
    condition["Bool"] = json::object{{"lambda:InvokedViaFunctionUrl", "true"}};
  }

  std::string key = qualifier.value_or("");
  json::object rendered;
  mutate(ref.name, [&](store::Function& f) -> Result<void> {
    if (revision && *revision != f.latest.revision_id) {
      return make_error(Errc::kPreconditionFailed, "stale");
    }
    if (qualifier) (void)select_version(f, qualifier);
    statement["Resource"] = qualifier ? names_.function_arn(f.name, *qualifier)
                                      : names_.function_arn(f.name);
    if (!condition.empty()) statement["Condition"] = condition;
    json::array statements = parse_statements(f.policies[key]);
    for (const auto& s : statements) {
      if (s.as_object().at("Sid") == json::value(*sid)) {
        return make_error(Errc::kAlreadyExists,
                          "The statement id (" + *sid + ") provided already exists. Please "
                          "provide a new statement id, or remove the existing statement.");
      }
    }
    statements.push_back(statement);
    std::string doc = policy_document(statements);
    if (doc.size() > kMaxPolicyBytes) {
      auto e = lambda_error(400, "PolicyLengthExceededException",
                 fmt::format("The final policy size ({}) is bigger than the limit ({}).",
                             doc.size(), kMaxPolicyBytes));
      throw e;
    }
    f.policies[key] = json::serialize(statements);
    f.latest.revision_id = uuid4();
    return {};
  }, kStalePolicyRevision);
  return json_response(201, json::object{{"Statement", json::serialize(statement)}});
}

http::Response LambdaApi::remove_permission(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));
  auto revision = req.query_param("RevisionId");
  const std::string& sid = req.label("StatementId");
  std::string key = qualifier.value_or("");
  mutate(ref.name, [&](store::Function& f) -> Result<void> {
    if (revision && *revision != f.latest.revision_id) {
      return make_error(Errc::kPreconditionFailed, "stale");
    }
    json::array statements = parse_statements(f.policies[key]);
    auto it = std::find_if(statements.begin(), statements.end(), [&](const json::value& s) {
      return s.as_object().at("Sid") == json::value(sid);
    });
    if (it == statements.end()) {
      return make_error(Errc::kNotFound, "Statement " + sid + " is not found in resource policy.");
    }
    statements.erase(it);
    if (statements.empty()) {
      f.policies.erase(key);
    } else {
      f.policies[key] = json::serialize(statements);
    }
    f.latest.revision_id = uuid4();
    return {};
  }, kStalePolicyRevision);
  return no_content();
}

http::Response LambdaApi::get_policy(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  auto qualifier = merge_qualifier(ref, req.query_param("Qualifier"));
  store::Function f = load(ref.name);
  if (qualifier) (void)select_version(f, qualifier);
  auto it = f.policies.find(qualifier.value_or(""));
  if (it == f.policies.end()) throw_not_found("The resource you requested does not exist.");
  return json_response(200, json::object{{"Policy", policy_document(parse_statements(it->second))},
                                         {"RevisionId", f.latest.revision_id}});
}

}  // namespace lambent::lambda

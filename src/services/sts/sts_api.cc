#include "services/sts/sts_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <ctime>
#include <regex>

#include "base/time.h"

namespace lambent::sts {
namespace json = boost::json;
using aws::Call;
using aws::Output;
using aws::ServiceError;

namespace {

constexpr const char* kXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

std::string opt(const json::object& in, std::string_view key) {
  return aws::string_member(in, key);
}

std::string iso(int64_t unix_seconds) { return format_iso8601_seconds(unix_seconds * 1000); }

}  // namespace

aws::ServiceInfo StsApi::info() {
  return {.name = "sts", .protocol = aws::Protocol::kQuery, .xmlns = kXmlns, .global = true};
}

StsApi::StsApi(iam::AccessControl& access, boost::asio::thread_pool& pool)
    : access_(access), service_(info(), pool) {
  // GetCallerIdentity needs no permission (an explicit Deny is ignored); AssumeRole is decided
  // by the role's trust policy in the handler; GetAccessKeyInfo is an ordinary action.
  service_.set_access([](const Call& call) -> std::vector<aws::Access> {
    if (call.operation == "GetCallerIdentity" || call.operation == "AssumeRole") return {};
    return {{"sts:" + call.operation, "*", {}}};
  });
  service_.add("GetCallerIdentity", [](Call& call) -> Output {
    auto c = aws::caller_of(call.req);
    if (!c)
      throw ServiceError(403, "AccessDenied",
                         "Authentication is off (--auth open): there is no caller.");
    return json::object{{"UserId", c->user_id}, {"Account", c->account}, {"Arn", c->arn}};
  });
  service_.add("GetAccessKeyInfo", [this](Call& call) -> Output {
    const std::string id = opt(call.input, "AccessKeyId");
    if (id.size() < 16 || id.size() > 128) {
      throw aws::validation_error(id, "accessKeyId",
                                  "Member must have length greater than or equal to 16");
    }
    return json::object{{"Account", access_.directory().names().account_id}};
  });
  service_.add("AssumeRole", [this](Call& call) -> Output {
    const auto& in = call.input;
    const std::string role_arn = opt(in, "RoleArn");
    const std::string session = opt(in, "RoleSessionName");
    if (role_arn.size() < 20 || role_arn.size() > 2048) {
      throw aws::validation_error(role_arn, "roleArn",
                                  "Member must have length greater than or equal to 20");
    }
    static const std::regex kSession(R"([\w+=,.@-]*)");
    if (session.size() < 2 || session.size() > 64) {
      throw aws::validation_error(session, "roleSessionName",
                                  "Member must have length greater than or equal to 2");
    }
    if (!std::regex_match(session, kSession)) {
      throw aws::validation_error(session, "roleSessionName",
                                  "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    }
    int64_t duration = 3600;
    if (auto d = opt(in, "DurationSeconds"); !d.empty()) {
      duration = std::atoll(d.c_str());
      if (duration < 900) {
        throw aws::validation_error(d, "durationSeconds",
                                    "Member must have value greater than or equal to 900");
      }
      if (duration > 43200) {
        throw aws::validation_error(d, "durationSeconds",
                                    "Member must have value less than or equal to 43200");
      }
    }
    const std::string policy = opt(in, "Policy");
    if (!policy.empty()) {
      if (policy.size() > 2048) {
        throw ServiceError(400, "PackedPolicyTooLarge",
                           "Packed size of the policy exceeds 2048 characters.");
      }
      auto p = iam::parse_policy(policy, iam::PolicyKind::kIdentity);
      if (!p) throw ServiceError(400, "MalformedPolicyDocument", p.error().message);
    }
    auto caller = aws::caller_of(call.req);
    if (!caller)
      throw ServiceError(403, "AccessDenied",
                         "Authentication is off (--auth open): there is no caller.");
    auto& dir = access_.directory();
    auto snapshot = dir.view();
    const iam::Role* role = dir.find_role(*snapshot, role_arn);
    auto denied = [&] {
      return ServiceError(
          403, "AccessDenied",
          fmt::format("User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                      caller->arn, role_arn));
    };
    if (!role) throw denied();
    if (auto d = access_.may_assume(*role, caller.get(), "", &call.req))
      throw ServiceError(403, "AccessDenied", d->message);
    if (duration > role->max_session_seconds) {
      throw ServiceError(
          400, "ValidationError",
          "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    if (caller->type == "AssumedRole" && duration > 3600) {
      throw ServiceError(400, "ValidationError",
                         "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                         "assumed by role chaining.");
    }
    const int64_t now = now_ms() / 1000;
    iam::Session s = dir.new_session(*role, session, now, duration, policy);
    json::object out{
        {"Credentials", json::object{{"AccessKeyId", s.access_key_id},
                                     {"SecretAccessKey", s.secret},
                                     {"SessionToken", dir.session_token(s)},
                                     {"Expiration", iso(s.expires)}}},
        {"AssumedRoleUser",
         json::object{{"AssumedRoleId", role->id + ":" + session},
                      {"Arn", fmt::format("arn:aws:sts::{}:assumed-role/{}/{}",
                                          dir.names().account_id, role->name, session)}}}};
    if (!policy.empty()) out["PackedPolicySize"] = static_cast<int64_t>(policy.size() * 100 / 2048);
    return out;
  });
}

}  // namespace lambent::sts

#include "iam/access_control.h"

#include <fmt/format.h>

#include <ctime>

#include "base/time.h"

namespace lambent::iam {

namespace {

aws::sigv4::AuthFailure invalid_token() {
  return {aws::sigv4::Failure::kUnknownKey,
          "The security token included in the request is invalid."};
}

std::string iso_time(int64_t unix_seconds) { return format_iso8601_seconds(unix_seconds * 1000); }

// The service of an ARN (arn:aws:<service>:…), "" for "*".
std::string_view arn_service(std::string_view arn) {
  if (!arn.starts_with("arn:")) return "";
  size_t a = arn.find(':', 4);
  if (a == std::string_view::npos) return "";
  size_t b = arn.find(':', a + 1);
  return arn.substr(a + 1, b == std::string_view::npos ? b : b - a - 1);
}

}  // namespace

void AccessControl::add_resource_policies(std::string service, ResourcePolicyOf of) {
  resource_policies_[std::move(service)] = std::move(of);
}

std::shared_ptr<const AccessControl::SessionEntry> AccessControl::session(std::string_view token) {
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(token);
    if (it != sessions_.end()) return it->second;
  }
  auto s = directory_.open_session_token(token);
  if (!s) return nullptr;
  auto entry = std::make_shared<SessionEntry>();
  const auto& names = directory_.names();
  auto caller = std::make_shared<aws::Caller>();
  caller->account = names.account_id;
  caller->access_key_id = s->access_key_id;
  caller->type = "AssumedRole";
  caller->name = s->role_name;
  caller->session_name = s->session_name;
  caller->token_issued = s->issued;
  caller->arn = fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", names.account_id, s->role_name,
                            s->session_name);
  caller->user_id = s->role_id + ":" + s->session_name;
  caller->session_policy = s->policy;
  entry->caller = caller;
  entry->session = std::move(*s);
  std::lock_guard lock(mu_);
  if (sessions_.size() >= 10'000) sessions_.clear();  // tokens are cheap to open again
  sessions_[std::string(token)] = entry;
  return entry;
}

std::shared_ptr<const Policy> AccessControl::compile_cached(const std::string& doc,
                                                            PolicyKind kind) {
  std::string key = std::to_string(static_cast<int>(kind)) + doc;
  {
    std::lock_guard lock(mu_);
    auto it = policies_.find(key);
    if (it != policies_.end()) return it->second;
  }
  auto p = parse_policy(doc, kind);
  std::shared_ptr<const Policy> compiled =
      p ? std::make_shared<const Policy>(std::move(*p)) : nullptr;
  std::lock_guard lock(mu_);
  if (policies_.size() >= 10'000) policies_.clear();
  policies_[key] = compiled;
  return compiled;
}

aws::Guard::Authenticated AccessControl::authenticate(const http::Request& req,
                                                      const aws::ServiceInfo& service,
                                                      std::string_view body_sha256_hex) {
  Authenticated out;
  aws::sigv4::Parsed parsed = aws::sigv4::parse(req);
  if (parsed.failure) {
    out.failure = std::move(parsed.failure);
    return out;
  }
  const aws::sigv4::Material& m = *parsed.material;
  const int64_t now = now_ms() / 1000;
  auto snapshot = directory_.view();
  std::string_view secret;
  std::shared_ptr<const aws::Caller> caller;
  std::shared_ptr<const SessionEntry> entry;
  if (!m.session_token.empty() || m.access_key_id.starts_with("ASIA")) {  // an STS session
    if (m.session_token.empty()) {
      out.failure = invalid_token();
      return out;
    }
    entry = session(m.session_token);
    if (!entry || entry->session.access_key_id != m.access_key_id) {
      out.failure = invalid_token();
      return out;
    }
    auto role = snapshot->roles.find(entry->session.role_name);
    if (role == snapshot->roles.end() || role->second.id != entry->session.role_id) {
      out.failure = invalid_token();  // the role was deleted (or deleted and made again)
      return out;
    }
    if (entry->session.expires <= now) {
      out.failure =
          aws::sigv4::AuthFailure{aws::sigv4::Failure::kExpiredToken,
                                  "The security token included in the request is expired"};
      return out;
    }
    secret = entry->session.secret;
    caller = entry->caller;
  } else {
    auto key = snapshot->keys.find(m.access_key_id);
    auto principal = snapshot->by_key.find(m.access_key_id);
    if (key == snapshot->keys.end() || !key->second.active || principal == snapshot->by_key.end()) {
      out.failure = invalid_token();
      return out;
    }
    secret = key->second.secret;
    caller = principal->second.caller;
  }
  // Global services (IAM, STS) are signed for us-east-1; clients pointed at this node with
  // --endpoint-url may also sign with its own region.
  const std::string& region = directory_.names().region;
  const std::string expected = service.global && m.region == "us-east-1" ? "us-east-1" : region;
  const bool s3 = service.name == "s3";
  if (auto f = aws::sigv4::verify(req, m, secret, body_sha256_hex, expected, service.name, now,
                                  service.skew_seconds, s3, keys_)) {
    out.failure = std::move(f);
    return out;
  }
  if (s3)
    out.signing_key = keys_.signing_key(m.access_key_id, secret, m.scope_date, m.region, m.service);
  out.caller = std::move(caller);
  return out;
}

Context AccessControl::context(const aws::Caller& caller, const aws::Access& access,
                               const http::Request* req, bool with_keys) const {
  Context ctx;
  ctx.action = access.action;
  ctx.resource = access.resource;
  ctx.principal_arn = caller.arn;
  ctx.account = caller.account;
  ctx.root = caller.root;
  if (caller.type == "AssumedRole") {
    auto snapshot = directory_.view();
    auto role = snapshot->roles.find(caller.name);
    if (role != snapshot->roles.end()) ctx.role_arn = directory_.role_arn(role->second);
  }
  // Condition keys only when some applicable policy reads them (most policies have no
  // conditions: building them is most of an evaluation's cost).
  if (!with_keys) return ctx;
  const int64_t now = now_ms() / 1000;
  ctx.set("aws:PrincipalAccount", caller.account);
  ctx.set("aws:PrincipalType", caller.type);
  ctx.set("aws:userid", caller.user_id);
  ctx.set("aws:CurrentTime", iso_time(now));
  ctx.set("aws:EpochTime", std::to_string(now));
  ctx.set("aws:SecureTransport", "false");
  ctx.set("aws:RequestedRegion", directory_.names().region);
  if (caller.type == "User") ctx.set("aws:username", caller.name);
  if (caller.type == "AssumedRole") {
    ctx.set("aws:PrincipalArn", ctx.role_arn);
    ctx.set("aws:TokenIssueTime", iso_time(caller.token_issued));
  } else {
    ctx.set("aws:PrincipalArn", caller.arn);
  }
  if (req) {
    std::string ip = req->peer.substr(0, req->peer.rfind(':'));
    if (!ip.empty()) ctx.set("aws:SourceIp", ip);
    if (auto ua = req->header("user-agent")) ctx.set("aws:UserAgent", *ua);
  }
  for (const auto& [k, v] : access.keys) ctx.set(k, v);
  return ctx;
}

std::shared_ptr<const Policy> AccessControl::resource_policy_of(const std::string& arn) {
  auto it = resource_policies_.find(arn_service(arn));
  if (it == resource_policies_.end()) return nullptr;
  auto doc = it->second(arn);
  return doc ? compile_cached(*doc, PolicyKind::kResource) : nullptr;
}

std::optional<aws::Denial> AccessControl::authorize(const aws::Caller& caller,
                                                    const aws::Access& access,
                                                    const http::Request& req) {
  // The resource's own policy, when its service keeps one.
  std::shared_ptr<const Policy> resource_policy = resource_policy_of(access.resource);
  if (caller.root && !resource_policy) return std::nullopt;  // the fast path of the root key
  Applicable applicable;
  auto snapshot = directory_.view();
  const Principal* principal = nullptr;
  std::shared_ptr<const Policy> session_policy;
  if (caller.type == "AssumedRole") {
    auto it = snapshot->by_role.find(caller.name);
    if (it != snapshot->by_role.end()) principal = &it->second;
    if (!caller.session_policy.empty()) {
      session_policy = compile_cached(caller.session_policy, PolicyKind::kIdentity);
    }
  } else {
    auto it = snapshot->by_key.find(caller.access_key_id);
    if (it != snapshot->by_key.end()) principal = &it->second;
  }
  if (principal) {
    for (const auto& p : principal->policies) applicable.identity.push_back(p.get());
    applicable.boundary = principal->boundary.get();
  }
  applicable.resource = resource_policy.get();
  applicable.session = session_policy.get();
  bool with_keys = !access.keys.empty();
  for (const Policy* p : applicable.identity) with_keys = with_keys || p->needs_context;
  for (const Policy* p : {applicable.resource, applicable.boundary, applicable.session}) {
    with_keys = with_keys || (p && p->needs_context);
  }
  Context ctx = context(caller, access, &req, with_keys);
  Evaluation e = evaluate(applicable, ctx);
  if (e.decision == Decision::kAllow) return std::nullopt;
  return aws::Denial{denied_message(e, ctx)};
}

std::optional<aws::Denial> AccessControl::authorize_anonymous(const aws::Access& access,
                                                              const http::Request& req) {
  std::shared_ptr<const Policy> resource_policy = resource_policy_of(access.resource);
  if (!resource_policy) return aws::Denial{"Access Denied"};
  // No principal: only statements naming everyone apply.
  Context ctx;
  ctx.action = access.action;
  ctx.resource = access.resource;
  ctx.set("aws:CurrentTime", iso_time(now_ms() / 1000));
  ctx.set("aws:EpochTime", std::to_string(now_ms() / 1000));
  ctx.set("aws:SecureTransport", req.secure ? "true" : "false");
  std::string ip = req.peer.substr(0, req.peer.rfind(':'));
  if (!ip.empty()) ctx.set("aws:SourceIp", ip);
  if (auto ua = req.header("user-agent")) ctx.set("aws:UserAgent", *ua);
  for (const auto& [k, v] : access.keys) ctx.set(k, v);
  Applicable applicable;
  applicable.resource = resource_policy.get();
  Evaluation e = evaluate(applicable, ctx);
  if (e.decision == Decision::kAllow) return std::nullopt;
  return aws::Denial{"Access Denied"};
}

std::optional<aws::Denial> AccessControl::authorize_service(std::string_view service,
                                                            const aws::Access& access,
                                                            std::string_view source_arn,
                                                            std::string_view source_account) {
  std::shared_ptr<const Policy> resource_policy = resource_policy_of(access.resource);
  Context ctx;
  ctx.action = access.action;
  ctx.resource = access.resource;
  ctx.service = std::string(service);
  ctx.account = directory_.names().account_id;
  ctx.set("aws:PrincipalServiceName", std::string(service));
  ctx.set("aws:PrincipalIsAWSService", "true");
  if (!source_arn.empty()) ctx.set("aws:SourceArn", std::string(source_arn));
  if (!source_account.empty()) ctx.set("aws:SourceAccount", std::string(source_account));
  ctx.set("aws:CurrentTime", iso_time(now_ms() / 1000));
  for (const auto& [k, v] : access.keys) ctx.set(k, v);
  Applicable applicable;
  applicable.resource = resource_policy.get();
  Evaluation e = evaluate(applicable, ctx);
  if (e.decision == Decision::kAllow) return std::nullopt;
  if (e.decision == Decision::kImplicitDeny) e.policy_type = "resource-based";
  return aws::Denial{denied_message(e, ctx)};
}

std::optional<aws::Denial> AccessControl::may_assume(const Role& role, const aws::Caller* caller,
                                                     std::string_view service,
                                                     const http::Request* req) {
  auto trust = compile_cached(role.trust_policy, PolicyKind::kTrust);
  Context ctx;
  ctx.action = "sts:AssumeRole";
  ctx.resource = directory_.role_arn(role);
  ctx.account = directory_.names().account_id;
  bool identity_allows = false;
  if (caller) {
    aws::Access access{"sts:AssumeRole", ctx.resource, {}};
    ctx = context(*caller, access, req, true);
    identity_allows = caller->root || !authorize(*caller, access, *req);
  } else {
    ctx.service = std::string(service);
  }
  if (trust && evaluate_trust(*trust, ctx, identity_allows).decision == Decision::kAllow) {
    return std::nullopt;
  }
  return aws::Denial{
      fmt::format("User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                  caller ? caller->arn : std::string(service), ctx.resource)};
}

bool AccessControl::role_allows(std::string_view role_name, std::string_view action,
                                std::string_view resource) {
  auto snapshot = directory_.view();
  auto it = snapshot->by_role.find(std::string(role_name));
  if (it == snapshot->by_role.end()) return false;
  Applicable applicable;
  for (const auto& p : it->second.policies) applicable.identity.push_back(p.get());
  applicable.boundary = it->second.boundary.get();
  Context ctx;
  ctx.action = std::string(action);
  ctx.resource = std::string(resource);
  ctx.account = directory_.names().account_id;
  ctx.principal_arn =
      "arn:aws:sts::" + ctx.account + ":assumed-role/" + std::string(role_name) + "/lambent";
  return evaluate(applicable, ctx).decision == Decision::kAllow;
}

}  // namespace lambent::iam

#include "iam/policy.h"

#include "base/ip_range.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>

namespace lambent::iam {
namespace json = boost::json;

namespace {

Error malformed(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

// A string or an array of strings (numbers and booleans are written as text, as IAM keeps them).
std::optional<std::vector<std::string>> strings(const json::value& v) {
  auto one = [](const json::value& x) -> std::optional<std::string> {
    if (x.is_string()) return std::string(x.get_string());
    if (x.is_bool()) return std::string(x.get_bool() ? "true" : "false");
    if (x.is_int64()) return std::to_string(x.get_int64());
    if (x.is_uint64()) return std::to_string(x.get_uint64());
    if (x.is_double()) return json::serialize(x);
    return std::nullopt;
  };
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& x : v.get_array()) {
      auto s = one(x);
      if (!s) return std::nullopt;
      out.push_back(std::move(*s));
    }
    return out;
  }
  auto s = one(v);
  if (!s) return std::nullopt;
  out.push_back(std::move(*s));
  return out;
}

const std::set<std::string, std::less<>> kOperators = {"StringEquals",
                                                       "StringNotEquals",
                                                       "StringEqualsIgnoreCase",
                                                       "StringNotEqualsIgnoreCase",
                                                       "StringLike",
                                                       "StringNotLike",
                                                       "NumericEquals",
                                                       "NumericNotEquals",
                                                       "NumericLessThan",
                                                       "NumericLessThanEquals",
                                                       "NumericGreaterThan",
                                                       "NumericGreaterThanEquals",
                                                       "DateEquals",
                                                       "DateNotEquals",
                                                       "DateLessThan",
                                                       "DateLessThanEquals",
                                                       "DateGreaterThan",
                                                       "DateGreaterThanEquals",
                                                       "Bool",
                                                       "BinaryEquals",
                                                       "IpAddress",
                                                       "NotIpAddress",
                                                       "ArnEquals",
                                                       "ArnLike",
                                                       "ArnNotEquals",
                                                       "ArnNotLike",
                                                       "Null"};

Result<void> read_principal(const json::value& v, Statement& s) {
  s.has_principal = true;
  if (v.is_string()) {
    if (v.get_string() != "*")
      return malformed(fmt::format("Invalid principal in policy: \"{}\"", json::serialize(v)));
    s.principal_any = true;
    return {};
  }
  if (!v.is_object()) return malformed("Syntax errors in policy.");
  for (const auto& [type, value] : v.get_object()) {
    auto list = strings(value);
    if (!list) return malformed("Syntax errors in policy.");
    if (type == "AWS") {
      for (auto& p : *list) {
        if (p == "*") {
          s.principal_any = true;
        } else if (!(p.size() == 12 && std::all_of(p.begin(), p.end(), ::isdigit)) &&
                   !p.starts_with("arn:aws:iam::") && !p.starts_with("arn:aws:sts::")) {
          return malformed(fmt::format("Invalid principal in policy: \"AWS\":\"{}\"", p));
        }
        s.principal_aws.push_back(p);
      }
    } else if (type == "Service") {
      for (auto& p : *list) s.principal_service.push_back(p);
    } else if (type == "Federated" || type == "CanonicalUser") {
      // Accepted and kept out of evaluation: no federation here.
    } else {
      return malformed(fmt::format("Invalid principal in policy: \"{}\"", std::string(type)));
    }
  }
  return {};
}

Result<void> read_action(const json::value& v, Statement& s) {
  auto list = strings(v);
  if (!list || list->empty()) return malformed("Policy statement must contain actions.");
  for (auto& a : *list) {
    if (a == "*") {
      s.actions.push_back(a);
      continue;
    }
    size_t colon = a.find(':');
    if (colon == std::string::npos || colon == 0) {
      return malformed(
          "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    }
    if (a.find(':', colon + 1) != std::string::npos) {
      return malformed("Actions/Condition can contain only one colon.");
    }
    s.actions.push_back(lower(a));
  }
  return {};
}

Result<void> read_resource(const json::value& v, Statement& s) {
  auto list = strings(v);
  if (!list || list->empty()) return malformed("Policy statement must contain resources.");
  for (auto& r : *list) {
    if (r != "*" && !r.starts_with("arn:")) {
      return malformed(fmt::format("Resource {} must be in ARN format or \"*\".", r));
    }
    if (r.starts_with("arn:")) {
      // arn:partition:service:...: the service must be written out.
      size_t a = r.find(':', 4), b = a == std::string::npos ? a : r.find(':', a + 1);
      if (b == std::string::npos) {
        return malformed(fmt::format("Resource {} must be in ARN format or \"*\".", r));
      }
      std::string_view service = std::string_view(r).substr(a + 1, b - a - 1);
      if (service.empty() || service.find_first_of("*?") != std::string_view::npos) {
        return malformed("Resource vendor must be fully qualified and cannot contain regexes.");
      }
    }
    s.resources.push_back(r);
  }
  s.has_resource = true;
  return {};
}

Result<void> read_conditions(const json::value& v, Statement& s) {
  if (!v.is_object()) return malformed("Syntax errors in policy.");
  for (const auto& [op_name, block] : v.get_object()) {
    std::string_view name = op_name;
    Condition base;
    if (name.starts_with("ForAnyValue:")) {
      base.set = Condition::Set::kAnyValue;
      name.remove_prefix(12);
    } else if (name.starts_with("ForAllValues:")) {
      base.set = Condition::Set::kAllValues;
      name.remove_prefix(13);
    }
    if (name.ends_with("IfExists") && name != "IfExists") {
      base.if_exists = true;
      name.remove_suffix(8);
    }
    if (!kOperators.count(name) || (base.if_exists && name == "Null")) {
      return malformed(fmt::format("Invalid Condition type : {}.", std::string(op_name)));
    }
    base.op = std::string(name);
    if (!block.is_object()) return malformed("Syntax errors in policy.");
    for (const auto& [key, values] : block.get_object()) {
      auto list = strings(values);
      if (!list) return malformed("Syntax errors in policy.");
      Condition c = base;
      c.key = lower(key);
      c.values = std::move(*list);
      s.conditions.push_back(std::move(c));
    }
  }
  return {};
}

}  // namespace

void Context::set(std::string key, std::string value) { keys[lower(key)] = {std::move(value)}; }

Result<Policy> parse_policy(std::string_view document, PolicyKind kind) {
  boost::system::error_code ec;
  json::value v = json::parse(document, ec);
  if (ec || !v.is_object()) return malformed("Syntax errors in policy.");
  const auto& o = v.get_object();
  Policy p;
  p.version = "2008-10-17";
  for (const auto& [key, value] : o) {
    if (key == "Version") {
      if (!value.is_string()) return malformed("Syntax errors in policy.");
      p.version = std::string(value.get_string());
      if (p.version != "2012-10-17" && p.version != "2008-10-17") {
        return malformed("Policy document must be version 2012-10-17 or greater.");
      }
    } else if (key != "Statement" && key != "Id") {
      return malformed("Syntax errors in policy.");
    }
  }
  const json::value* st = o.if_contains("Statement");
  if (!st) return malformed("Syntax errors in policy.");
  std::vector<const json::object*> items;
  if (st->is_object()) {
    items.push_back(&st->get_object());
  } else if (st->is_array()) {
    for (const auto& x : st->get_array()) {
      if (!x.is_object()) return malformed("Syntax errors in policy.");
      items.push_back(&x.get_object());
    }
  } else {
    return malformed("Syntax errors in policy.");
  }
  std::set<std::string> sids;
  for (const json::object* item : items) {
    Statement s;
    bool has_action = false;
    for (const auto& [key, value] : *item) {
      if (key == "Sid") {
        if (!value.is_string()) return malformed("Syntax errors in policy.");
        s.sid = std::string(value.get_string());
        if (!s.sid.empty() && !sids.insert(s.sid).second) {
          return malformed("Statement IDs (SID) in a single policy must be unique.");
        }
      } else if (key == "Effect") {
        if (!value.is_string()) return malformed("Syntax errors in policy.");
        if (value.get_string() == "Allow") {
          s.allow = true;
        } else if (value.get_string() == "Deny") {
          s.allow = false;
        } else {
          return malformed("The policy failed legacy parsing");
        }
      } else if (key == "Principal" || key == "NotPrincipal") {
        if (kind == PolicyKind::kIdentity)
          return malformed("Policy document should not specify a principal.");
        if (s.has_principal) return malformed("Syntax errors in policy.");
        s.not_principal = key == "NotPrincipal";
        auto r = read_principal(value, s);
        if (!r) return r.error();
      } else if (key == "Action" || key == "NotAction") {
        if (has_action) return malformed("Syntax errors in policy.");
        has_action = true;
        s.not_action = key == "NotAction";
        auto r = read_action(value, s);
        if (!r) return r.error();
      } else if (key == "Resource" || key == "NotResource") {
        if (kind == PolicyKind::kTrust)
          return malformed(fmt::format("Has prohibited field {}", std::string(key)));
        if (s.has_resource) return malformed("Syntax errors in policy.");
        s.not_resource = key == "NotResource";
        auto r = read_resource(value, s);
        if (!r) return r.error();
      } else if (key == "Condition") {
        auto r = read_conditions(value, s);
        if (!r) return r.error();
      } else {
        return malformed("Syntax errors in policy.");
      }
    }
    if (!item->contains("Effect")) return malformed("Syntax errors in policy.");
    if (!has_action) return malformed("Policy statement must contain actions.");
    if (kind == PolicyKind::kIdentity && !s.has_resource) {
      return malformed("Policy statement must contain resources.");
    }
    if (kind != PolicyKind::kIdentity && !s.has_principal) {
      return malformed("Policy statement must contain a principal.");  // resource/trust
    }
    if (!s.conditions.empty()) p.needs_context = true;
    for (const auto& r : s.resources) {
      if (r.find("${") != std::string::npos) p.needs_context = true;
    }
    p.statements.push_back(std::move(s));
  }
  return p;
}

bool glob_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto eq = [ignore_case](char a, char b) {
    return ignore_case ? ascii_lower(a) == ascii_lower(b) : a == b;
  };
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

// Policy variables (${aws:username}, ${*}, ${?}, ${$}; defaults ", 'x'"): nullopt when a
// variable's key is absent and it has no default (the value then matches nothing).
std::optional<std::string> substitute(std::string_view s, const Context& ctx, bool enabled) {
  if (!enabled || s.find("${") == std::string_view::npos) return std::string(s);
  std::string out;
  size_t at = 0;
  while (at < s.size()) {
    size_t open = s.find("${", at);
    if (open == std::string_view::npos) {
      out += s.substr(at);
      break;
    }
    size_t close = s.find('}', open);
    if (close == std::string_view::npos) {
      out += s.substr(at);
      break;
    }
    out += s.substr(at, open - at);
    std::string_view var = s.substr(open + 2, close - open - 2);
    std::optional<std::string> fallback;
    if (size_t comma = var.find(", '"); comma != std::string_view::npos && var.ends_with("'")) {
      fallback = std::string(var.substr(comma + 3, var.size() - comma - 4));
      var = var.substr(0, comma);
    }
    if (var == "*" || var == "?" || var == "$") {
      // An escaped wildcard: kept literal by marking it (a literal '*' cannot be told from a
      // wildcard after substitution; IAM has the same limitation for matching purposes).
      out += var;
    } else {
      auto it = ctx.keys.find(lower(var));
      if (it != ctx.keys.end() && !it->second.empty()) {
        out += it->second.front();
      } else if (fallback) {
        out += *fallback;
      } else {
        return std::nullopt;
      }
    }
    at = close + 1;
  }
  return out;
}

bool action_matches(const Statement& s, std::string_view action) {
  bool any = std::any_of(s.actions.begin(), s.actions.end(),
                         [&](const std::string& a) { return glob_match(a, action, true); });
  return s.not_action ? !any : any;
}

bool resource_matches(const Statement& s, const Context& ctx, bool variables) {
  if (!s.has_resource) return true;  // trust policies
  bool any = false;
  for (const auto& r : s.resources) {
    auto pattern = substitute(r, ctx, variables);
    if (pattern && glob_match(*pattern, ctx.resource, false)) {
      any = true;
      break;
    }
  }
  return s.not_resource ? !any : any;
}

// How a statement's principal names the caller.
enum class Named { kNo, kAccount, kDirect };

Named principal_named(const Statement& s, const Context& ctx) {
  if (!s.has_principal) return Named::kDirect;
  Named best = Named::kNo;
  if (s.principal_any) best = Named::kDirect;
  if (!ctx.service.empty()) {
    for (const auto& svc : s.principal_service) {
      if (svc == ctx.service) best = Named::kDirect;
    }
  }
  if (!ctx.principal_arn.empty()) {
    for (const auto& p : s.principal_aws) {
      if (p == ctx.principal_arn || (!ctx.role_arn.empty() && p == ctx.role_arn)) {
        best = Named::kDirect;
      } else if ((p == ctx.account || p == "arn:aws:iam::" + ctx.account + ":root") &&
                 best == Named::kNo) {
        best = ctx.root ? Named::kDirect : Named::kAccount;
      }
    }
  }
  if (s.not_principal) return best == Named::kNo ? Named::kDirect : Named::kNo;
  return best;
}

// ---- Conditions ----------------------------------------------------------------------------

std::optional<double> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (*end != '\0' || std::isnan(d)) return std::nullopt;
  return d;
}

// ISO 8601 ("2026-12-01", "2026-12-01T12:00:00Z", with fraction or offset) or epoch seconds.
std::optional<double> date(std::string_view s) {
  if (auto n = number(s); n && s.find('-') == std::string_view::npos) return n;
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0;
  double sec = 0;
  char tz[8] = {0};
  std::string copy(s);
  int fields = std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%lf%7s", &y, &mo, &d, &h, &mi, &sec, tz);
  if (fields < 3) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  double t = static_cast<double>(timegm(&tm)) + sec;
  std::string_view zone = tz;
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-')) {
    int oh = std::atoi(std::string(zone.substr(1, 2)).c_str());
    int om = std::atoi(std::string(zone.substr(4, 2)).c_str());
    t -= (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  }
  return t;
}

// ARN parts compared one by one, each a glob.
bool arn_match(std::string_view pattern, std::string_view value) {
  auto split6 = [](std::string_view s) {
    std::vector<std::string_view> parts;
    for (int i = 0; i < 5; ++i) {
      size_t colon = s.find(':');
      if (colon == std::string_view::npos) return std::vector<std::string_view>{};
      parts.push_back(s.substr(0, colon));
      s.remove_prefix(colon + 1);
    }
    parts.push_back(s);
    return parts;
  };
  if (pattern == "*") return true;
  auto p = split6(pattern), v = split6(value);
  if (p.size() != 6 || v.size() != 6) return false;
  for (int i = 0; i < 6; ++i) {
    if (!glob_match(p[i], v[i], false)) return false;
  }
  return true;
}

bool negated(std::string_view op) {
  return op == "StringNotEquals" || op == "StringNotEqualsIgnoreCase" || op == "StringNotLike" ||
         op == "NumericNotEquals" || op == "DateNotEquals" || op == "ArnNotEquals" ||
         op == "ArnNotLike" || op == "NotIpAddress";
}

// One request value against one policy value, for the positive form of the operator.
bool value_matches(std::string_view op, std::string_view policy, std::string_view request) {
  if (op == "StringEquals" || op == "StringNotEquals") return policy == request;
  if (op == "StringEqualsIgnoreCase" || op == "StringNotEqualsIgnoreCase") {
    return lower(policy) == lower(request);
  }
  if (op == "StringLike" || op == "StringNotLike") return glob_match(policy, request, false);
  if (op.starts_with("Numeric")) {
    auto a = number(request), b = number(policy);
    if (!a || !b) return false;
    if (op == "NumericEquals" || op == "NumericNotEquals") return *a == *b;
    if (op == "NumericLessThan") return *a < *b;
    if (op == "NumericLessThanEquals") return *a <= *b;
    if (op == "NumericGreaterThan") return *a > *b;
    if (op == "NumericGreaterThanEquals") return *a >= *b;
  }
  if (op.starts_with("Date")) {
    auto a = date(request), b = date(policy);
    if (!a || !b) return false;
    if (op == "DateEquals" || op == "DateNotEquals") return *a == *b;
    if (op == "DateLessThan") return *a < *b;
    if (op == "DateLessThanEquals") return *a <= *b;
    if (op == "DateGreaterThan") return *a > *b;
    if (op == "DateGreaterThanEquals") return *a >= *b;
  }
  if (op == "Bool") return lower(policy) == lower(request);
  if (op == "BinaryEquals") return policy == request;
  if (op == "IpAddress" || op == "NotIpAddress") {
    auto range = IpRange::parse(policy), ip = IpRange::parse(request);
    return range && ip && range->contains(*ip);
  }
  if (op.starts_with("Arn")) return arn_match(policy, request);
  return false;
}

bool substitutable(std::string_view op) {
  return op.starts_with("String") || op.starts_with("Arn") || op == "Bool";
}

bool condition_holds(const Condition& c, const Context& ctx, bool variables) {
  auto it = ctx.keys.find(c.key);
  const bool present = it != ctx.keys.end() && !it->second.empty();
  if (c.op == "Null") {
    bool want_absent = !c.values.empty() && lower(c.values.front()) == "true";
    return want_absent ? !present : present;
  }
  const bool neg = negated(c.op);
  if (c.set == Condition::Set::kAllValues && !present) return true;
  if (c.set == Condition::Set::kAnyValue && !present) return false;
  if (!present) return c.if_exists || neg;
  std::vector<std::string> policy_values;
  for (const auto& v : c.values) {
    auto s = substitutable(c.op) ? substitute(v, ctx, variables) : std::optional<std::string>(v);
    if (s) policy_values.push_back(std::move(*s));
  }
  // One request value: positive → matches some policy value; negated → matches none.
  auto one = [&](const std::string& request) {
    bool any = std::any_of(policy_values.begin(), policy_values.end(),
                           [&](const std::string& p) { return value_matches(c.op, p, request); });
    return neg ? !any : any;
  };
  const auto& request_values = it->second;
  switch (c.set) {
    case Condition::Set::kAnyValue:
      return std::any_of(request_values.begin(), request_values.end(), one);
    case Condition::Set::kAllValues:
      return std::all_of(request_values.begin(), request_values.end(), one);
    case Condition::Set::kNone:
      break;
  }
  return one(request_values.front());
}

bool conditions_hold(const Statement& s, const Context& ctx, bool variables) {
  return std::all_of(s.conditions.begin(), s.conditions.end(),
                     [&](const Condition& c) { return condition_holds(c, ctx, variables); });
}

// Does the statement apply to the request (principal aside)?
bool applies(const Statement& s, const Context& ctx, bool variables) {
  return action_matches(s, ctx.action) && resource_matches(s, ctx, variables) &&
         conditions_hold(s, ctx, variables);
}

struct Outcome {
  bool deny = false;
  bool allow = false;
  bool allow_direct = false;  // resource policies: an Allow that names the caller itself
};

Outcome scan(const Policy& p, const Context& ctx, bool with_principal) {
  Outcome o;
  const bool variables = p.version == "2012-10-17";
  for (const auto& s : p.statements) {
    Named named = with_principal ? principal_named(s, ctx) : Named::kDirect;
    if (named == Named::kNo || !applies(s, ctx, variables)) continue;
    if (!s.allow) {
      o.deny = true;
    } else {
      o.allow = true;
      if (named == Named::kDirect) o.allow_direct = true;
    }
  }
  return o;
}

}  // namespace

Evaluation evaluate(const Applicable& policies, const Context& ctx) {
  Evaluation e;
  // 1. An explicit Deny in any applicable policy.
  bool identity_allow = false;
  for (const Policy* p : policies.identity) {
    Outcome o = scan(*p, ctx, false);
    if (o.deny) return {Decision::kExplicitDeny, "identity-based"};
    identity_allow = identity_allow || o.allow;
  }
  Outcome resource;
  if (policies.resource) {
    resource = scan(*policies.resource, ctx, true);
    if (resource.deny) return {Decision::kExplicitDeny, "resource-based"};
  }
  Outcome boundary, session;
  if (policies.boundary) {
    boundary = scan(*policies.boundary, ctx, false);
    if (boundary.deny) return {Decision::kExplicitDeny, "permissions boundary"};
  }
  if (policies.session) {
    session = scan(*policies.session, ctx, false);
    if (session.deny) return {Decision::kExplicitDeny, "sessions"};
  }
  // The account's root may do anything not explicitly denied.
  if (ctx.root) return {Decision::kAllow, ""};
  // 2. A resource policy naming the caller itself (user, session, everyone, a service) grants
  // on its own; one naming a role is still capped by the boundary and session policies.
  if (resource.allow_direct) {
    const bool to_role_only = !ctx.role_arn.empty();
    if (!to_role_only) return {Decision::kAllow, ""};
    if ((!policies.boundary || boundary.allow) && (!policies.session || session.allow)) {
      return {Decision::kAllow, ""};
    }
  }
  // 3. Identity policies, capped by the boundary and the session policy.
  if (!identity_allow) {
    e.policy_type = policies.resource && !ctx.service.empty() ? "resource-based" : "identity-based";
    return e;
  }
  if (policies.boundary && !boundary.allow)
    return {Decision::kImplicitDeny, "permissions boundary"};
  if (policies.session && !session.allow) return {Decision::kImplicitDeny, "session"};
  return {Decision::kAllow, ""};
}

Evaluation evaluate_trust(const Policy& trust, const Context& ctx, bool identity_allows) {
  const bool variables = trust.version == "2012-10-17";
  bool allow_direct = false, allow_account = false;
  for (const auto& s : trust.statements) {
    Named named = principal_named(s, ctx);
    if (named == Named::kNo || !applies(s, ctx, variables)) continue;
    if (!s.allow) return {Decision::kExplicitDeny, "role trust"};
    if (named == Named::kDirect) allow_direct = true;
    if (named == Named::kAccount) allow_account = true;
  }
  if (allow_direct || (allow_account && identity_allows)) return {Decision::kAllow, ""};
  return {Decision::kImplicitDeny, "role trust"};
}

std::string denied_message(const Evaluation& e, const Context& ctx) {
  std::string who = ctx.principal_arn.empty() ? ctx.service : ctx.principal_arn;
  std::string on =
      ctx.resource.empty() || ctx.resource == "*" ? "" : " on resource: " + ctx.resource;
  if (e.decision == Decision::kExplicitDeny) {
    std::string where = e.policy_type == "role trust" ? "the role trust policy"
                        : e.policy_type == "sessions" ? "a sessions policy"
                                                      : "a " + e.policy_type + " policy";
    if (e.policy_type == "permissions boundary") where = "a permissions boundary";
    return fmt::format("User: {} is not authorized to perform: {}{} with an explicit deny in {}",
                       who, ctx.action, on, where);
  }
  std::string type =
      e.policy_type == "permissions boundary" ? "permissions boundary" : e.policy_type + " policy";
  return fmt::format(
      "User: {} is not authorized to perform: {}{} because no {} allows the {} action", who,
      ctx.action, on, type, ctx.action);
}

}  // namespace lambent::iam

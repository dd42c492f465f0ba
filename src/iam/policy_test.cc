#include "iam/policy.h"

#include <gtest/gtest.h>

namespace lambent::iam {
namespace {

constexpr const char* kAccount = "000000000000";
constexpr const char* kUser = "arn:aws:iam::000000000000:user/alice";
constexpr const char* kFn = "arn:aws:lambda:us-east-1:000000000000:function:f";

// An identity statement; `extra` is spliced into the statement object.
std::string allow(const std::string& action, const std::string& resource,
                  const std::string& extra = "", const std::string& effect = "Allow") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":")" + effect + R"(","Action":)" +
         action + R"(,"Resource":)" + resource + (extra.empty() ? "" : "," + extra) + "}]}";
}
std::string deny(const std::string& action, const std::string& resource,
                 const std::string& extra = "") {
  return allow(action, resource, extra, "Deny");
}
std::string cond(const std::string& op, const std::string& key, const std::string& values) {
  return R"("Condition":{")" + op + R"(":{")" + key + R"(":)" + values + "}}";
}
std::string resource_policy(const std::string& principal, const std::string& action,
                            const std::string& resource, const std::string& extra = "",
                            const std::string& effect = "Allow") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":")" + effect + R"(","Principal":)" +
         principal + R"(,"Action":)" + action + R"(,"Resource":)" + resource +
         (extra.empty() ? "" : "," + extra) + "}]}";
}

struct Head {
  const char* name;
  std::vector<std::string> identity;
  std::string resource;  // resource policy ("" = none)
  std::string boundary;  // ("" = none)
};
struct Opts {
  std::string action = "lambda:InvokeFunction";
  std::string target = kFn;
  std::vector<std::pair<std::string, std::vector<std::string>>> keys = {};
  std::string principal = kUser;
  std::string role_arn = "";
  std::string service = "";
  Decision want = Decision::kAllow;
};
struct Case : Head, Opts {};
Case mk(Head h, Opts o) { return Case{std::move(h), std::move(o)}; }

Decision run(const Case& c) {
  std::vector<Policy> identity;
  for (const auto& doc : c.identity) {
    auto p = parse_policy(doc, PolicyKind::kIdentity);
    EXPECT_TRUE(p) << c.name << ": " << (p ? "" : p.error().message) << "\n" << doc;
    if (p) identity.push_back(*p);
  }
  std::optional<Policy> resource, boundary;
  if (!c.resource.empty()) {
    auto p = parse_policy(c.resource, PolicyKind::kResource);
    EXPECT_TRUE(p) << c.name << ": " << (p ? "" : p.error().message);
    if (p) resource = *p;
  }
  if (!c.boundary.empty()) boundary = *parse_policy(c.boundary, PolicyKind::kIdentity);
  Applicable a;
  for (const auto& p : identity) a.identity.push_back(&p);
  a.resource = resource ? &*resource : nullptr;
  a.boundary = boundary ? &*boundary : nullptr;
  Context ctx;
  ctx.action = c.action;
  ctx.resource = c.target;
  ctx.principal_arn = c.principal;
  ctx.role_arn = c.role_arn;
  ctx.service = c.service;
  ctx.account = kAccount;
  for (const auto& [k, v] : c.keys) {
    std::string key = k;
    for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ctx.keys[key] = v;
  }
  return evaluate(a, ctx).decision;
}

const Decision A = Decision::kAllow, X = Decision::kExplicitDeny, I = Decision::kImplicitDeny;
const std::string kAct = R"("lambda:InvokeFunction")";
const std::string kAll = R"("*")";
const std::string kFnQ = std::string("\"") + kFn + "\"";

std::vector<Case> cases() {
  return {
      // Basics and precedence
      mk({"no policy is an implicit deny", {}, "", ""}, {.want = I}),
      mk({"exact action and resource", {allow(kAct, kFnQ)}, "", ""}, {}),
      mk({"star action and resource", {allow(kAll, kAll)}, "", ""}, {}),
      mk({"other action does not match", {allow(R"("lambda:GetFunction")", kFnQ)}, "", ""},
         {.want = I}),
      mk({"action is case-insensitive", {allow(R"("Lambda:invokefunction")", kFnQ)}, "", ""}, {}),
      mk({"action wildcard prefix", {allow(R"("lambda:Invoke*")", kFnQ)}, "", ""}, {}),
      mk({"action wildcard service", {allow(R"("lambda:*")", kAll)}, "", ""}, {}),
      mk({"action ? wildcard", {allow(R"("lambda:InvokeFunctio?")", kFnQ)}, "", ""}, {}),
      mk({"action list", {allow(R"(["sqs:SendMessage","lambda:InvokeFunction"])", kAll)}, "", ""},
         {}),
      mk({"wrong service", {allow(R"("sqs:*")", kAll)}, "", ""}, {.want = I}),
      mk({"explicit deny beats allow", {allow(kAll, kAll), deny(kAct, kFnQ)}, "", ""}, {.want = X}),
      mk({"deny in the same policy's other statement",
          {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},)"
           R"({"Effect":"Deny","Action":"lambda:Invoke*","Resource":"*"}]})"},
          "",
          ""},
         {.want = X}),
      mk({"deny on another resource does not apply",
          {allow(kAll, kAll), deny(kAct, R"("arn:aws:lambda:us-east-1:000000000000:function:g")")},
          "",
          ""},
         {}),
      mk({"single statement object (not a list)",
          {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*"}})"},
          "",
          ""},
         {}),
      // Resources
      mk({"resource wildcard in name",
          {allow(kAct, R"("arn:aws:lambda:us-east-1:000000000000:function:*")")},
          "",
          ""},
         {}),
      mk({"resource star spans qualifier",
          {allow(kAct, R"("arn:aws:lambda:*:*:function:*")")},
          "",
          ""},
         {.target = std::string(kFn) + ":3"}),
      mk({"resource other function",
          {allow(kAct, R"("arn:aws:lambda:us-east-1:000000000000:function:g")")},
          "",
          ""},
         {.want = I}),
      mk({"unqualified ARN does not match a qualified one", {allow(kAct, kFnQ)}, "", ""},
         {.target = std::string(kFn) + ":prod", .want = I}),
      mk({"resource is case-sensitive",
          {allow(kAct, R"("arn:aws:lambda:us-east-1:000000000000:function:F")")},
          "",
          ""},
         {.want = I}),
      mk({"resource ? wildcard",
          {allow(kAct, R"("arn:aws:lambda:us-east-1:000000000000:function:?")")},
          "",
          ""},
         {}),
      mk({"resource list",
          {allow(kAct, std::string(R"(["arn:aws:sqs:*:*:q",)") + kFnQ + "]")},
          "",
          ""},
         {}),
      // NotAction / NotResource
      mk({"NotAction allow grants the rest",
          {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]})"},
          "",
          ""},
         {}),
      mk({"NotAction allow excludes listed",
          {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"lambda:*","Resource":"*"}]})"},
          "",
          ""},
         {.want = I}),
      mk({"NotAction deny denies the rest",
          {allow(kAll, kAll),
           R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"sqs:*","Resource":"*"}]})"},
          "",
          ""},
         {.want = X}),
      mk({"NotAction deny spares listed",
          {allow(kAll, kAll),
           R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"lambda:*","Resource":"*"}]})"},
          "",
          ""},
         {}),
      mk({"NotResource allow elsewhere",
          {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:lambda:*:*:function:g"}]})"},
          "",
          ""},
         {}),
      mk({"NotResource allow excludes this",
          {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:lambda:*:*:function:f"}]})"},
          "",
          ""},
         {.want = I}),
      mk({"NotResource deny protects others",
          {allow(kAll, kAll),
           R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","NotResource":"arn:aws:lambda:*:*:function:g"}]})"},
          "",
          ""},
         {.want = X}),
      // String conditions
      mk({"StringEquals matches",
          {allow(kAct, kAll, cond("StringEquals", "aws:RequestedRegion", R"("us-east-1")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}}),
      mk({"StringEquals differs",
          {allow(kAct, kAll, cond("StringEquals", "aws:RequestedRegion", R"("eu-west-1")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}, .want = I}),
      mk({"StringEquals is case-sensitive",
          {allow(kAct, kAll, cond("StringEquals", "aws:RequestedRegion", R"("US-EAST-1")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}, .want = I}),
      mk({"StringEqualsIgnoreCase",
          {allow(kAct, kAll,
                 cond("StringEqualsIgnoreCase", "aws:RequestedRegion", R"("US-EAST-1")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}}),
      mk({"StringEquals values are OR",
          {allow(kAct, kAll,
                 cond("StringEquals", "aws:RequestedRegion", R"(["eu-west-1","us-east-1"])"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}}),
      mk({"StringNotEquals must differ from all",
          {allow(kAct, kAll,
                 cond("StringNotEquals", "aws:RequestedRegion", R"(["eu-west-1","us-east-1"])"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}, .want = I}),
      mk({"StringNotEquals true on absent key",
          {allow(kAct, kAll, cond("StringNotEquals", "aws:RequestedRegion", R"("x")"))},
          "",
          ""},
         {}),
      mk({"StringEquals false on absent key",
          {allow(kAct, kAll, cond("StringEquals", "aws:RequestedRegion", R"("x")"))},
          "",
          ""},
         {.want = I}),
      mk({"StringLike wildcard",
          {allow(kAct, kAll, cond("StringLike", "aws:UserAgent", R"("Boto3/*")"))},
          "",
          ""},
         {.keys = {{"aws:UserAgent", {"Boto3/1.26 Python/3.11"}}}}),
      mk({"StringNotLike",
          {allow(kAct, kAll, cond("StringNotLike", "aws:UserAgent", R"("curl*")"))},
          "",
          ""},
         {.keys = {{"aws:UserAgent", {"curl/8"}}}, .want = I}),
      mk({"condition key names are case-insensitive",
          {allow(kAct, kAll, cond("StringEquals", "AWS:requestedregion", R"("us-east-1")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}}),
      mk({"StringEqualsIfExists absent",
          {allow(kAct, kAll, cond("StringEqualsIfExists", "aws:RequestedRegion", R"("x")"))},
          "",
          ""},
         {}),
      mk({"StringEqualsIfExists present and different",
          {allow(kAct, kAll, cond("StringEqualsIfExists", "aws:RequestedRegion", R"("x")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"y"}}}, .want = I}),
      mk({"policy variable in resource",
          {allow(kAct, R"("arn:aws:lambda:*:*:function:${aws:username}-*")")},
          "",
          ""},
         {.target = "arn:aws:lambda:us-east-1:000000000000:function:alice-f",
          .keys = {{"aws:username", {"alice"}}}}),
      mk({"policy variable for another user",
          {allow(kAct, R"("arn:aws:lambda:*:*:function:${aws:username}-*")")},
          "",
          ""},
         {.target = "arn:aws:lambda:us-east-1:000000000000:function:bob-f",
          .keys = {{"aws:username", {"alice"}}},
          .want = I}),
      mk({"policy variable in 2008 version is literal",
          {R"({"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:lambda:*:*:function:${aws:username}"}]})"},
          "",
          ""},
         {.target = "arn:aws:lambda:us-east-1:000000000000:function:alice",
          .keys = {{"aws:username", {"alice"}}},
          .want = I}),
      mk({"policy variable with default",
          {allow(kAct, kAll,
                 cond("StringEquals", "aws:RequestedRegion",
                      R"("${aws:PrincipalTag/region, 'us-east-1'}")"))},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}}}),
      // Numeric, Date, Bool, IP, Arn, Null
      mk({"NumericLessThan true",
          {allow(kAct, kAll, cond("NumericLessThan", "s3:max-keys", R"("10")"))},
          "",
          ""},
         {.keys = {{"s3:max-keys", {"5"}}}}),
      mk({"NumericLessThan false",
          {allow(kAct, kAll, cond("NumericLessThan", "s3:max-keys", R"(10)"))},
          "",
          ""},
         {.keys = {{"s3:max-keys", {"50"}}}, .want = I}),
      mk({"NumericGreaterThanEquals",
          {allow(kAct, kAll, cond("NumericGreaterThanEquals", "s3:max-keys", R"("10")"))},
          "",
          ""},
         {.keys = {{"s3:max-keys", {"10"}}}}),
      mk({"NumericEquals non-number fails",
          {allow(kAct, kAll, cond("NumericEquals", "s3:max-keys", R"("10")"))},
          "",
          ""},
         {.keys = {{"s3:max-keys", {"ten"}}}, .want = I}),
      mk({"NumericNotEquals",
          {allow(kAct, kAll, cond("NumericNotEquals", "s3:max-keys", R"("10")"))},
          "",
          ""},
         {.keys = {{"s3:max-keys", {"11"}}}}),
      mk({"DateLessThan ISO",
          {allow(kAct, kAll, cond("DateLessThan", "aws:CurrentTime", R"("2027-01-01T00:00:00Z")"))},
          "",
          ""},
         {.keys = {{"aws:CurrentTime", {"2026-12-01T12:00:00Z"}}}}),
      mk({"DateGreaterThan ISO false",
          {allow(kAct, kAll, cond("DateGreaterThan", "aws:CurrentTime", R"("2027-01-01")"))},
          "",
          ""},
         {.keys = {{"aws:CurrentTime", {"2026-12-01T12:00:00Z"}}}, .want = I}),
      mk({"Date epoch against ISO",
          {allow(kAct, kAll, cond("DateGreaterThanEquals", "aws:CurrentTime", R"("1796126400")"))},
          "",
          ""},
         {.keys = {{"aws:CurrentTime", {"2026-12-01T12:00:00Z"}}}}),
      mk({"Bool true",
          {allow(kAct, kAll, cond("Bool", "aws:SecureTransport", R"("true")"))},
          "",
          ""},
         {.keys = {{"aws:SecureTransport", {"true"}}}}),
      mk({"Bool false denies https-only",
          {allow(kAct, kAll, cond("Bool", "aws:SecureTransport", R"(true)"))},
          "",
          ""},
         {.keys = {{"aws:SecureTransport", {"false"}}}, .want = I}),
      mk({"Deny when not secure transport",
          {allow(kAll, kAll), deny(kAll, kAll, cond("Bool", "aws:SecureTransport", R"("false")"))},
          "",
          ""},
         {.keys = {{"aws:SecureTransport", {"false"}}}, .want = X}),
      mk({"IpAddress in CIDR",
          {allow(kAct, kAll, cond("IpAddress", "aws:SourceIp", R"("127.0.0.0/8")"))},
          "",
          ""},
         {.keys = {{"aws:SourceIp", {"127.0.0.1"}}}}),
      mk({"IpAddress outside CIDR",
          {allow(kAct, kAll, cond("IpAddress", "aws:SourceIp", R"("10.0.0.0/8")"))},
          "",
          ""},
         {.keys = {{"aws:SourceIp", {"127.0.0.1"}}}, .want = I}),
      mk({"IpAddress IPv6",
          {allow(kAct, kAll, cond("IpAddress", "aws:SourceIp", R"("2001:db8::/32")"))},
          "",
          ""},
         {.keys = {{"aws:SourceIp", {"2001:db8::1"}}}}),
      mk({"NotIpAddress",
          {allow(kAct, kAll,
                 cond("NotIpAddress", "aws:SourceIp", R"(["10.0.0.0/8","192.168.0.0/16"])"))},
          "",
          ""},
         {.keys = {{"aws:SourceIp", {"127.0.0.1"}}}}),
      mk({"ArnLike with wildcards per part",
          {allow(kAct, kAll, cond("ArnLike", "aws:SourceArn", R"("arn:aws:s3:::my-*")"))},
          "",
          ""},
         {.keys = {{"aws:SourceArn", {"arn:aws:s3:::my-bucket"}}}}),
      mk({"ArnEquals different",
          {allow(kAct, kAll, cond("ArnEquals", "aws:SourceArn", R"("arn:aws:s3:::a")"))},
          "",
          ""},
         {.keys = {{"aws:SourceArn", {"arn:aws:s3:::b"}}}, .want = I}),
      mk({"ArnNotLike",
          {allow(kAct, kAll,
                 cond("ArnNotLike", "aws:PrincipalArn", R"("arn:aws:iam::*:role/admin*")"))},
          "",
          ""},
         {.keys = {{"aws:PrincipalArn", {kUser}}}}),
      mk({"Null true means absent",
          {allow(kAct, kAll, cond("Null", "aws:TokenIssueTime", R"("true")"))},
          "",
          ""},
         {}),
      mk({"Null false means present",
          {allow(kAct, kAll, cond("Null", "aws:TokenIssueTime", R"("false")"))},
          "",
          ""},
         {.want = I}),
      mk({"two operators are AND",
          {allow(
              kAct, kAll,
              R"("Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}})")},
          "",
          ""},
         {.keys = {{"aws:RequestedRegion", {"us-east-1"}}, {"aws:SecureTransport", {"false"}}},
          .want = I}),
      // Sets
      mk({"ForAnyValue one matches",
          {allow(kAct, kAll,
                 cond("ForAnyValue:StringEquals", "aws:TagKeys", R"(["team","cost"])"))},
          "",
          ""},
         {.keys = {{"aws:TagKeys", {"cost", "other"}}}}),
      mk({"ForAnyValue absent is false",
          {allow(kAct, kAll, cond("ForAnyValue:StringEquals", "aws:TagKeys", R"(["team"])"))},
          "",
          ""},
         {.want = I}),
      mk({"ForAllValues all in set",
          {allow(kAct, kAll,
                 cond("ForAllValues:StringEquals", "aws:TagKeys", R"(["team","cost"])"))},
          "",
          ""},
         {.keys = {{"aws:TagKeys", {"cost", "team"}}}}),
      mk({"ForAllValues one outside",
          {allow(kAct, kAll, cond("ForAllValues:StringEquals", "aws:TagKeys", R"(["team"])"))},
          "",
          ""},
         {.keys = {{"aws:TagKeys", {"cost", "team"}}}, .want = I}),
      mk({"ForAllValues absent is true",
          {allow(kAct, kAll, cond("ForAllValues:StringEquals", "aws:TagKeys", R"(["team"])"))},
          "",
          ""},
         {}),
      mk({"ForAnyValue:StringLike",
          {allow(kAct, kAll, cond("ForAnyValue:StringLike", "aws:TagKeys", R"("te*")"))},
          "",
          ""},
         {.keys = {{"aws:TagKeys", {"x", "team"}}}}),
      // Resource policies
      mk({"resource policy alone allows the named user",
          {},
          resource_policy(R"({"AWS":")" + std::string(kUser) + R"("})", kAct, kFnQ),
          ""},
         {}),
      mk({"resource policy allows everyone", {}, resource_policy(R"("*")", kAct, kFnQ), ""}, {}),
      mk({"resource policy naming another user",
          {},
          resource_policy(R"({"AWS":"arn:aws:iam::000000000000:user/bob"})", kAct, kFnQ),
          ""},
         {.want = I}),
      mk({"resource policy naming the account delegates to identity",
          {},
          resource_policy(R"({"AWS":"000000000000"})", kAct, kFnQ),
          ""},
         {.want = I}),
      mk({"account principal plus identity allow",
          {allow(kAct, kAll)},
          resource_policy(R"({"AWS":"arn:aws:iam::000000000000:root"})", kAct, kFnQ),
          ""},
         {}),
      mk({"resource policy explicit deny beats identity allow",
          {allow(kAll, kAll)},
          resource_policy(R"("*")", kAct, kFnQ, "", "Deny"),
          ""},
         {.want = X}),
      mk({"service principal allowed",
          {},
          resource_policy(R"({"Service":"s3.amazonaws.com"})", kAct, kFnQ),
          ""},
         {.principal = "", .service = "s3.amazonaws.com"}),
      mk({"other service principal refused",
          {},
          resource_policy(R"({"Service":"s3.amazonaws.com"})", kAct, kFnQ),
          ""},
         {.principal = "", .service = "sns.amazonaws.com", .want = I}),
      mk({"service principal with matching SourceArn",
          {},
          resource_policy(R"({"Service":"s3.amazonaws.com"})", kAct, kFnQ,
                          cond("ArnLike", "aws:SourceArn", R"("arn:aws:s3:::uploads")")),
          ""},
         {.keys = {{"aws:SourceArn", {"arn:aws:s3:::uploads"}}},
          .principal = "",
          .service = "s3.amazonaws.com"}),
      mk({"service principal with another SourceArn",
          {},
          resource_policy(R"({"Service":"s3.amazonaws.com"})", kAct, kFnQ,
                          cond("ArnLike", "aws:SourceArn", R"("arn:aws:s3:::uploads")")),
          ""},
         {.keys = {{"aws:SourceArn", {"arn:aws:s3:::other"}}},
          .principal = "",
          .service = "s3.amazonaws.com",
          .want = I}),
      mk({"service principal with SourceAccount",
          {},
          resource_policy(R"({"Service":"sns.amazonaws.com"})", kAct, kFnQ,
                          cond("StringEquals", "aws:SourceAccount", R"("000000000000")")),
          ""},
         {.keys = {{"aws:SourceAccount", {"000000000000"}}},
          .principal = "",
          .service = "sns.amazonaws.com"}),
      mk({"resource policy naming the role grants its sessions",
          {},
          resource_policy(R"({"AWS":"arn:aws:iam::000000000000:role/r"})", kAct, kFnQ),
          ""},
         {.principal = "arn:aws:sts::000000000000:assumed-role/r/s",
          .role_arn = "arn:aws:iam::000000000000:role/r"}),
      mk({"NotPrincipal deny spares the listed",
          {allow(kAll, kAll)},
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":")" +
              std::string(kUser) + R"("},"Action":"*","Resource":"*"}]})",
          ""},
         {}),
      mk({"NotPrincipal deny hits others",
          {allow(kAll, kAll)},
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::000000000000:user/bob"},"Action":"*","Resource":"*"}]})",
          ""},
         {.want = X}),
      // Permissions boundary
      mk({"boundary allows", {allow(kAll, kAll)}, "", allow(R"("lambda:*")", kAll)}, {}),
      mk({"boundary caps identity allow", {allow(kAll, kAll)}, "", allow(R"("sqs:*")", kAll)},
         {.want = I}),
      mk({"boundary never grants on its own", {}, "", allow(kAll, kAll)}, {.want = I}),
      mk({"boundary does not cap a resource grant to the user",
          {},
          resource_policy(R"({"AWS":")" + std::string(kUser) + R"("})", kAct, kFnQ),
          allow(R"("sqs:*")", kAll)},
         {}),
  };
}

TEST(PolicyEvaluation, Table) {
  auto all = cases();
  EXPECT_GE(all.size(), 60u);
  for (const auto& c : all) EXPECT_EQ(run(c), c.want) << c.name;
}

TEST(PolicyEvaluation, RootIsAllowedUnlessExplicitlyDenied) {
  Context ctx;
  ctx.action = "lambda:DeleteFunction";
  ctx.resource = kFn;
  ctx.principal_arn = "arn:aws:iam::000000000000:root";
  ctx.account = kAccount;
  ctx.root = true;
  EXPECT_EQ(evaluate({}, ctx).decision, Decision::kAllow);
  auto p = *parse_policy(resource_policy(R"("*")", R"("lambda:*")", kAll, "", "Deny"),
                         PolicyKind::kResource);
  Applicable a;
  a.resource = &p;
  EXPECT_EQ(evaluate(a, ctx).decision, Decision::kExplicitDeny);
}

TEST(PolicyEvaluation, TrustPolicies) {
  auto trust = *parse_policy(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})",
      PolicyKind::kTrust);
  Context lambda;
  lambda.action = "sts:AssumeRole";
  lambda.service = "lambda.amazonaws.com";
  lambda.account = kAccount;
  EXPECT_EQ(evaluate_trust(trust, lambda, false).decision, Decision::kAllow);
  Context user;
  user.action = "sts:AssumeRole";
  user.principal_arn = kUser;
  user.account = kAccount;
  EXPECT_EQ(evaluate_trust(trust, user, true).decision, Decision::kImplicitDeny);
  auto account = *parse_policy(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]})",
      PolicyKind::kTrust);
  EXPECT_EQ(evaluate_trust(account, user, false).decision, Decision::kImplicitDeny);
  EXPECT_EQ(evaluate_trust(account, user, true).decision, Decision::kAllow);
}

TEST(PolicyEvaluation, DeniedMessagesAreAws) {
  Context ctx;
  ctx.action = "lambda:ListFunctions";
  ctx.resource = "*";
  ctx.principal_arn = kUser;
  EXPECT_EQ(denied_message({Decision::kImplicitDeny, "identity-based"}, ctx),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "lambda:ListFunctions because no identity-based policy allows the "
            "lambda:ListFunctions action");
  ctx.resource = kFn;
  ctx.action = "lambda:InvokeFunction";
  EXPECT_EQ(denied_message({Decision::kExplicitDeny, "identity-based"}, ctx),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:f "
            "with an explicit deny in a identity-based policy");
}

struct Bad {
  const char* doc;
  PolicyKind kind;
  const char* message;
};

TEST(PolicyParsing, MalformedDocumentsAreRefusedWithIamMessages) {
  const std::vector<Bad> bad = {
      {"not json", PolicyKind::kIdentity, "Syntax errors in policy."},
      {R"({"Version":"2012-10-18","Statement":[]})", PolicyKind::kIdentity,
       "Policy document must be version 2012-10-17 or greater."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]})",
       PolicyKind::kIdentity, "The policy failed legacy parsing"},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]})",
       PolicyKind::kIdentity, "Policy statement must contain actions."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]})",
       PolicyKind::kIdentity, "Policy statement must contain resources."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"invoke","Resource":"*"}]})",
       PolicyKind::kIdentity,
       "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b:c","Resource":"*"}]})",
       PolicyKind::kIdentity, "Actions/Condition can contain only one colon."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"fn"}]})",
       PolicyKind::kIdentity, "Resource fn must be in ARN format or \"*\"."},
      {R"({"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"}]})",
       PolicyKind::kIdentity, "Statement IDs (SID) in a single policy must be unique."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]})",
       PolicyKind::kIdentity, "Policy document should not specify a principal."},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]})",
       PolicyKind::kTrust, "Has prohibited field Resource"},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}]})",
       PolicyKind::kIdentity, "Invalid Condition type : StringEqualz."},
  };
  for (const auto& b : bad) {
    auto p = parse_policy(b.doc, b.kind);
    ASSERT_FALSE(p) << b.doc;
    EXPECT_EQ(p.error().message, b.message) << b.doc;
  }
}

TEST(Glob, Matching) {
  EXPECT_TRUE(glob_match("a*c", "abbbc", false));
  EXPECT_TRUE(glob_match("*", "", false));
  EXPECT_FALSE(glob_match("a?c", "ac", false));
  EXPECT_TRUE(glob_match("A*", "abc", true));
  EXPECT_FALSE(glob_match("A*", "abc", false));
}

}  // namespace
}  // namespace lambent::iam

// Concurrency: PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency and the
// provisioned concurrency configurations of versions and aliases (compat §1.7, §1.10, §4).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "services/lambda/errors.h"
#include "services/lambda/validation.h"
#include "services/lambda/paging.h"
#include "services/lambda/json_body.h"
#include "services/lambda/lambda_api.h"
#include "base/time.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr int64_t kMinUnreserved = 100;
constexpr size_t kListPageMax = 50;

std::string unqualified(const http::Request& req, const Names& names) {
  return unqualified_function(req.label("FunctionName"), names,
                              "concurrency applies to the whole function.");
}

// The body's one count member (`member`, "field" in messages): required, at least `min`.
int64_t read_count(const http::Request& req, const char* member, const char* field, int64_t min) {
  JsonBody body(req.body);
  body.only({member});
  auto n = body.integer(member);
  Violations v;
  n ? v.min(*n, field, min) : v.null(field);
  v.throw_if_any();
  return *n;
}

// ?Qualifier of the provisioned concurrency operations: required, a version number or an alias.
std::pair<std::string, std::string> provisioned_target(const http::Request& req,
                                                       const Names& names) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names);
  auto q = merge_qualifier(ref, req.query_param("Qualifier"));
  if (!q) throw_null("qualifier");
  if (*q == store::kLatest) {
    throw_invalid_parameter("Provisioned Concurrency Configs cannot be applied to unpublished "
                            "function versions.");
  }
  return {ref.name, *q};
}

}  // namespace

http::Response LambdaApi::put_function_concurrency(http::Request& req) {
  std::string name = unqualified(req, names_);
  const int64_t n =
      read_count(req, "ReservedConcurrentExecutions", "reservedConcurrentExecutions", 0);
  // One reservation change at a time, so that two cannot together break the unreserved minimum.
  std::lock_guard lock(concurrency_lock_);
  auto reserved = unwrap(deps_.store.reserved_concurrency());
  int64_t others = 0;
  for (const auto& [fn, r] : reserved) {
    if (fn != name) others += r;
  }
  if (deps_.concurrency_limit - others - n < kMinUnreserved) {
    throw_invalid_parameter(fmt::format(
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [{}].",
        kMinUnreserved));
  }
  store::Function f = mutate(name, [&](store::Function& f) -> Result<void> {
    for (const auto& p : f.provisioned) {
      if (p.requested > n) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("ReservedConcurrentExecutions {} should not be lower than "
                                      "function's total provisioned concurrency [{}].",
                                      n, p.requested));
      }
    }
    f.reserved_concurrency = n;
    return {};
  });
  changed(name, &f);
  return json_response(200, json::object{{"ReservedConcurrentExecutions", n}});
}

http::Response LambdaApi::get_function_concurrency(http::Request& req) {
  store::Function f = load(unqualified(req, names_));
  json::object out;
  if (f.reserved_concurrency) out["ReservedConcurrentExecutions"] = *f.reserved_concurrency;
  return json_response(200, out);
}

http::Response LambdaApi::delete_function_concurrency(http::Request& req) {
  std::string name = unqualified(req, names_);
  std::lock_guard lock(concurrency_lock_);
  store::Function f = mutate(name, [&](store::Function& f) -> Result<void> {
    f.reserved_concurrency.reset();
    return {};
  });
  changed(name, &f);
  return no_content();
}

json::object LambdaApi::provisioned_json(const store::Function& f,
                                         const store::ProvisionedConfig& p, bool with_arn) const {
  scheduler::ProvisionedStatus st = deps_.invoker.provisioned_status(f.name, p.qualifier);
  json::object o;
  if (with_arn) o["FunctionArn"] = names_.function_arn(f.name, p.qualifier);
  o["RequestedProvisionedConcurrentExecutions"] = p.requested;
  o["AvailableProvisionedConcurrentExecutions"] = st.available;
  o["AllocatedProvisionedConcurrentExecutions"] = st.allocated;
  o["Status"] = st.status;
  if (!st.reason.empty()) o["StatusReason"] = st.reason;
  o["LastModified"] = format_timestamp(p.last_modified_ms);
  return o;
}

http::Response LambdaApi::put_provisioned_concurrency(http::Request& req) {
  auto [name, qualifier] = provisioned_target(req, names_);
  const int64_t n =
      read_count(req, "ProvisionedConcurrentExecutions", "provisionedConcurrentExecutions", 1);
  std::lock_guard lock(concurrency_lock_);
  auto reserved = unwrap(deps_.store.reserved_concurrency());
  int64_t reserved_total = 0;
  for (const auto& [fn, r] : reserved) reserved_total += r;
  store::Function f = mutate(name, [&, q = qualifier](store::Function& f) -> Result<void> {
    const store::Alias* alias = f.find_alias(q);
    std::string version = alias ? alias->function_version : q;
    if (!f.find_version(q) && !alias) {
      throw_not_found("Function not found: " + names_.function_arn(f.name, q));
    }
    // A version and an alias of it cannot both carry a configuration.
    for (const auto& p : f.provisioned) {
      if (p.qualifier == q) continue;
      const store::Alias* other = f.find_alias(p.qualifier);
      std::string other_version = other ? other->function_version : p.qualifier;
      if (other_version == version) {
        return make_error(Errc::kConflict,
                          fmt::format("Alias or version {} already has provisioned concurrency "
                                      "configured for function version {}.",
                                      p.qualifier, version));
      }
    }
    int64_t total = n;
    for (const auto& p : f.provisioned) {
      if (p.qualifier != q) total += p.requested;
    }
    if (f.reserved_concurrency && total > *f.reserved_concurrency) {
      return make_error(Errc::kInvalidArgument,
                        "Requested Provisioned Concurrency should not be greater than the "
                        "reservedConcurrentExecution for function");
    }
    if (!f.reserved_concurrency &&
        total > deps_.concurrency_limit - reserved_total - kMinUnreserved) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("Specified ConcurrentExecutions for function is greater than "
                                    "account's unreserved concurrency [{}].",
                                    deps_.concurrency_limit - reserved_total));
    }
    std::erase_if(f.provisioned, [&](const auto& p) { return p.qualifier == q; });
    f.provisioned.push_back({q, n, now_ms()});
    return {};
  });
  changed(name, &f);
  for (const auto& p : f.provisioned) {
    if (p.qualifier == qualifier) return json_response(202, provisioned_json(f, p, false));
  }
  throw_service("provisioned concurrency configuration vanished");
}

http::Response LambdaApi::get_provisioned_concurrency(http::Request& req) {
  auto [name, qualifier] = provisioned_target(req, names_);
  store::Function f = load(name);
  if (!f.find_version(qualifier) && !f.find_alias(qualifier)) {
    throw_not_found("Function not found: " + names_.function_arn(f.name, qualifier));
  }
  for (const auto& p : f.provisioned) {
    if (p.qualifier == qualifier) return json_response(200, provisioned_json(f, p, false));
  }
  throw lambda_error(404, "ProvisionedConcurrencyConfigNotFoundException",
                 "No Provisioned Concurrency Config found for this function");
}

http::Response LambdaApi::delete_provisioned_concurrency(http::Request& req) {
  auto [name, qualifier] = provisioned_target(req, names_);
  bool found = false;
  store::Function f = mutate(name, [&, q = qualifier](store::Function& f) -> Result<void> {
    if (!f.find_version(q) && !f.find_alias(q)) {
      throw_not_found("Function not found: " + names_.function_arn(f.name, q));
    }
    found = std::erase_if(f.provisioned, [&](const auto& p) { return p.qualifier == q; }) > 0;
    return {};
  });
  if (!found) {
    throw lambda_error(404, "ProvisionedConcurrencyConfigNotFoundException",
                   "No Provisioned Concurrency Config found for this function");
  }
  changed(name, &f);
  return no_content();
}

http::Response LambdaApi::list_provisioned_concurrency(http::Request& req) {
  std::string name = unqualified(req, names_);
  size_t max_items = parse_max_items(req, kListPageMax);
  store::Function f = load(name);
  std::vector<store::ProvisionedConfig> configs = f.provisioned;
  std::sort(configs.begin(), configs.end(),
            [](const auto& a, const auto& b) { return a.qualifier < b.qualifier; });
  return json_response(
      200, Pager(req, max_items)
               .page("ProvisionedConcurrencyConfigs", configs,
                     [](const store::ProvisionedConfig& p) { return p.qualifier; },
                     [&](const store::ProvisionedConfig& p) { return provisioned_json(f, p, true); }));
}

}  // namespace lambent::lambda

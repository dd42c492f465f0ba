// FunctionEventInvokeConfig: Put (replaces), Update (merges), Get, Delete, List — the asynchronous
// invocation settings of a function, version or alias (compat §1.7, §1.10, §5.1).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "services/lambda/errors.h"
#include "services/lambda/validation.h"
#include "services/lambda/paging.h"
#include "services/lambda/json_body.h"
#include "services/lambda/lambda_api.h"
#include "base/time.h"
#include "queue/rules.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kListPageMax = 50;

// Destinations Lambent can deliver to: another function, or a built-in queue of this node.
void check_destination(const std::string& arn, const Names& names) {
  if (arn.empty()) return;
  if (arn.rfind("arn:aws:lambda:", 0) == 0 && arn.find(":function:") != std::string::npos) {
    FunctionRef ref = parse_function_ref(arn, names, "destination", 256);
    (void)ref;
    return;
  }
  std::string queue_prefix = "arn:aws:sqs:" + names.region + ":" + names.account_id + ":";
  if (arn.rfind(queue_prefix, 0) == 0 && queue::is_fifo_name(arn)) {
    // Asynchronous invocation records go to standard queues only, as on AWS.
    throw_invalid_parameter("The provided destination config DestinationConfig is invalid: " + arn +
                            ". FIFO queues are not supported as destinations.");
  }
  if (arn.rfind(queue_prefix, 0) == 0 && queue::valid_name(arn.substr(queue_prefix.size()))) {
    return;
  }
  std::string topic_prefix = "arn:aws:sns:" + names.region + ":" + names.account_id + ":";
  if (arn.rfind(topic_prefix, 0) == 0 && queue::valid_name(arn.substr(topic_prefix.size()), 256)) {
    return;
  }
  if (arn.rfind("arn:aws:sqs:", 0) == 0 || arn.rfind("arn:aws:sns:", 0) == 0 ||
      arn.rfind("arn:aws:events:", 0) == 0 || arn.rfind("arn:aws:s3:", 0) == 0) {
    throw_invalid_parameter(
        "Lambent delivers asynchronous invocation records to Lambda functions, "
        "its queues (" +
        queue_prefix + "<name>) and its topics (" + topic_prefix + "<name>); " + arn +
        " is not supported.");
  }
  throw_invalid_parameter("The provided destination config DestinationConfig is invalid: " + arn);
}

json::object config_json(const store::Function& f, const store::EventInvokeConfig& c,
                         const Names& names) {
  json::object o{{"LastModified", static_cast<double>(c.last_modified_ms) / 1000.0},
                 {"FunctionArn", names.function_arn(f.name, c.qualifier)}};
  if (c.max_retry_attempts) o["MaximumRetryAttempts"] = *c.max_retry_attempts;
  if (c.max_event_age_seconds) o["MaximumEventAgeInSeconds"] = *c.max_event_age_seconds;
  json::object on_success, on_failure;
  if (!c.on_success.empty()) on_success["Destination"] = c.on_success;
  if (!c.on_failure.empty()) on_failure["Destination"] = c.on_failure;
  o["DestinationConfig"] =
      json::object{{"OnSuccess", std::move(on_success)}, {"OnFailure", std::move(on_failure)}};
  return o;
}

std::string not_found(const Names& names, const std::string& fn, const std::string& q) {
  return "The function " + names.function_arn(fn, q) + " doesn't have an EventInvokeConfig";
}

}  // namespace

http::Response LambdaApi::write_event_invoke_config(http::Request& req, bool merge) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = merge_qualifier(ref, req.query_param("Qualifier")).value_or(store::kLatest);
  JsonBody body(req.body);
  body.only({"MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"});
  Violations violations;
  auto retries = body.integer("MaximumRetryAttempts");
  auto age = body.integer("MaximumEventAgeInSeconds");
  if (retries) violations.range(*retries, "maximumRetryAttempts", 0, 2);
  if (age) violations.range(*age, "maximumEventAgeInSeconds", 60, 21600);
  violations.throw_if_any();
  std::optional<std::string> on_success, on_failure;
  if (auto dest = body.object("DestinationConfig")) {
    dest->only({"OnSuccess", "OnFailure"});
    for (auto [key, out] : {std::pair{"OnSuccess", &on_success}, {"OnFailure", &on_failure}}) {
      if (auto d = dest->object(key)) {
        d->only({"Destination"});
        *out = d->str("Destination").value_or("");
        check_destination(**out, names_);
      } else if (!merge) {
        *out = "";
      }
    }
  }
  if (deps_.access &&
      ((on_success && !on_success->empty()) || (on_failure && !on_failure->empty()))) {
    store::Function current = load(ref.name);
    std::optional<std::string> q;
    if (qualifier != store::kLatest) q = qualifier;
    const std::string role = select_version(current, q).config.role;
    if (on_success) check_delivery(role, *on_success);
    if (on_failure) check_delivery(role, *on_failure);
  }
  store::Function f = mutate(ref.name, [&](store::Function& fn) -> Result<void> {
    if (qualifier != store::kLatest && !fn.find_version(qualifier) && !fn.find_alias(qualifier)) {
      throw_not_found("Function not found: " + names_.function_arn(fn.name, qualifier));
    }
    store::EventInvokeConfig* existing = nullptr;
    for (auto& c : fn.event_configs) {
      if (c.qualifier == qualifier) existing = &c;
    }
    if (merge && !existing) {
      return make_error(Errc::kNotFound, not_found(names_, fn.name, qualifier));
    }
    store::EventInvokeConfig next = merge ? *existing : store::EventInvokeConfig{};
    next.qualifier = qualifier;
    if (retries || !merge) next.max_retry_attempts = retries;
    if (age || !merge) next.max_event_age_seconds = age;
    if (on_success) next.on_success = *on_success;
    if (on_failure) next.on_failure = *on_failure;
    next.last_modified_ms = now_ms();
    if (existing) {
      *existing = next;
    } else {
      fn.event_configs.push_back(next);
    }
    return {};
  });
  changed(ref.name, &f);
  return json_response(200, config_json(f, *f.find_event_config(qualifier), names_));
}

http::Response LambdaApi::put_event_invoke_config(http::Request& req) {
  return write_event_invoke_config(req, false);
}

http::Response LambdaApi::update_event_invoke_config(http::Request& req) {
  return write_event_invoke_config(req, true);
}

http::Response LambdaApi::get_event_invoke_config(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = merge_qualifier(ref, req.query_param("Qualifier")).value_or(store::kLatest);
  store::Function f = load(ref.name);
  const store::EventInvokeConfig* c = f.find_event_config(qualifier);
  if (!c) throw_not_found(not_found(names_, f.name, qualifier));
  return json_response(200, config_json(f, *c, names_));
}

http::Response LambdaApi::delete_event_invoke_config(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  std::string qualifier = merge_qualifier(ref, req.query_param("Qualifier")).value_or(store::kLatest);
  store::Function f = mutate(ref.name, [&](store::Function& fn) -> Result<void> {
    if (!std::erase_if(fn.event_configs, [&](const auto& c) { return c.qualifier == qualifier; })) {
      return make_error(Errc::kNotFound, not_found(names_, fn.name, qualifier));
    }
    return {};
  });
  changed(ref.name, &f);
  return no_content();
}

http::Response LambdaApi::list_event_invoke_configs(http::Request& req) {
  FunctionRef ref = parse_function_ref(req.label("FunctionName"), names_);
  size_t max_items = parse_max_items(req, kListPageMax);
  store::Function f = load(ref.name);
  auto configs = f.event_configs;
  std::sort(configs.begin(), configs.end(),
            [](const auto& a, const auto& b) { return a.qualifier < b.qualifier; });
  json::object out = Pager(req, max_items)
                         .page("FunctionEventInvokeConfigs", configs,
                               [](const store::EventInvokeConfig& c) { return c.qualifier; },
                               [&](const store::EventInvokeConfig& c) {
                                 return config_json(f, c, names_);
                               });
  return json_response(200, out);
}

}  // namespace lambent::lambda

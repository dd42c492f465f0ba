// Create/Get/Update/Delete/ListEventSourceMappings for built-in queues (compat §5.2–5.3). The
// pollers are invoke::EventSourceMappings; this file validates and renders.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "base/codec.h"
#include "base/time.h"
#include "queue/rules.h"
#include "services/lambda/errors.h"
#include "services/lambda/json_body.h"
#include "services/lambda/lambda_api.h"
#include "services/lambda/validation.h"

namespace lambent::lambda {
namespace json = boost::json;

namespace {

constexpr size_t kListPageMax = 100;

// Members of the stream, Kafka, MQ and DocumentDB sources: refused for queues.
constexpr const char* kNotForQueues[] = {"StartingPosition",
                                         "StartingPositionTimestamp",
                                         "ParallelizationFactor",
                                         "DestinationConfig",
                                         "MaximumRecordAgeInSeconds",
                                         "BisectBatchOnFunctionError",
                                         "MaximumRetryAttempts",
                                         "TumblingWindowInSeconds",
                                         "Topics",
                                         "Queues",
                                         "SourceAccessConfigurations",
                                         "SelfManagedEventSource",
                                         "AmazonManagedKafkaEventSourceConfig",
                                         "SelfManagedKafkaEventSourceConfig",
                                         "DocumentDBEventSourceConfig",
                                         // Newer members this server does not implement.
                                         "Tags",
                                         "KMSKeyArn",
                                         "MetricsConfig",
                                         "ProvisionedPollerConfig"};

[[noreturn]] void in_use(const std::string& uuid) {
  throw lambda_error(400, "ResourceInUseException",
                 "Cannot update the event source mapping " + uuid +
                     " because it is in use: a state transition is in progress. Try again.");
}

}  // namespace

json::object LambdaApi::mapping_json(const invoke::MappingView& v) const {
  const auto& c = v.config;
  json::array types;
  if (c.report_failures) types.emplace_back("ReportBatchItemFailures");
  json::object o{
      {"UUID", c.uuid},
      {"BatchSize", c.batch_size},
      {"MaximumBatchingWindowInSeconds", c.window_seconds},
      {"EventSourceArn", c.source_arn},
      {"FunctionArn", c.qualifier.empty() ? names_.function_arn(c.function)
                                          : names_.function_arn(c.function, c.qualifier)},
      {"LastModified", static_cast<double>(c.last_modified_ms) / 1000.0},
      {"State", v.state},
      {"StateTransitionReason", "USER_INITIATED"},
      {"FunctionResponseTypes", std::move(types)}};
  if (c.max_concurrency > 0)
    o["ScalingConfig"] = json::object{{"MaximumConcurrency", c.max_concurrency}};
  return o;
}

// The members Create and Update share; `m` holds the current values (defaults on Create).
void LambdaApi::read_mapping(const JsonObject& body, invoke::MappingConfig& m) {
  for (const char* k : kNotForQueues) {
    if (body.has(k)) {
      throw_invalid_parameter(std::string("Unsupported parameter for the SQS event source: ") + k);
    }
  }
  if (auto fc = body.object("FilterCriteria")) {
    auto filters = fc->raw().if_contains("Filters");
    if (filters && filters->is_array() && !filters->as_array().empty()) {
      throw_invalid_parameter("FilterCriteria is not supported by this server yet.");
    }
  }
  Violations violations;
  if (auto fn = body.str("FunctionName")) {
    FunctionRef ref = parse_function_ref(*fn, names_);
    store::Function f = load(ref.name);
    if (ref.qualifier && *ref.qualifier != store::kLatest && !f.find_version(*ref.qualifier) &&
        !f.find_alias(*ref.qualifier)) {
      throw_not_found("Function not found: " + names_.function_arn(ref.name, *ref.qualifier));
    }
    m.function = ref.name;
    m.qualifier = ref.qualifier.value_or("");
  }
  auto batch = body.integer("BatchSize");
  if (batch) violations.range(*batch, "batchSize", 1, 10000);
  auto window = body.integer("MaximumBatchingWindowInSeconds");
  if (window) violations.range(*window, "maximumBatchingWindowInSeconds", 0, 300);
  std::optional<int64_t> concurrency;
  if (auto sc = body.object("ScalingConfig")) {
    sc->only({"MaximumConcurrency"});
    concurrency = sc->integer("MaximumConcurrency");
    if (concurrency) violations.range(*concurrency, "scalingConfig.maximumConcurrency", 2, 1000);
    m.max_concurrency = concurrency.value_or(0);
  }
  if (auto types = body.str_list("FunctionResponseTypes")) {
    for (const auto& t : *types) {
      if (t != "ReportBatchItemFailures") {
        violations.add("[" + t + "]", "functionResponseTypes",
                       "Member must satisfy constraint: [Member must satisfy enum value set: "
                       "[ReportBatchItemFailures]]");
      }
    }
    m.report_failures = !types->empty();
  }
  violations.throw_if_any();
  if (batch) m.batch_size = *batch;
  if (window) m.window_seconds = *window;
  if (auto enabled = body.boolean("Enabled")) m.enabled = *enabled;
  if (m.batch_size > 10 && m.window_seconds < 1) {
    throw_invalid_parameter(
        "Maximum batch window in seconds must be greater than 0 if maximum "
        "batch size is greater than 10");
  }
}

namespace {
// A FIFO queue's mapping: batches of at most 10, no batching window (as Lambda refuses them).
void check_fifo_mapping(const std::string& queue, const invoke::MappingConfig& m) {
  if (!queue::is_fifo_name(queue)) return;
  if (m.batch_size > 10) {
    throw_invalid_parameter("BatchSize for a FIFO queue must be between 1 and 10.");
  }
  if (m.window_seconds > 0) {
    throw_invalid_parameter("Batching window is not supported for FIFO queues.");
  }
}
}  // namespace

http::Response LambdaApi::create_event_source_mapping(http::Request& req) {
  JsonBody body(req.body);
  body.only({"EventSourceArn", "FunctionName", "Enabled", "BatchSize", "FilterCriteria",
             "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "StartingPosition",
             "StartingPositionTimestamp", "DestinationConfig", "MaximumRecordAgeInSeconds",
             "BisectBatchOnFunctionError", "MaximumRetryAttempts", "Tags", "TumblingWindowInSeconds",
             "Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
             "FunctionResponseTypes", "AmazonManagedKafkaEventSourceConfig",
             "SelfManagedKafkaEventSourceConfig", "ScalingConfig", "DocumentDBEventSourceConfig",
             "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig"});
  auto missing = body.missing({{"FunctionName", "functionName"}});
  if (!missing.empty()) throw_validation_errors(missing);
  {
    // Authorized before anything else is looked at (a refused caller learns nothing of queues).
    FunctionRef ref = parse_function_ref(*body.str("FunctionName"), names_);
    rest_.authorize(
        req,
        {{"lambda:CreateEventSourceMapping",
          "*",
          {{"lambda:FunctionArn", names_.function_arn(ref.name, ref.qualifier.value_or(""))}}}});
  }
  std::string source = body.str("EventSourceArn").value_or("");
  std::string queue = deps_.queues ? deps_.queues->name_from_arn(source) : "";
  if (source.empty()) {
    throw_invalid_parameter(
        "Unrecognized event source, must be one of this server's queues "
        "(arn:aws:sqs:" +
        names_.region + ":" + names_.account_id + ":<name>).");
  }
  if (queue.empty() || !deps_.queues->exists(queue) || !deps_.mappings) {
    throw_invalid_parameter(
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The "
        "specified queue does not exist: " +
        source);
  }
  invoke::MappingConfig m;
  read_mapping(body, m);
  check_fifo_mapping(queue, m);
  // Lambda polls the queue with the function's execution role: the role must be allowed to
  // (AWSLambdaSQSQueueExecutionRole grants exactly this).
  if (deps_.access) {
    store::Function f = load(m.function);
    std::optional<std::string> qualifier;
    if (!m.qualifier.empty()) qualifier = m.qualifier;
    const std::string role = select_version(f, qualifier).config.role;
    std::string role_name = role.substr(role.rfind('/') + 1);
    for (const char* action : {"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"}) {
      if (!deps_.access->role_allows(role_name, std::string("sqs:") + action, source)) {
        throw_invalid_parameter(std::string("The provided execution role does not have "
                                            "permissions to call ") +
                                action + " on SQS");
      }
    }
  }
  m.uuid = uuid4();
  m.source_arn = source;
  m.last_modified_ms = now_ms();
  std::lock_guard lock(mappings_lock_);
  for (const auto& v : deps_.mappings->list()) {
    if (v.config.source_arn == source && v.config.function == m.function &&
        v.config.qualifier == m.qualifier) {
      throw_conflict("An event source mapping with SQS arn (\" " + source +
                     " \") and function (\" " + m.function +
                     " \") already exists. Please update or delete the existing "
                     "mapping with UUID " +
                     v.config.uuid);
    }
  }
  auto view = unwrap(deps_.mappings->put(m, "Creating"));
  return json_response(202, mapping_json(view));
}

invoke::MappingView LambdaApi::load_mapping(const std::string& uuid) {
  auto v = deps_.mappings ? deps_.mappings->get(uuid) : std::nullopt;
  if (!v) throw_not_found("The resource you requested does not exist.");
  return *v;
}

http::Response LambdaApi::get_event_source_mapping(http::Request& req) {
  return json_response(200, mapping_json(load_mapping(req.label("UUID"))));
}

http::Response LambdaApi::update_event_source_mapping(http::Request& req) {
  JsonBody body(req.body);
  body.only({"FunctionName", "Enabled", "BatchSize", "FilterCriteria",
             "MaximumBatchingWindowInSeconds", "DestinationConfig", "MaximumRecordAgeInSeconds",
             "BisectBatchOnFunctionError", "MaximumRetryAttempts", "ParallelizationFactor",
             "SourceAccessConfigurations", "TumblingWindowInSeconds", "FunctionResponseTypes",
             "ScalingConfig", "AmazonManagedKafkaEventSourceConfig",
             "SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig", "KMSKeyArn",
             "MetricsConfig", "ProvisionedPollerConfig"});
  std::lock_guard lock(mappings_lock_);
  invoke::MappingView current = load_mapping(req.label("UUID"));
  if (current.state != "Enabled" && current.state != "Disabled") in_use(current.config.uuid);
  invoke::MappingConfig m = current.config;
  read_mapping(body, m);
  check_fifo_mapping(m.source_arn, m);
  m.last_modified_ms = now_ms();
  const char* transition = m.enabled == current.config.enabled ? "Updating"
                           : m.enabled                         ? "Enabling"
                                                               : "Disabling";
  auto view = unwrap(deps_.mappings->put(m, transition));
  return json_response(202, mapping_json(view));
}

http::Response LambdaApi::delete_event_source_mapping(http::Request& req) {
  std::lock_guard lock(mappings_lock_);
  invoke::MappingView current = load_mapping(req.label("UUID"));
  if (current.state != "Enabled" && current.state != "Disabled") in_use(current.config.uuid);
  auto view = unwrap(deps_.mappings->remove(current.config.uuid));
  return json_response(202, mapping_json(view));
}

http::Response LambdaApi::list_event_source_mappings(http::Request& req) {
  size_t max_items = parse_max_items(req, kListPageMax);
  std::optional<FunctionRef> fn;
  if (auto f = req.query_param("FunctionName")) fn = parse_function_ref(*f, names_);
  auto source = req.query_param("EventSourceArn");
  std::string marker = req.query_param("Marker").value_or("");
  json::array items;
  std::string next;
  for (const auto& v :
       deps_.mappings ? deps_.mappings->list() : std::vector<invoke::MappingView>{}) {
    if (source && v.config.source_arn != *source) continue;
    if (fn && (v.config.function != fn->name ||
               (fn->qualifier && v.config.qualifier != *fn->qualifier))) {
      continue;
    }
    if (!marker.empty() && v.config.uuid <= marker) continue;
    if (items.size() == max_items) {
      next = json::value_to<std::string>(items.back().as_object().at("UUID"));
      break;
    }
    items.push_back(mapping_json(v));
  }
  json::object out{{"EventSourceMappings", std::move(items)}};
  if (!next.empty()) out["NextMarker"] = next;
  return json_response(200, out);
}

}  // namespace lambent::lambda

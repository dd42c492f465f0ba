// Lambda@Edge (compat L§7): the rules an association must meet (checked when a distribution is
// created or updated), the event a trigger receives (Records[0].cf with config, request and, for
// response events, response), and the validation of what the function returns — read-only and
// disallowed headers, URIs, statuses, body encodings and sizes — with the reasons CloudFront
// gives when it refuses one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/config.h"

namespace lambent::edge {

using Headers = std::vector<std::pair<std::string, std::string>>;  // original case, in order

// A request as it passes through the edge (and the triggers may change it).
struct EdgeRequest {
  std::string client_ip;
  std::string method;
  std::string uri;          // path, decoded form as received (starts with /)
  std::string querystring;  // without '?'
  Headers headers;
  std::string body;
  bool body_truncated = false;
  Origin origin;  // where a miss goes (origin-request functions may change it)
};

struct EdgeResponse {
  unsigned status = 200;
  std::string status_description;
  Headers headers;
  std::string body;
};

// What the association's function is, for the rules (nullopt from the lookup: no such
// function or version).
struct FunctionFacts {
  std::string runtime;
  int64_t memory_mb = 128;
  int64_t timeout_s = 3;
  bool has_environment = false;
  size_t layers = 0;
  bool has_dead_letter = false;
  std::string role;
  bool role_trusted = false;  // by both lambda.amazonaws.com and edgelambda.amazonaws.com
  bool readable = true;       // the caller may lambda:GetFunction it
};
using FunctionLookup = std::function<std::optional<FunctionFacts>(const std::string& name,
                                                                  const std::string& version)>;

// The first association of `config` that breaks a rule, as CloudFront words it.
std::optional<ConfigError> check_associations(const DistributionConfig& config,
                                              std::string_view account,
                                              const FunctionLookup& lookup);

// The function name and version of an association's ARN (validated already).
std::pair<std::string, std::string> function_of(std::string_view arn);

bool is_viewer_event(std::string_view event_type);
// Size limits: a generated response (headers and body), a request body shown or replaced.
size_t generated_response_limit(std::string_view event_type);
size_t body_limit(std::string_view event_type);

struct EventContext {
  std::string distribution_domain;
  std::string distribution_id;
  std::string event_type;
  std::string request_id;
  bool include_body = false;
};
// The event, as JSON text. `response` for response events.
std::string build_event(const EventContext& ctx, const EdgeRequest& request,
                        const EdgeResponse* response);

// What a trigger's answer means.
struct TriggerResult {
  // A refusal (LambdaValidationError): why, as the 502 page says it.
  std::optional<std::string> invalid;
  // For request events: the request goes on (changed), unless the function generated a response.
  std::optional<EdgeResponse> generated;
  bool body_replaced = false;  // origin-response / viewer-response: the function set a body
};
// Applies the function's answer `payload` (JSON) to `request` (request events) or `response`
// (response events).
TriggerResult apply_result(const EventContext& ctx, std::string_view payload, EdgeRequest& request,
                           EdgeResponse* response);

// Title-Case of a header name (what Lambda@Edge inserts when a key is omitted).
std::string title_case(std::string_view name);

}  // namespace lambent::edge

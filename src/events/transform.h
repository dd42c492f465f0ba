// What a rule target receives (PutTargets' Input, InputPath, InputTransformer): the event, a
// constant, the part of the event a JSONPath names, or a template filled with paths' values.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace lambent::events {

// A JSONPath of the subset EventBridge accepts: $, then .name, ['name'] or [index] steps.
// kInvalidArgument when malformed.
Result<void> check_path(std::string_view path);
// The value at `path` in `v`; nullopt when absent.
std::optional<boost::json::value> at_path(const boost::json::value& v, std::string_view path);

struct Transformer {
  std::map<std::string, std::string> paths;  // InputPathsMap: name → JSONPath
  std::string input_template;
};
// kInvalidArgument when a path is malformed, a name is not [A-Za-z0-9_-]+, or the template names
// a variable that is not defined.
Result<void> check_transformer(const Transformer& t);

// The template with each <name> replaced: inside a JSON string by the value's text (strings
// unquoted, escaped for the string), elsewhere by the value as JSON (null when absent). The
// predefined <aws.events.rule-arn>, <aws.events.rule-name>, <aws.events.event.ingestion-time>
// and <aws.events.event> (the whole event; .json likewise) are always there.
std::string apply_transformer(const Transformer& t, const boost::json::value& event,
                              const std::string& rule_arn, const std::string& rule_name,
                              const std::string& ingestion_time);

}  // namespace lambent::events

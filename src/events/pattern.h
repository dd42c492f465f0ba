// Event patterns (EventBridge) and filter policies (SNS): one matching language, compiled once
// and matched against JSON. A pattern is a JSON object whose leaves are arrays of matchers: exact
// values (strings, numbers — compared as numbers —, true, false, null), {"prefix": …},
// {"suffix": …} (each with {"equals-ignore-case": …} inside), {"anything-but": value | [values]
// | {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": …}}, {"numeric": [op, n(, op, n)]},
// {"exists": bool}, {"cidr": "10.0.0.0/24"}, {"equals-ignore-case": …}, {"wildcard": "*.png"}
// (EventBridge only); "$or": [pattern, …] at any level. Fields must all match; an array of values
// in the event matches when any element does; nested objects are reached through arrays.
// SNS's MessageAttributes scope matches the attributes as one flat object (String → string,
// Number → number, String.Array → its elements).
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace lambent::events {

// EventBridge event patterns; SNS filter policies of scope MessageAttributes (flat: one level of
// attribute names) and MessageBody (nested, like event patterns, without wildcard).
enum class Dialect { kEventBridge, kSnsAttributes, kSnsBody };

// An SNS message attribute as published (DataType String, Number, String.Array or Binary).
struct Attribute {
  std::string type;
  std::string value;
};

class Pattern {
 public:
  // kInvalidArgument with the reason (callers wrap it in their service's message) when the text
  // is not a valid pattern of `dialect`.
  static Result<Pattern> compile(std::string_view text, Dialect dialect);

  bool matches(const boost::json::value& event) const;
  bool matches_attributes(const std::map<std::string, Attribute>& attributes) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace lambent::events

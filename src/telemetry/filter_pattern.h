// CloudWatch Logs filter patterns (FilterLogEvents' filterPattern), the forms people use:
//   ERROR                    events containing the term (case-sensitive)
//   ERROR Exception          all terms
//   "Out of memory"          a phrase
//   ERROR -Retrying          exclusions
//   ?ERROR ?WARN             any of the ?-terms
//   { $.level = "ERROR" }    JSON events: =, !=, <, >, <=, >= on strings (with * wildcards) and
//                            numbers, IS NULL / IS TRUE / IS FALSE, NOT EXISTS, && and || with
//                            parentheses, selectors $.a.b and $.list[0]
// Space-delimited patterns ([ip, user, ...]) and regular expressions (%…%) are refused.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace lambent::telemetry {

class FilterPattern {
 public:
  // kInvalidArgument with a message naming the problem for a malformed pattern.
  static Result<FilterPattern> parse(std::string_view pattern);
  bool matches(std::string_view message) const;

  struct Node;  // the parsed form

 private:
  std::shared_ptr<const Node> root_;  // null: matches everything
};

}  // namespace lambent::telemetry

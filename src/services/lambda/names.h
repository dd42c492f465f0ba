// Lambda identifiers: ARNs this node hands out (region and account from the config), and parsing
// of the {FunctionName} forms clients send: name, name:qualifier, account:function:name[:q], or a
// full ARN (model pattern of the FunctionName shape).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/node.h"

namespace lambent::lambda {

// The node's identity names Lambda's resources (base/node.h).
using Names = NodeIdentity;

struct FunctionRef {
  std::string name;
  std::optional<std::string> qualifier;
};

// Throws ValidationException for a malformed value, ResourceNotFoundException for an ARN of
// another region or account. `field` names the member in messages ("functionName").
FunctionRef parse_function_ref(std::string_view value, const Names& names,
                               std::string_view field = "functionName", size_t max_len = 140);

// A {FunctionName} of an operation that takes no qualifier: the name, or
// InvalidParameterValueException "Unsupported qualifier in function name: <why>".
std::string unqualified_function(std::string_view value, const Names& names, std::string_view why);

// The qualifier from the name and from ?Qualifier must agree (InvalidParameterValueException).
std::optional<std::string> merge_qualifier(const FunctionRef& ref,
                                           const std::optional<std::string>& query);

bool valid_function_name(std::string_view name);
void validate_qualifier(std::string_view q);

}  // namespace lambent::lambda

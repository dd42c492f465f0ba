// FunctionConfiguration: reading the configuration members of CreateFunction and
// UpdateFunctionConfiguration with every check of the Lambda model and service (compat §1.9), and
// writing the wire shape returned by Create/Get/Update/List (compat §1.6).
#pragma once

#include <boost/json/object.hpp>

#include "services/lambda/json_body.h"
#include "services/lambda/names.h"
#include "store/function.h"

namespace lambent::lambda {

// Applies the configuration members present in `body` onto `cfg`, then validates the result.
// Throws ValidationException (model constraints, all violations in one message, as AWS does) or
// InvalidParameterValueException (service checks, unsupported features).
void apply_config(const JsonObject& body, store::FunctionConfig& cfg);

// The FunctionConfiguration of one version. `qualified_arn` shows `:$LATEST` on the ARN, as
// ListVersionsByFunction does; published versions always carry their number.
// `arn_qualifier`, when set, qualifies FunctionArn instead (an alias the caller asked for).
boost::json::object configuration_json(const store::Function& f, const store::FunctionVersion& v,
                                       const Names& names, bool qualified_arn = false,
                                       std::string_view arn_qualifier = {});

bool runtime_supported(std::string_view runtime);

}  // namespace lambent::lambda

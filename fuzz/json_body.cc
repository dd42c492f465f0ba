// Lambda's strict request bodies: parse, then read members the way the handlers do.
#include <cstdint>
#include <string_view>

#include "aws/error.h"
#include "services/lambda/json_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lambent::lambda::JsonBody body(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)body.str("FunctionName");
    (void)body.boolean("Publish");
    (void)body.str_map("Tags");
    (void)body.str_list("Layers");
    if (auto env = body.object("Environment")) (void)env->str_map("Variables");
    body.only({"FunctionName", "Publish", "Tags", "Layers", "Environment"});
  } catch (const lambent::aws::ServiceError&) {
  }
  return 0;
}

// The query protocol's form bodies (SQS, IAM, STS, CloudWatch): decoding and the member tree.
#include <cstdint>
#include <string_view>

#include "aws/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto form =
      lambent::aws::parse_query_form(std::string_view(reinterpret_cast<const char*>(data), size));
  if (form) (void)lambent::aws::string_member(form->tree, "QueueName");
  return 0;
}

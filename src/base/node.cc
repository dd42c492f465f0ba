#include "base/node.h"

#include <fmt/format.h>

namespace lambent {

std::string NodeIdentity::arn(std::string_view service, std::string_view resource) const {
  return fmt::format("arn:aws:{}:{}:{}:{}", service, region, account_id, resource);
}

std::string NodeIdentity::function_arn(std::string_view name, std::string_view qualifier) const {
  std::string resource = fmt::format("function:{}", name);
  if (!qualifier.empty()) resource += fmt::format(":{}", qualifier);
  return arn("lambda", resource);
}

std::string NodeIdentity::layer_arn(std::string_view name) const {
  return arn("lambda", fmt::format("layer:{}", name));
}

std::string NodeIdentity::queue_arn(std::string_view name) const { return arn("sqs", name); }

std::string NodeIdentity::log_group_arn(std::string_view name) const {
  return arn("logs", fmt::format("log-group:{}", name));
}

}  // namespace lambent

#include "base/node.h"

#include <fmt/format.h>

namespace lambent {

std::string NodeIdentity::arn(std::string_view service, std::string_view resource) const {
  return fmt::format("arn:aws:{}:{}:{}:{}", service, region, account_id, resource);
}

std::string NodeIdentity::function_arn(std::string_view name, std::string_view qualifier) const {
  // Built by hand: every authorized Lambda request names one.
  std::string out;
  out.reserve(32 + region.size() + account_id.size() + name.size() + qualifier.size());
  out.append("arn:aws:lambda:").append(region).append(1, ':').append(account_id);
  out.append(":function:").append(name);
  if (!qualifier.empty()) out.append(1, ':').append(qualifier);
  return out;
}

std::string NodeIdentity::layer_arn(std::string_view name) const {
  return arn("lambda", fmt::format("layer:{}", name));
}

std::string NodeIdentity::queue_arn(std::string_view name) const { return arn("sqs", name); }

std::string NodeIdentity::log_group_arn(std::string_view name) const {
  return arn("logs", fmt::format("log-group:{}", name));
}

}  // namespace lambent

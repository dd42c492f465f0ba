// Who this node is to its clients: its region and account, and the ARN formats of what it hands
// out. One value, built from the config at start-up and passed to every subsystem that names
// things.
#pragma once

#include <string>
#include <string_view>

namespace lambent {

struct NodeIdentity {
  std::string region;
  std::string account_id;

  // arn:aws:<service>:<region>:<account>:<resource>
  std::string arn(std::string_view service, std::string_view resource) const;
  // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  std::string function_arn(std::string_view name, std::string_view qualifier = {}) const;
  // arn:aws:lambda:<region>:<account>:layer:<name>
  std::string layer_arn(std::string_view name) const;
  // arn:aws:sqs:<region>:<account>:<name>
  std::string queue_arn(std::string_view name) const;
  // arn:aws:logs:<region>:<account>:log-group:<name>
  std::string log_group_arn(std::string_view name) const;
};

}  // namespace lambent

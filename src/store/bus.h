// What the event buses (EventBridge) keep in the store: buses with their tags, and rules with
// their pattern or schedule, state, targets (JSON, as PutTargets gave them) and the last
// schedule tick fired (so a restart neither fires a tick twice nor forgets one).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace lambent::store {

struct EventBusRecord {
  std::string name;
  std::map<std::string, std::string> tags;
  int64_t created_ms = 0;
  bool operator==(const EventBusRecord&) const = default;
};

struct RuleRecord {
  std::string bus;
  std::string name;
  std::string event_pattern;  // "" = none
  std::string schedule;       // "" = none
  std::string state = "ENABLED";
  std::string description;
  std::string role_arn;
  std::string targets = "[]";  // JSON array of PutTargets' Target objects
  std::map<std::string, std::string> tags;
  int64_t created_ms = 0;
  int64_t last_tick_ms = 0;  // the last schedule tick fired (0 = none yet)
  bool operator==(const RuleRecord&) const = default;
};

}  // namespace lambent::store

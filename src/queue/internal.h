// What the queue service's files share (not part of its interface): the common refusals, the
// FIFO windows, and the stored form of a message's system attributes.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/log.h"
#include "queue/rules.h"

namespace lambent::queue::detail {
namespace json = boost::json;

inline QueueError no_such_queue() {
  return refuse(Refusal::kNoSuchQueue, "The specified queue does not exist.");
}
inline QueueError store_failed(const Error& e) {
  log::error("queue store: {}", e.message);
  return refuse(Refusal::kUnavailable, "The queue store failed: " + e.message);
}

inline constexpr int64_t kDedupWindowMs = 5 * 60 * 1000;    // SQS's deduplication interval
inline constexpr int64_t kAttemptWindowMs = 5 * 60 * 1000;  // and ReceiveRequestAttemptId's

// A message's system attributes beyond its columns, stored as a small JSON object.
inline constexpr std::pair<const char*, const char*> kSystemKeys[] = {
    {"g", "MessageGroupId"}, {"d", "MessageDeduplicationId"},
    {"n", "SequenceNumber"}, {"t", "AWSTraceHeader"},
    {"s", "SenderId"},       {"q", "DeadLetterQueueSourceArn"}};

inline std::string system_to_json(const std::map<std::string, std::string>& system) {
  json::object o;
  for (const auto& [short_key, name] : kSystemKeys) {
    if (auto it = system.find(name); it != system.end()) o[short_key] = it->second;
  }
  return o.empty() ? "" : json::serialize(o);
}

inline std::map<std::string, std::string> system_from_json(std::string_view text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [short_key, name] : kSystemKeys) {
    if (const json::value* x = v.as_object().if_contains(short_key); x && x->is_string()) {
      out[name] = std::string(x->as_string());
    }
  }
  return out;
}

}  // namespace lambent::queue::detail

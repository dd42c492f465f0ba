// What the notification service (SNS topics) keeps in the store: topics with their attributes and
// tags, and subscriptions with theirs. Publishing stores its deliveries as asynchronous events
// (function.h's AsyncEvent, `delivery` saying how), all of one publish in one transaction.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace lambent::store {

struct TopicRecord {
  std::string name;
  std::map<std::string, std::string> attributes;  // the settable ones, as set (Policy, …)
  std::map<std::string, std::string> tags;
  int64_t created_ms = 0;
  bool operator==(const TopicRecord&) const = default;
};

struct SubscriptionRecord {
  std::string arn;       // <topic ARN>:<uuid>
  std::string topic;     // the topic's name
  std::string protocol;  // lambda, sqs, http, https
  std::string endpoint;
  std::string owner;                              // account id
  std::map<std::string, std::string> attributes;  // FilterPolicy, RawMessageDelivery, …
  bool confirmed = false;
  std::string token;  // the confirmation token of a pending http(s) subscription
  int64_t created_ms = 0;
  bool operator==(const SubscriptionRecord&) const = default;
};

}  // namespace lambent::store

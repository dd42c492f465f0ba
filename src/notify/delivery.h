// Delivering what topics and event buses route (the asynchronous events TopicService and
// EventBusService store, by their `delivery` kind), called by the async dispatcher:
//   lambda  hands the event to the function's asynchronous queue (or, when the function is gone,
//           to the dead-letter queue);
//   queue   sends to the queue (with message attributes when given);
//   http    POSTs to the endpoint with SNS's headers, retried by the delivery policy (5xx, 429
//           and network failures; 4xx is the endpoint's refusal: no retry);
//   topic   publishes to a topic (Lambda destinations and dead-letter targets, S3 events, rule
//           targets).
// A delivery that fails for good goes to its dead-letter queue (an SNS subscription's
// RedrivePolicy, a rule target's DeadLetterConfig) with the attributes the delivery names.
// Thread: the I/O thread (queue sends and publishes hop to the worker pool).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "invoke/async.h"
#include "invoke/invoker.h"
#include "queue/queue_service.h"
#include "store/store.h"

namespace lambent::notify {

class TopicService;

// An HTTP delivery policy's healthyRetryPolicy (SNS's defaults: 3 retries 20 s apart).
struct RetryPolicy {
  int num_retries = 3;
  int num_no_delay_retries = 0;
  int num_min_delay_retries = 0;
  int num_max_delay_retries = 0;
  int min_delay_target = 20;
  int max_delay_target = 20;
  std::string backoff_function = "linear";

  // nullopt when a member is out of SNS's ranges.
  static std::optional<RetryPolicy> from_json(const boost::json::value& v);
  boost::json::object to_json() const;
  // The topic's DeliveryPolicy (http.defaultHealthyRetryPolicy), then the subscription's
  // (healthyRetryPolicy) unless the topic disables subscription overrides.
  static RetryPolicy effective(const std::map<std::string, std::string>& topic_attributes,
                               const std::map<std::string, std::string>& subscription_attributes);
  // The subscription's EffectiveDeliveryPolicy attribute.
  std::string effective_json() const;
  // Milliseconds before retry number `retry` (1-based), by the phases and backoff function.
  int64_t delay_ms(int retry) const;
};

// How an HTTP delivery is made (an AsyncEvent's `delivery`).
struct HttpDelivery {
  std::string topic_arn;
  std::string subscription_arn;  // "" for a SubscriptionConfirmation
  std::string message_id;
  std::string type;  // Notification | SubscriptionConfirmation
  std::string dlq;
  bool raw = false;
  RetryPolicy policy;
  std::string to_json() const;
  static std::optional<HttpDelivery> from_json(std::string_view text);
};

class Deliverer final {
 public:
  Deliverer(boost::asio::thread_pool& pool, queue::QueueService* queues, TopicService& topics,
            invoke::Invoker& invoker, boost::asio::ssl::context* tls)
      : pool_(pool), queues_(queues), topics_(topics), invoker_(invoker), tls_(tls) {}

  boost::asio::awaitable<invoke::DeliveryOutcome> deliver(store::AsyncEvent& e);

 private:
  boost::asio::awaitable<invoke::DeliveryOutcome> to_queue(store::AsyncEvent& e,
                                                           const boost::json::object& d);
  boost::asio::awaitable<invoke::DeliveryOutcome> to_http(store::AsyncEvent& e);
  boost::asio::awaitable<invoke::DeliveryOutcome> to_topic(store::AsyncEvent& e,
                                                           const boost::json::object& d);
  // Sends `body` to the dead-letter queue `dlq` ("" = none) with the delivery's
  // `dlq_attributes` (string message attributes) and ERROR_CODE/ERROR_MESSAGE when it asks for
  // them; false when it could not.
  boost::asio::awaitable<bool> dead_letter(const std::string& dlq, std::string body,
                                           const std::string& why,
                                           const boost::json::object* delivery = nullptr);

  boost::asio::thread_pool& pool_;
  queue::QueueService* queues_;
  TopicService& topics_;
  invoke::Invoker& invoker_;
  boost::asio::ssl::context* tls_;
};

}  // namespace lambent::notify

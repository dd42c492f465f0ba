#include "notify/delivery.h"

#include <boost/json.hpp>
#include <cmath>

#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"
#include "base/time.h"
#include "http/client.h"
#include "notify/internal.h"
#include "notify/topics.h"

namespace lambent::notify {
namespace json = boost::json;
namespace asio = boost::asio;
using detail::str;

namespace {

constexpr int64_t kMaxQueueRetryAgeMs = 6 * 3600 * 1000;  // as the dispatcher's other sends
constexpr int64_t kMaxBackoffMs = 300'000;

int64_t backoff_ms(int64_t tries) {
  return std::min<int64_t>(kMaxBackoffMs, 1000LL << std::min<int64_t>(tries - 1, 20));
}

invoke::DeliveryOutcome done() { return {}; }

}  // namespace

std::optional<RetryPolicy> RetryPolicy::from_json(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  RetryPolicy p;
  for (const auto& [k, x] : v.as_object()) {
    auto number = [&](int& out, int lo, int hi) {
      if (!x.is_int64() || x.as_int64() < lo || x.as_int64() > hi) return false;
      out = static_cast<int>(x.as_int64());
      return true;
    };
    bool ok = true;
    if (k == "numRetries") {
      ok = number(p.num_retries, 0, 100);
    } else if (k == "numNoDelayRetries") {
      ok = number(p.num_no_delay_retries, 0, 100);
    } else if (k == "numMinDelayRetries") {
      ok = number(p.num_min_delay_retries, 0, 100);
    } else if (k == "numMaxDelayRetries") {
      ok = number(p.num_max_delay_retries, 0, 100);
    } else if (k == "minDelayTarget") {
      ok = number(p.min_delay_target, 1, 3600);
    } else if (k == "maxDelayTarget") {
      ok = number(p.max_delay_target, 1, 3600);
    } else if (k == "backoffFunction") {
      ok = x.is_string() && (x.as_string() == "linear" || x.as_string() == "arithmetic" ||
                             x.as_string() == "geometric" || x.as_string() == "exponential");
      if (ok) p.backoff_function = std::string(x.as_string());
    }
    if (!ok) return std::nullopt;
  }
  if (p.min_delay_target > p.max_delay_target ||
      p.num_no_delay_retries + p.num_min_delay_retries + p.num_max_delay_retries > p.num_retries) {
    return std::nullopt;
  }
  return p;
}

json::object RetryPolicy::to_json() const {
  return json::object{{"minDelayTarget", min_delay_target},
                      {"maxDelayTarget", max_delay_target},
                      {"numRetries", num_retries},
                      {"numMaxDelayRetries", num_max_delay_retries},
                      {"numNoDelayRetries", num_no_delay_retries},
                      {"numMinDelayRetries", num_min_delay_retries},
                      {"backoffFunction", backoff_function}};
}

RetryPolicy RetryPolicy::effective(const std::map<std::string, std::string>& topic_attributes,
                                   const std::map<std::string, std::string>& sub_attributes) {
  RetryPolicy p;
  bool overrides = true;
  boost::system::error_code ec;
  if (auto it = topic_attributes.find("DeliveryPolicy"); it != topic_attributes.end()) {
    json::value v = json::parse(it->second, ec);
    if (!ec && v.is_object()) {
      if (auto* http = v.as_object().if_contains("http"); http && http->is_object()) {
        if (auto* r = http->as_object().if_contains("defaultHealthyRetryPolicy")) {
          if (auto parsed = from_json(*r)) p = *parsed;
        }
        if (auto* d = http->as_object().if_contains("disableSubscriptionOverrides");
            d && d->is_bool()) {
          overrides = !d->as_bool();
        }
      }
    }
  }
  if (auto it = sub_attributes.find("DeliveryPolicy"); overrides && it != sub_attributes.end()) {
    json::value v = json::parse(it->second, ec);
    if (!ec && v.is_object()) {
      if (auto* r = v.as_object().if_contains("healthyRetryPolicy")) {
        if (auto parsed = from_json(*r)) p = *parsed;
      }
    }
  }
  return p;
}

std::string RetryPolicy::effective_json() const {
  return json::serialize(json::object{{"healthyRetryPolicy", to_json()}});
}

int64_t RetryPolicy::delay_ms(int retry) const {
  if (retry <= num_no_delay_retries) return 0;
  retry -= num_no_delay_retries;
  if (retry <= num_min_delay_retries) return min_delay_target * 1000LL;
  retry -= num_min_delay_retries;
  int backoff = num_retries - num_no_delay_retries - num_min_delay_retries - num_max_delay_retries;
  if (retry > backoff || backoff <= 0) return max_delay_target * 1000LL;
  // From the minimum to the maximum delay over the backoff phase.
  double f = backoff == 1 ? 1.0 : static_cast<double>(retry - 1) / (backoff - 1);
  double span = max_delay_target - min_delay_target;
  double d = min_delay_target;
  if (backoff_function == "exponential") {
    d = min_delay_target *
        std::pow(std::max(1.0, static_cast<double>(max_delay_target) / min_delay_target), f);
  } else if (backoff_function == "geometric") {
    d = min_delay_target + span * f * f;
  } else {  // linear, arithmetic
    d = min_delay_target + span * f;
  }
  return static_cast<int64_t>(d * 1000);
}

std::string HttpDelivery::to_json() const {
  return json::serialize(json::object{{"kind", "http"},
                                      {"topic", topic_arn},
                                      {"subscription", subscription_arn},
                                      {"message_id", message_id},
                                      {"type", type},
                                      {"dlq", dlq},
                                      {"raw", raw},
                                      {"policy", policy.to_json()}});
}

std::optional<HttpDelivery> HttpDelivery::from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  HttpDelivery d;
  d.topic_arn = str(o, "topic");
  d.subscription_arn = str(o, "subscription");
  d.message_id = str(o, "message_id");
  d.type = str(o, "type");
  d.dlq = str(o, "dlq");
  if (auto* r = o.if_contains("raw"); r && r->is_bool()) d.raw = r->as_bool();
  if (auto* p = o.if_contains("policy")) {
    if (auto parsed = RetryPolicy::from_json(*p)) d.policy = *parsed;
  }
  return d;
}

asio::awaitable<invoke::DeliveryOutcome> Deliverer::deliver(store::AsyncEvent& e) {
  boost::system::error_code ec;
  json::value v = json::parse(e.delivery, ec);
  if (ec || !v.is_object()) {
    log::error("async event {}: unreadable delivery {}", e.id, e.delivery);
    co_return done();
  }
  const json::object& d = v.as_object();
  const std::string kind = str(d, "kind");
  if (kind == "http") co_return co_await to_http(e);
  if (kind == "queue") co_return co_await to_queue(e, d);
  if (kind == "topic") co_return co_await to_topic(e, d);
  if (kind == "lambda") {
    std::optional<std::string> qualifier;
    if (!e.qualifier.empty()) qualifier = e.qualifier;
    auto resolved = co_await invoker_.resolve(e.function, qualifier);
    if (resolved) co_return invoke::DeliveryOutcome{invoke::DeliveryOutcome::kInvoke, 0, {}};
    // The function is gone: a client-side error, not retried. (Arguments named: no temporaries
    // with destructors inside a co_await expression, GCC 12 miscompiles them.)
    const std::string dlq = str(d, "dlq");
    std::string body = envelope_from_lambda_record(e.payload);
    const std::string why = "function " + e.function + " not found";
    co_await dead_letter(dlq, std::move(body), why, &d);
    co_return done();
  }
  log::error("async event {}: unknown delivery kind '{}'", e.id, kind);
  co_return done();
}

queue::SendInput detail::queue_message(const store::AsyncEvent& e, const json::object& d) {
  queue::SendInput m;
  m.body = e.payload;
  m.group_id = str(d, "group");  // FIFO queues (EventBridge targets with SqsParameters)
  m.dedup_id = str(d, "dedup");
  if (auto* a = d.if_contains("attributes"); a && a->is_object()) {
    for (const auto& [name, x] : a->as_object()) {
      if (!x.is_object()) continue;
      queue::MessageAttribute attr;
      attr.data_type = str(x.as_object(), "DataType");
      attr.string_value = str(x.as_object(), "StringValue");
      if (auto b = base64_decode(str(x.as_object(), "BinaryValue"))) attr.binary_value = *b;
      m.attributes[std::string(name)] = std::move(attr);
    }
  }
  return m;
}

asio::awaitable<invoke::DeliveryOutcome> Deliverer::to_queue(store::AsyncEvent& e,
                                                             const json::object& d) {
  queue::SendInput m = detail::queue_message(e, d);
  if (!queues_) co_return done();
  std::string name = queues_->name_from_arn(e.function);
  auto send = [this, name, m]() -> std::optional<queue::QueueError> {
    if (name.empty()) return queue::QueueError{queue::Refusal::kNoSuchQueue, "no such queue"};
    auto r = queues_->send(name, m);
    if (r) return std::nullopt;
    return r.error();
  };
  auto failed = co_await offload(pool_, std::move(send));
  if (!failed) co_return done();
  // A rule target's RetryPolicy bounds the retries by age and by count.
  int64_t max_age = kMaxQueueRetryAgeMs, max_retries = -1;
  if (auto* a = d.if_contains("max_age_ms"); a && a->is_int64()) max_age = a->as_int64();
  if (auto* n = d.if_contains("max_retries"); n && n->is_int64()) max_retries = n->as_int64();
  if (failed->code != queue::Refusal::kUnavailable || now_ms() - e.received_ms > max_age ||
      (max_retries >= 0 && e.throttles >= max_retries)) {
    // The queue is gone or refuses the message (a client-side error), or it stayed unavailable
    // too long: the dead-letter queue, if any.
    const std::string dlq = str(d, "dlq");
    co_await dead_letter(dlq, e.payload, failed->message, &d);
    co_return done();
  }
  co_return invoke::DeliveryOutcome{
      invoke::DeliveryOutcome::kRetry, now_ms() + backoff_ms(++e.throttles), {}};
}

asio::awaitable<invoke::DeliveryOutcome> Deliverer::to_http(store::AsyncEvent& e) {
  auto d = HttpDelivery::from_json(e.delivery);
  if (!d) co_return done();
  http::ClientRequest req;
  req.url = e.function;
  req.body = e.payload;
  req.headers = {{"Content-Type", "text/plain; charset=UTF-8"},
                 {"User-Agent", "Amazon Simple Notification Service Agent"},
                 {"x-amz-sns-message-type", d->type},
                 {"x-amz-sns-message-id", d->message_id},
                 {"x-amz-sns-topic-arn", d->topic_arn}};
  if (!d->subscription_arn.empty()) {
    req.headers.emplace_back("x-amz-sns-subscription-arn", d->subscription_arn);
  }
  if (d->raw) req.headers.emplace_back("x-amz-sns-rawdelivery", "true");
  auto executor = co_await asio::this_coro::executor;
  auto r = co_await http::fetch(executor, std::move(req), tls_);
  if (r && r->status >= 200 && r->status < 300) co_return done();
  std::string why = r ? "status " + std::to_string(r->status) : r.error().message;
  const bool client_error = r && r->status >= 400 && r->status < 500 && r->status != 429;
  ++e.attempts;
  if (client_error || e.attempts > d->policy.num_retries) {
    log::info("{} to {} failed for good ({}): {}", d->type, e.function, why,
              d->dlq.empty() ? "dropped" : "to " + d->dlq);
    co_await dead_letter(d->dlq, e.payload, why);
    co_return done();
  }
  co_return invoke::DeliveryOutcome{invoke::DeliveryOutcome::kRetry,
                                    now_ms() + d->policy.delay_ms(static_cast<int>(e.attempts)),
                                    {}};
}

asio::awaitable<invoke::DeliveryOutcome> Deliverer::to_topic(store::AsyncEvent& e,
                                                             const json::object& d) {
  std::string name = topics_.topic_name(e.function);
  PublishInput in;
  in.message = e.payload;
  if (auto s = str(d, "subject"); !s.empty()) in.subject = s;
  if (auto* a = d.if_contains("attributes"); a && a->is_object()) {
    for (const auto& [k, x] : a->as_object()) {
      if (!x.is_object()) continue;
      const auto& o = x.as_object();
      std::string value = str(o, "StringValue");
      if (value.empty()) value = str(o, "BinaryValue");
      in.attributes[std::string(k)] = {str(o, "DataType"), value};
    }
  }
  auto publish = [this, name, in] { return topics_.publish(name, in); };
  auto r = co_await offload(pool_, std::move(publish));
  if (!r) {
    if (r.error().errc == Errc::kIo && now_ms() - e.received_ms < kMaxQueueRetryAgeMs) {
      co_return invoke::DeliveryOutcome{
          invoke::DeliveryOutcome::kRetry, now_ms() + backoff_ms(++e.throttles), {}};
    }
    log::warn("publish to {} dropped: {}", e.function, r.error().message);
  }
  co_return done();
}

asio::awaitable<bool> Deliverer::dead_letter(const std::string& dlq, std::string body,
                                             const std::string& why, const json::object* delivery) {
  if (dlq.empty() || !queues_) co_return false;
  std::string name = queues_->name_from_arn(dlq);
  queue::MessageAttributes attributes;
  if (delivery) {
    if (auto* a = delivery->if_contains("dlq_attributes"); a && a->is_object()) {
      for (const auto& [k, v] : a->as_object()) {
        if (v.is_string()) attributes[std::string(k)] = {"String", std::string(v.as_string()), ""};
      }
      // EventBridge's: what went wrong.
      attributes["ERROR_CODE"] = {"String", "DeliveryFailed", ""};
      attributes["ERROR_MESSAGE"] = {"String", why.substr(0, 1024), ""};
    }
  }
  auto send = [this, name, body = std::move(body), attributes]() -> bool {
    if (name.empty()) return false;
    queue::SendInput m;
    m.body = body;
    m.attributes = attributes;
    auto r = queues_->send(name, m);
    if (!r) log::warn("dead-letter queue {}: {}", name, r.error().message);
    return r.has_value();
  };
  bool sent = co_await offload(pool_, std::move(send));
  if (sent) log::info("delivery dead-lettered to {}: {}", dlq, why);
  co_return sent;
}

}  // namespace lambent::notify

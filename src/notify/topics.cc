#include "notify/topics.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <regex>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "net/tls.h"
#include "notify/delivery.h"
#include "notify/internal.h"

namespace lambent::notify {
namespace json = boost::json;
using detail::attribute_of;
using detail::attributes_json;
using detail::percent_encode;

namespace {

constexpr size_t kMaxTags = 50;

SnsError invalid(std::string message) { return {Errc::kInvalidArgument, std::move(message), ""}; }
SnsError not_found(std::string message) { return {Errc::kNotFound, std::move(message), ""}; }

bool valid_topic_name(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9_-]{1,256}");
  return std::regex_match(name, kName);
}

// The settable topic attributes Lambent keeps, checked as SNS checks them.
SnsResult<void> check_topic_attribute(const std::string& key, const std::string& value) {
  if (key == "DisplayName") {
    if (value.size() > 100) return invalid("Invalid parameter: DisplayName");
    return {};
  }
  if (key == "Policy" || key == "DeliveryPolicy") {
    boost::system::error_code ec;
    json::value v = json::parse(value, ec);
    if (ec || !v.is_object()) return invalid("Invalid parameter: " + key + ": not a JSON object");
    if (key == "DeliveryPolicy") {
      auto* http = v.as_object().if_contains("http");
      if (http && http->is_object()) {
        auto* p = http->as_object().if_contains("defaultHealthyRetryPolicy");
        if (p && !RetryPolicy::from_json(*p)) {
          return invalid("Invalid parameter: DeliveryPolicy: healthyRetryPolicy");
        }
      }
    }
    return {};
  }
  if (key == "SignatureVersion") {
    if (value != "1" && value != "2") return invalid("Invalid parameter: SignatureVersion");
    return {};
  }
  if (key == "TracingConfig") {
    if (value != "Active" && value != "PassThrough") {
      return invalid("Invalid parameter: TracingConfig");
    }
    return {};
  }
  if (key == "FifoTopic" && value == "false") return {};
  if (key == "FifoTopic" || key == "ContentBasedDeduplication" || key == "FifoThroughputScope") {
    return invalid("Invalid parameter: Attributes Reason: Lambent serves standard topics only");
  }
  if (key == "KmsMasterKeyId" || key == "ArchivePolicy" || key == "DataProtectionPolicy") {
    return invalid("Invalid parameter: Attributes Reason: " + key + " is not supported by Lambent");
  }
  if (key.ends_with("FeedbackRoleArn") || key.ends_with("FeedbackSampleRate")) {
    return invalid(
        "Invalid parameter: Attributes Reason: delivery status logging is not "
        "supported by Lambent");
  }
  return invalid("Invalid parameter: AttributeName");
}

std::string default_policy(const std::string& arn, const std::string& account) {
  json::object statement{
      {"Sid", "__default_statement_ID"},
      {"Effect", "Allow"},
      {"Principal", json::object{{"AWS", "*"}}},
      {"Action", json::array{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes",
                             "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
                             "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"}},
      {"Resource", arn},
      {"Condition", json::object{{"StringEquals", json::object{{"AWS:SourceOwner", account}}}}}};
  return json::serialize(json::object{{"Version", "2008-10-17"},
                                      {"Id", "__default_policy_ID"},
                                      {"Statement", json::array{statement}}});
}

const char* const kDefaultDeliveryPolicy =
    R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,)"
    R"("numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,)"
    R"("backoffFunction":"linear"},"disableSubscriptionOverrides":false,)"
    R"("defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}})";

// The attributes a subscription may be given (Subscribe, SetSubscriptionAttributes).
SnsResult<void> check_subscription_attribute(const std::string& protocol, const std::string& key,
                                             const std::string& value) {
  if (key == "RawMessageDelivery") {
    if (value != "true" && value != "false")
      return invalid("Invalid parameter: RawMessageDelivery");
    if (protocol == "lambda" && value == "true") {
      return invalid(
          "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not "
          "support raw message delivery.");
    }
    return {};
  }
  if (key == "FilterPolicyScope") {
    if (value != "MessageAttributes" && value != "MessageBody") {
      return invalid("Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [" +
                     value + "]. Please use either MessageBody or MessageAttributes");
    }
    return {};
  }
  if (key == "FilterPolicy") return {};  // compiled with its scope
  if (key == "RedrivePolicy") {
    boost::system::error_code ec;
    json::value v = json::parse(value, ec);
    const json::value* target =
        !ec && v.is_object() ? v.as_object().if_contains("deadLetterTargetArn") : nullptr;
    if (!target || !target->is_string() ||
        !std::string_view(target->as_string()).starts_with("arn:aws:sqs:")) {
      return invalid("Invalid parameter: RedrivePolicy: deadLetterTargetArn is invalid");
    }
    return {};
  }
  if (key == "DeliveryPolicy") {
    if (protocol != "http" && protocol != "https") {
      return invalid(
          "Invalid parameter: DeliveryPolicy: only http and https subscriptions take a "
          "delivery policy");
    }
    boost::system::error_code ec;
    json::value v = json::parse(value, ec);
    if (ec || !v.is_object()) return invalid("Invalid parameter: DeliveryPolicy");
    if (auto* p = v.as_object().if_contains("healthyRetryPolicy");
        p && !RetryPolicy::from_json(*p)) {
      return invalid("Invalid parameter: DeliveryPolicy: healthyRetryPolicy");
    }
    return {};
  }
  if (key == "SubscriptionRoleArn" || key == "ReplayPolicy") {
    return invalid("Invalid parameter: Attributes Reason: " + key + " is not supported by Lambent");
  }
  return invalid("Invalid parameter: AttributeName");
}

}  // namespace

void throw_exception_from_error(const SnsError& e, const boost::source_location& loc) {
  log::error("unchecked SnsError at {}:{}: {}", loc.file_name(), loc.line(), e.message);
  std::abort();
}

TopicService::TopicService(store::Store& store, NodeIdentity node, Signing signing,
                           std::string public_url, Outbox& outbox)
    : store_(store),
      node_(std::move(node)),
      signing_(std::move(signing)),
      public_url_(std::move(public_url)),
      outbox_(outbox) {}

std::string TopicService::topic_arn(const std::string& name) const {
  return node_.arn("sns", name);
}

std::string TopicService::topic_name(const std::string& arn) const {
  std::string prefix = node_.arn("sns", "");
  if (!arn.starts_with(prefix)) return "";
  std::string rest = arn.substr(prefix.size());
  return rest.find(':') == std::string::npos ? rest : "";
}

SnsResult<void> TopicService::load() {
  auto topics = store_.list_topics();
  if (!topics) return SnsError{Errc::kIo, topics.error().message, ""};
  auto subs = store_.list_subscriptions();
  if (!subs) return SnsError{Errc::kIo, subs.error().message, ""};
  std::lock_guard lock(mu_);
  for (auto& t : *topics) topics_[t.name].record = std::move(t);
  for (auto& s : *subs) {
    Topic* t = find(s.topic);
    if (!t) continue;
    auto sub = std::make_shared<Subscription>();
    auto filter = compile_filter(s.attributes);
    if (filter) {
      sub->filter = std::move(*filter);
    } else {
      log::warn("subscription {}: stored filter policy no longer compiles: {}", s.arn,
                filter.error().message);
    }
    sub->record = std::move(s);
    t->subscriptions[sub->record.arn] = std::move(sub);
  }
  return {};
}

TopicService::Topic* TopicService::find(const std::string& name) {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

SnsResult<std::string> TopicService::create_topic(
    const std::string& name, const std::map<std::string, std::string>& attributes,
    const std::map<std::string, std::string>& tags) {
  if (name.ends_with(".fifo")) {
    return invalid("Invalid parameter: Topic Name Reason: Lambent serves standard topics only");
  }
  if (!valid_topic_name(name)) {
    return invalid("Invalid parameter: Topic Name");
  }
  std::map<std::string, std::string> kept;
  for (const auto& [k, v] : attributes) {
    auto ok = check_topic_attribute(k, v);
    if (!ok) return ok.error();
    if (k != "FifoTopic") kept[k] = v;
  }
  if (tags.size() > kMaxTags)
    return SnsError{Errc::kInvalidArgument,
                    "Could not complete request: tag quota of per resource exceeded",
                    "TagLimitExceeded"};
  std::lock_guard lock(mu_);
  if (Topic* t = find(name)) {
    // CreateTopic is idempotent: the same topic again, unless it asks for something else.
    for (const auto& [k, v] : kept) {
      if (attribute_of(t->record.attributes, k) != v) {
        return invalid(
            "Invalid parameter: Attributes Reason: Topic already exists with different "
            "attributes");
      }
    }
    for (const auto& [k, v] : tags) {
      if (attribute_of(t->record.tags, k) != v) {
        return invalid("Invalid parameter: Tags Reason: Topic already exists with different tags");
      }
    }
    return topic_arn(name);
  }
  store::TopicRecord r{name, kept, tags, now_ms()};
  if (auto w = store_.create_topic(r); !w) return SnsError{Errc::kIo, w.error().message, ""};
  topics_[name].record = std::move(r);
  return topic_arn(name);
}

SnsResult<void> TopicService::delete_topic(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!find(name)) return {};  // as on AWS: deleting a topic that is not there succeeds
  if (auto w = store_.delete_topic(name); !w) {
    return SnsError{Errc::kIo, w.error().message, ""};
  }
  topics_.erase(name);
  return {};
}

bool TopicService::has_topic(const std::string& name) {
  std::lock_guard lock(mu_);
  return find(name) != nullptr;
}

std::vector<std::string> TopicService::topic_names() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, t] : topics_) out.push_back(name);
  return out;
}

SnsResult<std::map<std::string, std::string>> TopicService::topic_attributes(
    const std::string& name) {
  std::lock_guard lock(mu_);
  Topic* t = find(name);
  if (!t) return not_found("Topic does not exist");
  std::map<std::string, std::string> out = t->record.attributes;
  size_t confirmed = 0, pending = 0;
  for (const auto& [arn, s] : t->subscriptions) (s->record.confirmed ? confirmed : pending)++;
  out["TopicArn"] = topic_arn(name);
  out["Owner"] = node_.account_id;
  out["SubscriptionsConfirmed"] = std::to_string(confirmed);
  out["SubscriptionsPending"] = std::to_string(pending);
  out["SubscriptionsDeleted"] = "0";
  if (!out.count("Policy")) out["Policy"] = default_policy(topic_arn(name), node_.account_id);
  if (!out.count("DisplayName")) out["DisplayName"] = "";
  if (!out.count("SignatureVersion")) out["SignatureVersion"] = "1";
  json::value effective = json::parse(kDefaultDeliveryPolicy);
  if (auto it = out.find("DeliveryPolicy"); it != out.end()) {
    json::value given = json::parse(it->second);
    if (auto* http = given.as_object().if_contains("http"); http && http->is_object()) {
      for (const auto& [k, v] : http->as_object()) effective.as_object()["http"].as_object()[k] = v;
    }
  }
  out["EffectiveDeliveryPolicy"] = json::serialize(effective);
  return out;
}

std::optional<std::string> TopicService::policy(const std::string& arn) {
  std::string name = topic_name(arn);
  std::lock_guard lock(mu_);
  Topic* t = find(name);
  if (!t) return std::nullopt;
  auto it = t->record.attributes.find("Policy");
  return it != t->record.attributes.end() ? it->second
                                          : default_policy(topic_arn(name), node_.account_id);
}

SnsResult<void> TopicService::set_topic_attribute(const std::string& name, const std::string& key,
                                                  const std::string& value) {
  if (auto ok = check_topic_attribute(key, value); !ok) return ok.error();
  std::lock_guard lock(mu_);
  Topic* t = find(name);
  if (!t) return not_found("Topic does not exist");
  store::TopicRecord next = t->record;
  if (key == "FifoTopic") return {};
  if (value.empty() && key != "DisplayName") {
    next.attributes.erase(key);
  } else {
    next.attributes[key] = value;
  }
  if (auto w = store_.update_topic(next); !w) {
    return SnsError{Errc::kIo, w.error().message, ""};
  }
  t->record = std::move(next);
  return {};
}

SnsResult<std::map<std::string, std::string>> TopicService::tags(const std::string& arn) {
  std::lock_guard lock(mu_);
  Topic* t = find(topic_name(arn));
  if (!t) return SnsError{Errc::kNotFound, "Resource does not exist", "ResourceNotFound"};
  return t->record.tags;
}

SnsResult<void> TopicService::tag(const std::string& arn,
                                  const std::map<std::string, std::string>& tags) {
  std::lock_guard lock(mu_);
  Topic* t = find(topic_name(arn));
  if (!t) return SnsError{Errc::kNotFound, "Resource does not exist", "ResourceNotFound"};
  store::TopicRecord next = t->record;
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      return invalid(
          "Invalid parameter: Tags Reason: a tag key is 1-128 characters, a value at "
          "most 256");
    }
    next.tags[k] = v;
  }
  if (next.tags.size() > kMaxTags) {
    return SnsError{Errc::kInvalidArgument,
                    "Could not complete request: tag quota of per resource exceeded",
                    "TagLimitExceeded"};
  }
  if (auto w = store_.update_topic(next); !w) {
    return SnsError{Errc::kIo, w.error().message, ""};
  }
  t->record = std::move(next);
  return {};
}

SnsResult<void> TopicService::untag(const std::string& arn, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  Topic* t = find(topic_name(arn));
  if (!t) return SnsError{Errc::kNotFound, "Resource does not exist", "ResourceNotFound"};
  store::TopicRecord next = t->record;
  for (const auto& k : keys) next.tags.erase(k);
  if (auto w = store_.update_topic(next); !w) {
    return SnsError{Errc::kIo, w.error().message, ""};
  }
  t->record = std::move(next);
  return {};
}

SnsResult<std::optional<events::Pattern>> TopicService::compile_filter(
    const std::map<std::string, std::string>& attributes) const {
  auto policy = attributes.find("FilterPolicy");
  if (policy == attributes.end() || policy->second.empty()) {
    return std::optional<events::Pattern>();
  }
  bool body = attribute_of(attributes, "FilterPolicyScope") == "MessageBody";
  auto p = events::Pattern::compile(
      policy->second, body ? events::Dialect::kSnsBody : events::Dialect::kSnsAttributes);
  if (!p) return invalid("Invalid parameter: FilterPolicy: " + p.error().message);
  return std::optional<events::Pattern>(std::move(*p));
}

SnsResult<TopicService::Subscribed> TopicService::subscribe(
    const std::string& topic, const std::string& protocol, const std::string& endpoint,
    const std::map<std::string, std::string>& attributes) {
  if (protocol != "lambda" && protocol != "sqs" && protocol != "http" && protocol != "https") {
    if (protocol == "email" || protocol == "email-json" || protocol == "sms" ||
        protocol == "application" || protocol == "firehose") {
      return invalid(
          "Invalid parameter: Protocol Reason: Lambent delivers to lambda, sqs, http "
          "and https endpoints");
    }
    return invalid("Invalid parameter: Amazon SNS does not support this protocol string: " +
                   protocol);
  }
  if (protocol == "lambda") {
    static const std::regex kFunction(
        "arn:aws:lambda:[a-z0-9-]+:\\d{12}:function:[a-zA-Z0-9-_]{1,64}(:[a-zA-Z0-9-_$]+)?");
    if (!std::regex_match(endpoint, kFunction)) {
      return invalid("Invalid parameter: Lambda endpoint ARN");
    }
  } else if (protocol == "sqs") {
    static const std::regex kQueue("arn:aws:sqs:[a-z0-9-]+:\\d{12}:[a-zA-Z0-9_-]{1,80}");
    static const std::regex kFifoQueue("arn:aws:sqs:[a-z0-9-]+:\\d{12}:[a-zA-Z0-9_-]{1,75}\\.fifo");
    if (std::regex_match(endpoint, kFifoQueue)) {
      // Only FIFO topics (not served here) deliver to FIFO queues.
      return invalid(
          "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
          "standard SNS topics");
    }
    if (!std::regex_match(endpoint, kQueue)) return invalid("Invalid parameter: SQS endpoint ARN");
  } else if (!endpoint.starts_with(protocol + "://") || endpoint.size() <= protocol.size() + 3) {
    return invalid("Invalid parameter: Endpoint must match the specified protocol");
  }
  for (const auto& [k, v] : attributes) {
    if (auto ok = check_subscription_attribute(protocol, k, v); !ok) return ok.error();
  }
  auto filter = compile_filter(attributes);
  if (!filter) return filter.error();

  std::unique_lock lock(mu_);
  Topic* t = find(topic);
  if (!t) return not_found("Topic does not exist");
  for (const auto& [arn, s] : t->subscriptions) {
    if (s->record.protocol != protocol || s->record.endpoint != endpoint) continue;
    for (const auto& [k, v] : attributes) {
      if (attribute_of(s->record.attributes, k) != v) {
        return invalid(
            "Invalid parameter: Attributes Reason: Subscription already exists with "
            "different attributes");
      }
    }
    return Subscribed{arn, !s->record.confirmed};
  }
  store::SubscriptionRecord r;
  r.arn = topic_arn(topic) + ":" + uuid4();
  r.topic = topic;
  r.protocol = protocol;
  r.endpoint = endpoint;
  r.owner = node_.account_id;
  r.attributes = attributes;
  r.confirmed = protocol == "lambda" || protocol == "sqs";
  if (!r.confirmed) r.token = hex_encode(random_bytes(64));
  r.created_ms = now_ms();
  if (auto w = store_.put_subscription(r); !w) {
    return SnsError{Errc::kIo, w.error().message, ""};
  }
  auto sub = std::make_shared<Subscription>();
  sub->record = r;
  sub->filter = std::move(*filter);
  t->subscriptions[r.arn] = sub;
  if (!r.confirmed) {
    // The endpoint is asked to confirm: a SubscriptionConfirmation POST, delivered (and
    // retried) like a notification.
    store::AsyncEvent e = confirmation(*t, r);
    lock.unlock();
    if (auto w = outbox_.post({std::move(e)}); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
  }
  return Subscribed{r.arn, !r.confirmed};
}

SnsResult<std::string> TopicService::confirm(const std::string& topic, const std::string& token,
                                             bool authenticate_on_unsubscribe) {
  std::lock_guard lock(mu_);
  Topic* t = find(topic);
  if (!t) return not_found("Topic does not exist");
  for (auto& [arn, s] : t->subscriptions) {
    if (s->record.token.empty() || s->record.token != token) continue;
    if (s->record.confirmed) return arn;
    store::SubscriptionRecord next = s->record;
    next.confirmed = true;
    if (authenticate_on_unsubscribe) next.attributes["ConfirmationWasAuthenticated"] = "true";
    if (auto w = store_.put_subscription(next); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
    s->record = std::move(next);
    return arn;
  }
  return invalid("Invalid token");
}

SnsResult<void> TopicService::unsubscribe(const std::string& arn, bool authenticated) {
  std::lock_guard lock(mu_);
  for (auto& [name, t] : topics_) {
    auto it = t.subscriptions.find(arn);
    if (it == t.subscriptions.end()) continue;
    if (!authenticated &&
        attribute_of(it->second->record.attributes, "ConfirmationWasAuthenticated") == "true") {
      return SnsError{Errc::kConflict, "Unsubscribing this subscription requires authentication",
                      "AuthorizationError"};
    }
    if (auto w = store_.delete_subscription(arn); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
    t.subscriptions.erase(it);
    return {};
  }
  return not_found("Subscription does not exist");
}

SnsResult<std::map<std::string, std::string>> TopicService::subscription_attributes(
    const std::string& arn) {
  std::lock_guard lock(mu_);
  for (auto& [name, t] : topics_) {
    auto it = t.subscriptions.find(arn);
    if (it == t.subscriptions.end()) continue;
    const auto& r = it->second->record;
    std::map<std::string, std::string> out = r.attributes;
    out["SubscriptionArn"] = arn;
    out["TopicArn"] = topic_arn(name);
    out["Owner"] = r.owner;
    out["Protocol"] = r.protocol;
    out["Endpoint"] = r.endpoint;
    out["PendingConfirmation"] = r.confirmed ? "false" : "true";
    if (!out.count("ConfirmationWasAuthenticated")) {
      out["ConfirmationWasAuthenticated"] =
          r.protocol == "lambda" || r.protocol == "sqs" ? "true" : "false";
    }
    if (!out.count("RawMessageDelivery")) out["RawMessageDelivery"] = "false";
    if (out.count("FilterPolicy") && !out.count("FilterPolicyScope")) {
      out["FilterPolicyScope"] = "MessageAttributes";
    }
    if (r.protocol == "http" || r.protocol == "https") {
      out["EffectiveDeliveryPolicy"] =
          RetryPolicy::effective(t.record.attributes, r.attributes).effective_json();
    }
    return out;
  }
  return not_found("Subscription does not exist");
}

SnsResult<void> TopicService::set_subscription_attribute(const std::string& arn,
                                                         const std::string& key,
                                                         const std::string& value) {
  std::lock_guard lock(mu_);
  for (auto& [name, t] : topics_) {
    auto it = t.subscriptions.find(arn);
    if (it == t.subscriptions.end()) continue;
    Subscription& s = *it->second;
    if (auto ok = check_subscription_attribute(s.record.protocol, key, value); !ok) {
      return ok.error();
    }
    store::SubscriptionRecord next = s.record;
    if (value.empty()) {
      next.attributes.erase(key);
    } else {
      next.attributes[key] = value;
    }
    auto filter = compile_filter(next.attributes);
    if (!filter) return filter.error();
    if (auto w = store_.put_subscription(next); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
    // Replaced, not edited: a publish running now keeps the subscription it matched.
    auto replaced = std::make_shared<Subscription>();
    replaced->record = std::move(next);
    replaced->filter = std::move(*filter);
    it->second = std::move(replaced);
    return {};
  }
  return not_found("Subscription does not exist");
}

std::vector<SubscriptionView> TopicService::subscriptions(const std::optional<std::string>& topic) {
  std::lock_guard lock(mu_);
  std::vector<SubscriptionView> out;
  for (const auto& [name, t] : topics_) {
    if (topic && name != *topic) continue;
    for (const auto& [arn, s] : t.subscriptions) out.push_back({s->record, topic_arn(name)});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.record.arn < b.record.arn; });
  return out;
}

}  // namespace lambent::notify

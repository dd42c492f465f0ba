#include "notify/topics.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <regex>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "net/tls.h"
#include "notify/delivery.h"

namespace lambent::notify {
namespace json = boost::json;

namespace {

constexpr size_t kMaxMessageBytes = 262'144;
constexpr size_t kMaxTags = 50;

SnsError invalid(std::string message) { return {Errc::kInvalidArgument, std::move(message), ""}; }
SnsError not_found(std::string message) { return {Errc::kNotFound, std::move(message), ""}; }

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

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

std::string attribute_of(const std::map<std::string, std::string>& m, const std::string& key,
                         std::string fallback = "") {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

json::object attributes_json(const std::map<std::string, events::Attribute>& attributes) {
  json::object out;
  for (const auto& [name, a] : attributes) {
    out[name] = json::object{{"Type", a.type}, {"Value", a.value}};
  }
  return out;
}

}  // namespace

void throw_exception_from_error(const SnsError& e, const boost::source_location& loc) {
  log::error("unchecked SnsError at {}:{}: {}", loc.file_name(), loc.line(), e.message);
  std::abort();
}

TopicService::TopicService(store::Store& store, NodeIdentity node, Signing signing,
                           std::string public_url, Enqueued enqueued)
    : store_(store),
      node_(std::move(node)),
      signing_(std::move(signing)),
      public_url_(std::move(public_url)),
      enqueued_(std::move(enqueued)) {}

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
    if (auto w = store_.enqueue_event(e); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
    if (enqueued_) enqueued_({std::move(e)});
  }
  return Subscribed{r.arn, !r.confirmed};
}

store::AsyncEvent TopicService::confirmation(const Topic& t,
                                             const store::SubscriptionRecord& s) const {
  const std::string arn = topic_arn(t.record.name);
  const std::string id = uuid4();
  const std::string ts = format_iso8601_millis(now_ms());
  const std::string message =
      "You have chosen to subscribe to the topic " + arn +
      ".\nTo confirm the subscription, visit the SubscribeURL included in this message.";
  const std::string subscribe_url = public_url_ +
                                    "/?Action=ConfirmSubscription&TopicArn=" + percent_encode(arn) +
                                    "&Token=" + s.token;
  const std::string version = attribute_of(t.record.attributes, "SignatureVersion", "1");
  std::string signature = sign({{"Message", message},
                                {"MessageId", id},
                                {"SubscribeURL", subscribe_url},
                                {"Timestamp", ts},
                                {"Token", s.token},
                                {"TopicArn", arn},
                                {"Type", "SubscriptionConfirmation"}},
                               version);
  json::object body{{"Type", "SubscriptionConfirmation"},
                    {"MessageId", id},
                    {"Token", s.token},
                    {"TopicArn", arn},
                    {"Message", message},
                    {"SubscribeURL", subscribe_url},
                    {"Timestamp", ts},
                    {"SignatureVersion", version},
                    {"Signature", signature},
                    {"SigningCertURL", public_url_ + signing_.cert_path}};
  store::AsyncEvent e;
  e.id = uuid4();
  e.function = s.endpoint;
  e.payload = json::serialize(body);
  e.received_ms = now_ms();
  e.due_ms = e.received_ms;
  HttpDelivery d;
  d.topic_arn = arn;
  d.message_id = id;
  d.type = "SubscriptionConfirmation";
  d.policy = RetryPolicy::effective(t.record.attributes, s.attributes);
  e.delivery = d.to_json();
  return e;
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

SnsResult<void> TopicService::check(const PublishInput& in) const {
  if (in.message.empty()) return invalid("Invalid parameter: Empty message");
  size_t size = in.message.size();
  for (const auto& [name, a] : in.attributes) size += name.size() + a.type.size() + a.value.size();
  if (size > kMaxMessageBytes) return invalid("Invalid parameter: Message too long");
  if (in.subject) {
    const std::string& s = *in.subject;
    bool ok = !s.empty() && s.size() < 100;
    for (unsigned char c : s) ok = ok && c >= 0x20 && c < 0x7f;
    if (!ok) return invalid("Invalid parameter: Subject");
  }
  if (in.json_structure) {
    boost::system::error_code ec;
    json::value v = json::parse(in.message, ec);
    if (ec || !v.is_object()) {
      return invalid("Invalid parameter: Message Structure - JSON message body failed to parse");
    }
    auto* d = v.as_object().if_contains("default");
    if (!d || !d->is_string()) {
      return invalid(
          "Invalid parameter: Message Structure - No default entry in JSON message "
          "body");
    }
  }
  static const std::regex kName("[A-Za-z0-9_.-]{1,256}");
  for (const auto& [name, a] : in.attributes) {
    if (!std::regex_match(name, kName) || name.starts_with(".") || name.ends_with(".") ||
        name.find("..") != std::string::npos || name.starts_with("AWS.") ||
        name.starts_with("Amazon.")) {
      return SnsError{Errc::kInvalidArgument,
                      "The message attribute name '" + name + "' is invalid.",
                      "ParameterValueInvalid"};
    }
    std::string base =
        a.type.substr(0, a.type.find('.') == std::string::npos || a.type.starts_with("String.Array")
                             ? std::string::npos
                             : a.type.find('.'));
    if (a.type.starts_with("String.Array")) base = "String.Array";
    if (base != "String" && base != "Number" && base != "Binary" && base != "String.Array") {
      return SnsError{Errc::kInvalidArgument,
                      "The message attribute '" + name +
                          "' has an invalid message attribute type, "
                          "the set of supported type prefixes is Binary, Number, and String.",
                      "ParameterValueInvalid"};
    }
    if (a.value.empty()) {
      return SnsError{Errc::kInvalidArgument,
                      "The message attribute '" + name +
                          "' must contain non-empty message attribute value for message attribute "
                          "type '" +
                          a.type + "'.",
                      "ParameterValueInvalid"};
    }
    if (base == "Number") {
      char* end = nullptr;
      std::strtod(a.value.c_str(), &end);
      if (!end || *end != '\0') {
        return SnsError{Errc::kInvalidArgument,
                        "Could not cast message attribute '" + name + "' value to number.",
                        "ParameterValueInvalid"};
      }
    }
    if (base == "String.Array") {
      boost::system::error_code ec;
      json::value v = json::parse(a.value, ec);
      if (ec || !v.is_array()) {
        return SnsError{Errc::kInvalidArgument,
                        "The message attribute '" + name +
                            "' with type 'String.Array' has "
                            "to be a valid JSON array.",
                        "ParameterValueInvalid"};
      }
    }
  }
  return {};
}

std::string TopicService::sign(const std::vector<std::pair<std::string, std::string>>& fields,
                               const std::string& version) const {
  std::string canonical;
  for (const auto& [k, v] : fields) canonical += k + "\n" + v + "\n";
  auto s = signing_.key.sign(canonical, version == "2");
  if (!s) {
    log::error("signing a notification: {}", s.error().message);
    return "";
  }
  return *s;
}

SnsResult<std::vector<store::AsyncEvent>> TopicService::deliveries(const Snapshot& t,
                                                                   const PublishInput& in,
                                                                   std::string& message_id) {
  message_id = uuid4();
  const std::string arn = topic_arn(t.record.name);
  const std::string ts = format_iso8601_millis(now_ms());
  const std::string version = attribute_of(t.record.attributes, "SignatureVersion", "1");
  const std::string cert_url = public_url_ + signing_.cert_path;
  std::optional<json::value> structured;
  if (in.json_structure) structured = json::parse(in.message);
  std::optional<json::value> body_json;  // the message as JSON, for MessageBody filters
  auto text_for = [&](const std::string& protocol) {
    if (!structured) return in.message;
    auto* v = structured->as_object().if_contains(protocol);
    if (v && v->is_string()) return std::string(v->as_string());
    return std::string(structured->as_object().at("default").as_string());
  };
  // One signature per distinct message text (they do not cover the subscription).
  std::map<std::string, std::string> signatures;
  auto signature_of = [&](const std::string& text) -> const std::string& {
    auto it = signatures.find(text);
    if (it != signatures.end()) return it->second;
    std::vector<std::pair<std::string, std::string>> fields{{"Message", text},
                                                            {"MessageId", message_id}};
    if (in.subject) fields.emplace_back("Subject", *in.subject);
    fields.emplace_back("Timestamp", ts);
    fields.emplace_back("TopicArn", arn);
    fields.emplace_back("Type", "Notification");
    return signatures.emplace(text, sign(fields, version)).first->second;
  };
  auto envelope = [&](const std::string& text, const std::string& subscription) {
    json::object o{{"Type", "Notification"}, {"MessageId", message_id}, {"TopicArn", arn}};
    if (in.subject) o["Subject"] = *in.subject;
    o["Message"] = text;
    o["Timestamp"] = ts;
    o["SignatureVersion"] = version;
    o["Signature"] = signature_of(text);
    o["SigningCertURL"] = cert_url;
    o["UnsubscribeURL"] =
        public_url_ + "/?Action=Unsubscribe&SubscriptionArn=" + percent_encode(subscription);
    if (!in.attributes.empty()) o["MessageAttributes"] = attributes_json(in.attributes);
    return json::serialize(o);
  };

  std::vector<store::AsyncEvent> out;
  for (const auto& sub : t.subscriptions) {
    const store::SubscriptionRecord& s = sub->record;
    const std::string& sub_arn = s.arn;
    if (!s.confirmed) continue;
    if (sub->filter) {
      bool body_scope = attribute_of(s.attributes, "FilterPolicyScope") == "MessageBody";
      if (body_scope) {
        if (!body_json) {
          boost::system::error_code ec;
          body_json = json::parse(text_for(s.protocol), ec);
          if (ec) body_json = json::value();  // not JSON: no body filter matches
        }
        if (!body_json->is_object() || !sub->filter->matches(*body_json)) continue;
      } else if (!sub->filter->matches_attributes(in.attributes)) {
        continue;
      }
    }
    const std::string text = text_for(s.protocol);
    const bool raw = attribute_of(s.attributes, "RawMessageDelivery") == "true";
    std::string dlq;
    if (auto rp = s.attributes.find("RedrivePolicy"); rp != s.attributes.end()) {
      boost::system::error_code ec;
      auto v = json::parse(rp->second, ec);
      if (!ec && v.is_object()) {
        if (auto* d = v.as_object().if_contains("deadLetterTargetArn"); d && d->is_string()) {
          dlq = std::string(d->as_string());
        }
      }
    }
    store::AsyncEvent e;
    e.id = uuid4();
    e.received_ms = now_ms();
    e.due_ms = e.received_ms;
    // A delivery its target's policy does not allow goes to the dead-letter queue (or nowhere).
    auto refused = [&](const char* what) {
      log::warn(
          "topic {}: {} subscription {} is not allowed to receive (its policy does not let "
          "sns.amazonaws.com deliver for the topic)",
          arn, what, sub_arn);
      if (dlq.empty()) return;
      e.function = dlq;
      e.payload = envelope(text, sub_arn);
      out.push_back(std::move(e));
    };
    if (s.protocol == "lambda") {
      if (function_allows_ && !function_allows_(s.endpoint, arn)) {
        refused("lambda");
        continue;
      }
      json::object sns{{"Type", "Notification"},
                       {"MessageId", message_id},
                       {"TopicArn", arn},
                       {"Subject", in.subject ? json::value(*in.subject) : json::value(nullptr)},
                       {"Message", text},
                       {"Timestamp", ts},
                       {"SignatureVersion", version},
                       {"Signature", signature_of(text)},
                       {"SigningCertUrl", cert_url},
                       {"UnsubscribeUrl", public_url_ + "/?Action=Unsubscribe&SubscriptionArn=" +
                                              percent_encode(sub_arn)},
                       {"MessageAttributes", attributes_json(in.attributes)}};
      json::object record{{"EventSource", "aws:sns"},
                          {"EventVersion", "1.0"},
                          {"EventSubscriptionArn", sub_arn},
                          {"Sns", std::move(sns)}};
      // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
      std::string target = s.endpoint.substr(s.endpoint.find(":function:") + 10);
      size_t colon = target.find(':');
      e.function = target.substr(0, colon);
      if (colon != std::string::npos) e.qualifier = target.substr(colon + 1);
      e.payload = json::serialize(json::object{{"Records", json::array{std::move(record)}}});
      e.delivery = json::serialize(
          json::object{{"kind", "lambda"}, {"subscription", sub_arn}, {"dlq", dlq}});
    } else if (s.protocol == "sqs") {
      if (queue_allows_ && !queue_allows_(s.endpoint, arn)) {
        refused("sqs");
        continue;
      }
      e.function = s.endpoint;
      json::object d{{"kind", "queue"}, {"subscription", sub_arn}, {"dlq", dlq}};
      if (raw) {
        e.payload = text;
        json::object attributes;
        for (const auto& [name, a] : in.attributes) {
          bool binary = a.type.starts_with("Binary");
          attributes[name] =
              json::object{{"DataType", a.type}, {binary ? "BinaryValue" : "StringValue", a.value}};
        }
        d["attributes"] = std::move(attributes);
      } else {
        e.payload = envelope(text, sub_arn);
      }
      e.delivery = json::serialize(d);
    } else {
      e.function = s.endpoint;
      e.payload = raw ? text : envelope(text, sub_arn);
      HttpDelivery d;
      d.topic_arn = arn;
      d.subscription_arn = sub_arn;
      d.message_id = message_id;
      d.type = "Notification";
      d.raw = raw;
      d.dlq = dlq;
      d.policy = RetryPolicy::effective(t.record.attributes, s.attributes);
      e.delivery = d.to_json();
    }
    out.push_back(std::move(e));
  }
  return out;
}

SnsResult<std::string> TopicService::publish(const std::string& topic, const PublishInput& in) {
  auto ids = publish_batch(topic, {in});
  if (!ids) return ids.error();
  return ids->front();
}

SnsResult<std::vector<std::string>> TopicService::publish_batch(
    const std::string& topic, const std::vector<PublishInput>& in) {
  std::vector<store::AsyncEvent> events;
  std::vector<std::string> ids;
  Snapshot snapshot;
  {
    std::lock_guard lock(mu_);
    Topic* t = find(topic);
    if (!t) return not_found("Topic does not exist");
    snapshot.record = t->record;
    for (const auto& [arn, s] : t->subscriptions) snapshot.subscriptions.push_back(s);
  }
  for (const auto& message : in) {
    std::string id;
    auto made = deliveries(snapshot, message, id);
    if (!made) return made.error();
    ids.push_back(id);
    for (auto& e : *made) events.push_back(std::move(e));
  }
  if (!events.empty()) {
    // Stored before the MessageId is answered: from here every delivery happens at least once.
    if (auto w = store_.enqueue_events(events); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
    if (enqueued_) enqueued_(std::move(events));
  }
  return ids;
}

std::string envelope_from_lambda_record(const std::string& lambda_event) {
  boost::system::error_code ec;
  json::value v = json::parse(lambda_event, ec);
  if (ec) return lambda_event;
  const json::value* sns = nullptr;
  if (auto* records = v.as_object().if_contains("Records");
      records && records->is_array() && !records->as_array().empty()) {
    sns = records->as_array()[0].as_object().if_contains("Sns");
  }
  if (!sns || !sns->is_object()) return lambda_event;
  json::object out;
  for (const auto& [k, x] : sns->as_object()) {
    if (k == "Subject" && x.is_null()) continue;
    if (k == "MessageAttributes" && x.is_object() && x.as_object().empty()) continue;
    std::string key(k);
    if (key == "SigningCertUrl") key = "SigningCertURL";
    if (key == "UnsubscribeUrl") key = "UnsubscribeURL";
    out[key] = x;
  }
  return json::serialize(out);
}

}  // namespace lambent::notify

// Publishing (TopicService): the checks Publish makes, the messages each protocol receives, their
// signatures, and the confirmation request of http(s) subscriptions.
#include <boost/json.hpp>
#include <regex>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "notify/delivery.h"
#include "notify/internal.h"
#include "notify/topics.h"

namespace lambent::notify {
namespace json = boost::json;
using detail::attribute_of;
using detail::attributes_json;
using detail::kMaxMessageBytes;
using detail::percent_encode;

namespace {
SnsError invalid(std::string message) { return {Errc::kInvalidArgument, std::move(message), ""}; }
SnsError not_found(std::string message) { return {Errc::kNotFound, std::move(message), ""}; }
}  // namespace

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
    // Durable before the MessageId is answered (sent to a queue, or stored for the dispatcher):
    // from here every delivery happens at least once.
    if (auto w = outbox_.post(std::move(events)); !w) {
      return SnsError{Errc::kIo, w.error().message, ""};
    }
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

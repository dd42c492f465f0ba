#include "services/s3/notifications.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <pugixml.hpp>
#include <set>

#include "base/codec.h"
#include "base/time.h"
#include "services/s3/internal.h"

namespace lambent::s3 {
namespace json = boost::json;

namespace {

// Every event type S3 names; only ObjectCreated and ObjectRemoved are produced here.
const std::set<std::string, std::less<>> kEvents = {
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put"};

// The concrete event types a configured name covers ("s3:ObjectCreated:*" → its four).
std::set<std::string> expand(const std::string& name) {
  std::set<std::string> out;
  if (name.ends_with(":*")) {
    std::string family = name.substr(0, name.size() - 1);
    for (const auto& e : kEvents) {
      if (e.starts_with(family) && !e.ends_with("*")) out.insert(e);
    }
  } else {
    out.insert(name);
  }
  return out;
}

bool prefixes_overlap(const std::string& a, const std::string& b) {
  return a.starts_with(b) || b.starts_with(a);
}
bool suffixes_overlap(const std::string& a, const std::string& b) {
  return a.ends_with(b) || b.ends_with(a);
}

aws::ServiceError invalid(std::string message, std::string name = "", std::string value = "") {
  std::vector<std::pair<std::string, std::string>> extra;
  if (!name.empty()) {
    extra = {{"ArgumentName", std::move(name)}, {"ArgumentValue", std::move(value)}};
  }
  return s3_error(400, "InvalidArgument", std::move(message), std::move(extra));
}

// arn:aws:<service>:<region>:<account>:<resource>
bool arn_of_service(const std::string& arn, std::string_view service) {
  std::vector<std::string_view> parts;
  std::string_view rest = arn;
  for (int i = 0; i < 5; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return false;
    parts.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  return parts[0] == "arn" && parts[2] == service && !rest.empty();
}

}  // namespace

std::string event_key(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::vector<NotificationConfig> parse_notification_xml(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) throw malformed_xml();
  auto root = doc.child("NotificationConfiguration");
  if (!root) throw malformed_xml();
  std::vector<NotificationConfig> out;
  struct Section {
    const char* element;
    const char* arn_element;
    NotificationConfig::Kind kind;
    const char* service;
  };
  const Section sections[] = {
      {"CloudFunctionConfiguration", "CloudFunction", NotificationConfig::Kind::kLambda, "lambda"},
      {"QueueConfiguration", "Queue", NotificationConfig::Kind::kQueue, "sqs"},
      {"TopicConfiguration", "Topic", NotificationConfig::Kind::kTopic, "sns"},
  };
  for (const auto& sec : sections) {
    for (auto node : root.children(sec.element)) {
      NotificationConfig c;
      c.kind = sec.kind;
      c.id = node.child("Id").text().as_string();
      c.arn = node.child(sec.arn_element).text().as_string();
      if (!arn_of_service(c.arn, sec.service)) {
        throw invalid("The ARN could not be parsed", sec.arn_element, c.arn);
      }
      for (auto e : node.children("Event")) {
        std::string name = e.text().as_string();
        if (!kEvents.count(name)) {
          throw invalid("The event is not supported for notifications", "Event", name);
        }
        c.events.push_back(std::move(name));
      }
      if (c.events.empty()) throw malformed_xml();
      bool seen_prefix = false, seen_suffix = false;
      for (auto rule : node.child("Filter").child("S3Key").children("FilterRule")) {
        std::string name = rule.child("Name").text().as_string();
        std::string value = rule.child("Value").text().as_string();
        std::string lower;
        for (char ch : name)
          lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
        if (lower != "prefix" && lower != "suffix") {
          throw invalid("filter rule name must be either prefix or suffix", "FilterRule", name);
        }
        bool& seen = lower == "prefix" ? seen_prefix : seen_suffix;
        if (seen) {
          throw invalid("Cannot specify more than one " + lower + " rule in a filter.",
                        "FilterRule", name);
        }
        seen = true;
        if (value.size() > 1024) {
          throw invalid(
              "Size of filter rule value cannot exceed 1024 bytes in UTF-8 "
              "representation",
              "FilterRule", value.substr(0, 64));
        }
        (lower == "prefix" ? c.prefix : c.suffix) = value;
      }
      if (c.id.empty()) c.id = hex_encode(random_bytes(16));
      out.push_back(std::move(c));
    }
  }
  if (root.child("EventBridgeConfiguration")) {
    throw s3_error(501, "NotImplemented",
                   "EventBridge notifications are not supported by this server yet.",
                   {{"Header", "EventBridgeConfiguration"}});
  }
  // Configurations that share an event type must have disjoint filters.
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t j = i + 1; j < out.size(); ++j) {
      if (out[i].id == out[j].id) {
        throw invalid("Configuration Ids must be unique", "Id", out[i].id);
      }
      std::set<std::string> a, b;
      for (const auto& e : out[i].events) a.merge(expand(e));
      for (const auto& e : out[j].events) b.merge(expand(e));
      bool shared =
          std::any_of(a.begin(), a.end(), [&](const std::string& e) { return b.count(e); });
      if (!shared) continue;
      if (prefixes_overlap(out[i].prefix, out[j].prefix) &&
          suffixes_overlap(out[i].suffix, out[j].suffix)) {
        throw invalid(
            "Configurations overlap. Configurations on the same bucket cannot share a common event "
            "type.",
            "Event", out[i].events.front());
      }
    }
  }
  return out;
}

std::string notification_xml(const std::vector<NotificationConfig>& configs) {
  std::string xml = fmt::format("<NotificationConfiguration xmlns=\"{}\">", kXmlns);
  for (auto kind : {NotificationConfig::Kind::kTopic, NotificationConfig::Kind::kQueue,
                    NotificationConfig::Kind::kLambda}) {
    for (const auto& c : configs) {
      if (c.kind != kind) continue;
      const char* element = kind == NotificationConfig::Kind::kLambda ? "CloudFunctionConfiguration"
                            : kind == NotificationConfig::Kind::kQueue ? "QueueConfiguration"
                                                                       : "TopicConfiguration";
      const char* arn = kind == NotificationConfig::Kind::kLambda  ? "CloudFunction"
                        : kind == NotificationConfig::Kind::kQueue ? "Queue"
                                                                   : "Topic";
      xml += fmt::format("<{}>", element);
      xml_elem(xml, "Id", c.id);
      xml_elem(xml, arn, c.arn);
      for (const auto& e : c.events) xml_elem(xml, "Event", e);
      if (!c.prefix.empty() || !c.suffix.empty()) {
        xml += "<Filter><S3Key>";
        if (!c.prefix.empty()) {
          xml += "<FilterRule><Name>Prefix</Name>";
          xml_elem(xml, "Value", c.prefix);
          xml += "</FilterRule>";
        }
        if (!c.suffix.empty()) {
          xml += "<FilterRule><Name>Suffix</Name>";
          xml_elem(xml, "Value", c.suffix);
          xml += "</FilterRule>";
        }
        xml += "</S3Key></Filter>";
      }
      xml += fmt::format("</{}>", element);
    }
  }
  return xml + "</NotificationConfiguration>";
}

json::array notification_json(const std::vector<NotificationConfig>& configs) {
  json::array out;
  for (const auto& c : configs) {
    json::array events;
    for (const auto& e : c.events) events.emplace_back(e);
    out.push_back(json::object{{"kind", static_cast<int>(c.kind)},
                               {"id", c.id},
                               {"arn", c.arn},
                               {"events", std::move(events)},
                               {"prefix", c.prefix},
                               {"suffix", c.suffix}});
  }
  return out;
}

std::vector<NotificationConfig> notification_from_json(const json::value& v) {
  std::vector<NotificationConfig> out;
  if (!v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    const auto& o = item.as_object();
    NotificationConfig c;
    c.kind = static_cast<NotificationConfig::Kind>(o.at("kind").to_number<int>());
    c.id = std::string(o.at("id").as_string());
    c.arn = std::string(o.at("arn").as_string());
    for (const auto& e : o.at("events").as_array()) c.events.emplace_back(e.as_string());
    c.prefix = std::string(o.at("prefix").as_string());
    c.suffix = std::string(o.at("suffix").as_string());
    out.push_back(std::move(c));
  }
  return out;
}

bool notification_matches(const NotificationConfig& c, std::string_view event,
                          std::string_view encoded_key) {
  std::string full = "s3:" + std::string(event);
  bool wanted = false;
  for (const auto& e : c.events) wanted = wanted || expand(e).count(full) > 0;
  return wanted && encoded_key.starts_with(c.prefix) && encoded_key.ends_with(c.suffix);
}

std::string event_payload(const EventFacts& f, const std::string& configuration_id) {
  json::object object{{"key", event_key(f.key)}};
  if (f.created) {
    object["size"] = f.size;
    object["eTag"] = f.etag;
  }
  object["sequencer"] = fmt::format("{:016X}", f.sequence);
  json::object record{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", f.region},
      {"eventTime", format_iso8601_millis(f.time_ms)},
      {"eventName", f.event_name},
      {"userIdentity", json::object{{"principalId", f.principal_id}}},
      {"requestParameters", json::object{{"sourceIPAddress", f.source_ip}}},
      {"responseElements", json::object{{"x-amz-request-id", f.request_id},
                                        {"x-amz-id-2", base64_encode(f.request_id)}}},
      {"s3", json::object{
                 {"s3SchemaVersion", "1.0"},
                 {"configurationId", configuration_id},
                 {"bucket", json::object{{"name", f.bucket},
                                         {"ownerIdentity", json::object{{"principalId", f.owner}}},
                                         {"arn", "arn:aws:s3:::" + f.bucket}}},
                 {"object", std::move(object)}}}};
  json::array records;
  records.push_back(std::move(record));
  return json::serialize(json::object{{"Records", std::move(records)}});
}

std::string test_event_payload(const std::string& bucket, const std::string& request_id,
                               int64_t time_ms) {
  return json::serialize(json::object{{"Service", "Amazon S3"},
                                      {"Event", "s3:TestEvent"},
                                      {"Time", format_iso8601_millis(time_ms)},
                                      {"Bucket", bucket},
                                      {"RequestId", request_id},
                                      {"HostId", base64_encode(request_id)}});
}

}  // namespace lambent::s3

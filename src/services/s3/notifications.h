// Bucket event notifications: the configuration S3 accepts (PutBucketNotificationConfiguration's
// XML, its validation — event names, filter rules, overlapping configurations), its stored form,
// which configurations an object event matches, and the event record S3 delivers (eventVersion
// 2.1, the key URL-encoded).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lambent::s3 {

struct NotificationConfig {
  enum class Kind { kLambda, kQueue, kTopic };
  Kind kind = Kind::kLambda;
  std::string id;
  std::string arn;
  std::vector<std::string> events;  // "s3:ObjectCreated:*", …
  std::string prefix, suffix;
};

// Parses and validates a <NotificationConfiguration> document: throws S3's error
// (MalformedXML, InvalidArgument with S3's messages). Configurations without an Id get one.
std::vector<NotificationConfig> parse_notification_xml(const std::string& body);
std::string notification_xml(const std::vector<NotificationConfig>& configs);
boost::json::array notification_json(const std::vector<NotificationConfig>& configs);
std::vector<NotificationConfig> notification_from_json(const boost::json::value& v);

// Does `config` want `event` ("ObjectCreated:Put") for this key (already URL-encoded)?
bool notification_matches(const NotificationConfig& config, std::string_view event,
                          std::string_view encoded_key);

// The key as S3 writes it in event records: URL form encoding ('/' kept, space as '+').
std::string event_key(std::string_view key);

struct EventFacts {
  std::string region;
  std::string event_name;  // without "s3:"
  int64_t time_ms = 0;
  std::string principal_id;
  std::string source_ip;
  std::string request_id;
  std::string bucket;
  std::string owner;  // the bucket owner's account
  std::string key;    // as stored (encoded here)
  bool created = true;
  uint64_t size = 0;
  std::string etag;
  uint64_t sequence = 0;
};
// {"Records":[record]} as S3 delivers it, for `configuration_id`.
std::string event_payload(const EventFacts& facts, const std::string& configuration_id);
// The message S3 sends to a queue when a configuration naming it is saved.
std::string test_event_payload(const std::string& bucket, const std::string& request_id,
                               int64_t time_ms);

}  // namespace lambent::s3

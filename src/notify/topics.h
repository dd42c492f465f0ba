// Topics (SNS): topics and subscriptions held in memory and written through to the store, filter
// policies compiled once, and Publish — the message matched against every confirmed
// subscription's filter policy and turned into one durable delivery per match (an asynchronous
// event: to the function's asynchronous queue, to a queue, or POSTed to an HTTP endpoint; see
// delivery.h), all of one publish in one transaction before its MessageId is answered.
// Messages are signed (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) with the node's
// notification key, whose certificate is served at SigningCertURL.
// Thread: any; calls block on the store (the worker pool). One mutex guards the memory.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/node.h"
#include "events/pattern.h"
#include "net/tls.h"
#include "notify/outbox.h"
#include "store/store.h"

namespace lambent::notify {

// A refusal in SNS's words: kInvalidArgument → InvalidParameter, kNotFound → NotFound, kIo → the
// store failed (InternalError); `code` overrides (ParameterValueInvalid, AuthorizationError, …).
struct SnsError {
  Errc errc = Errc::kInvalidArgument;
  std::string message;
  std::string code;
};
// boost::system::result finds this by ADL when .value() is called on an error: a bug.
[[noreturn]] void throw_exception_from_error(const SnsError& e, const boost::source_location& loc);
template <class T>
using SnsResult = boost::system::result<T, SnsError>;

struct PublishInput {
  std::string message;
  std::optional<std::string> subject;
  bool json_structure = false;  // MessageStructure: json (per-protocol messages)
  std::map<std::string, events::Attribute> attributes;
};

struct SubscriptionView {
  store::SubscriptionRecord record;
  std::string topic_arn;
};

// The node's notification signing key and where its certificate is served.
struct Signing {
  net::Signer key;
  std::string cert_pem;
  std::string cert_path;  // /_lambent/sns/SimpleNotificationService-<hash>.pem
};

class TopicService final {
 public:
  // `public_url`: the base of SigningCertURL, SubscribeURL and UnsubscribeURL. Deliveries
  // leave through `outbox` before a publish is answered.
  TopicService(store::Store& store, NodeIdentity node, Signing signing, std::string public_url,
               Outbox& outbox);

  SnsResult<void> load();
  // Before serving (the listener's address is known only then).
  void set_public_url(std::string url) { public_url_ = std::move(url); }

  std::string topic_arn(const std::string& name) const;
  // The topic name of an ARN of this node ("" when it is not one).
  std::string topic_name(const std::string& arn) const;

  SnsResult<std::string> create_topic(const std::string& name,
                                      const std::map<std::string, std::string>& attributes,
                                      const std::map<std::string, std::string>& tags);
  SnsResult<void> delete_topic(const std::string& name);
  // Every attribute GetTopicAttributes shows.
  SnsResult<std::map<std::string, std::string>> topic_attributes(const std::string& name);
  SnsResult<void> set_topic_attribute(const std::string& name, const std::string& key,
                                      const std::string& value);
  std::vector<std::string> topic_names();
  bool has_topic(const std::string& name);
  // The topic's access policy (its Policy attribute, or the default one), for authorization.
  std::optional<std::string> policy(const std::string& arn);

  SnsResult<std::map<std::string, std::string>> tags(const std::string& arn);
  SnsResult<void> tag(const std::string& arn, const std::map<std::string, std::string>& tags);
  SnsResult<void> untag(const std::string& arn, const std::vector<std::string>& keys);

  // The subscription's ARN; pending http(s) subscriptions get a confirmation message first.
  struct Subscribed {
    std::string arn;
    bool pending = false;
  };
  SnsResult<Subscribed> subscribe(const std::string& topic, const std::string& protocol,
                                  const std::string& endpoint,
                                  const std::map<std::string, std::string>& attributes);
  SnsResult<std::string> confirm(const std::string& topic, const std::string& token,
                                 bool authenticate_on_unsubscribe);
  // `authenticated`: false for the unsigned UnsubscribeURL (refused once a subscription was
  // confirmed with AuthenticateOnUnsubscribe).
  SnsResult<void> unsubscribe(const std::string& arn, bool authenticated);
  SnsResult<std::map<std::string, std::string>> subscription_attributes(const std::string& arn);
  SnsResult<void> set_subscription_attribute(const std::string& arn, const std::string& key,
                                             const std::string& value);
  // All subscriptions, or a topic's, in ARN order.
  std::vector<SubscriptionView> subscriptions(const std::optional<std::string>& topic);

  // Checks a message (size, subject, structure, attributes): what Publish refuses before any
  // delivery.
  SnsResult<void> check(const PublishInput& in) const;
  // Publishes (after check) to the topic: returns the MessageId once every delivery is stored.
  SnsResult<std::string> publish(const std::string& topic, const PublishInput& in);
  // Several messages in one transaction (PublishBatch's valid entries): their MessageIds.
  SnsResult<std::vector<std::string>> publish_batch(const std::string& topic,
                                                    const std::vector<PublishInput>& in);

  // The signed message body of a notification as HTTP and SQS subscribers get it (also the
  // shape dead-letter queues receive).
  const Signing& signing() const { return signing_; }

  // Which deliveries are allowed: `function` (its resource policy lets sns.amazonaws.com invoke
  // it for the topic) and `queue` (its policy lets the topic send). Unset: all allowed.
  using Allows = std::function<bool(const std::string& target_arn, const std::string& topic_arn)>;
  void set_permission_checks(Allows function, Allows queue) {
    function_allows_ = std::move(function);
    queue_allows_ = std::move(queue);
  }

 private:
  struct Subscription {
    store::SubscriptionRecord record;
    std::optional<events::Pattern> filter;
  };
  struct Topic {
    store::TopicRecord record;
    std::map<std::string, std::shared_ptr<Subscription>> subscriptions;  // by ARN
  };
  Topic* find(const std::string& name);
  // What a publish needs of a topic, taken under the lock (the deliveries are built and signed
  // outside it).
  struct Snapshot {
    store::TopicRecord record;
    std::vector<std::shared_ptr<Subscription>> subscriptions;
  };
  SnsResult<std::vector<store::AsyncEvent>> deliveries(const Snapshot& t, const PublishInput& in,
                                                       std::string& message_id);
  store::AsyncEvent confirmation(const Topic& t, const store::SubscriptionRecord& s) const;
  SnsResult<std::optional<events::Pattern>> compile_filter(
      const std::map<std::string, std::string>& attributes) const;
  std::string sign(const std::vector<std::pair<std::string, std::string>>& fields,
                   const std::string& version) const;

  store::Store& store_;
  NodeIdentity node_;
  Signing signing_;
  std::string public_url_;
  Outbox& outbox_;
  Allows function_allows_, queue_allows_;
  std::mutex mu_;
  std::map<std::string, Topic> topics_;
};

// The notification JSON SNS sends to HTTP endpoints and SQS queues, from a Lambda event record's
// "Sns" object (dead-letter queues of lambda subscriptions get this shape).
std::string envelope_from_lambda_record(const std::string& lambda_event);

}  // namespace lambent::notify

// SNS (2010-03-31, query protocol, signing name `sns`) over notify::TopicService: topics and their
// attributes, tags and access policy (AddPermission/RemovePermission), subscriptions (lambda,
// sqs, http, https) with filter policies, Publish and PublishBatch. Also the unsigned URLs SNS
// hands out: SubscribeURL (GET /?Action=ConfirmSubscription&TopicArn=…&Token=…), UnsubscribeURL
// (GET /?Action=Unsubscribe&SubscriptionArn=…) and SigningCertURL (the certificate that verifies
// every message's Signature).
// Thread: handlers run on the worker pool.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "aws/service.h"
#include "http/router.h"
#include "notify/topics.h"

namespace lambent::sns {

class SnsApi final {
 public:
  SnsApi(notify::TopicService& topics, boost::asio::thread_pool& pool);
  aws::RpcService& service() { return service_; }
  static aws::ServiceInfo info();
  // The unsigned GET routes (confirmation, unsubscribe, the signing certificate).
  void add_routes(http::Router& router);

 private:
  using Call = aws::Call;
  using Output = aws::Output;
  Output create_topic(Call& call);
  Output list_topics(Call& call);
  Output subscribe(Call& call);
  Output list_subscriptions(Call& call, bool by_topic);
  Output publish(Call& call);
  Output publish_batch(Call& call);
  Output add_permission(Call& call);
  Output remove_permission(Call& call);
  // The topic an input's TopicArn (or `member`) names: its name, or NotFound.
  std::string topic_of(const Call& call, const char* member = "TopicArn") const;

  notify::TopicService& topics_;
  aws::RpcService service_;
};

}  // namespace lambent::sns

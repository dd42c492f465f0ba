// EventBridge (CloudWatch Events, JSON 1.1 with X-Amz-Target: AWSEvents.<Operation>, signing
// name `events`) over notify::EventBusService: event buses, rules (event patterns and
// schedules), targets with their input transformations, PutEvents, TestEventPattern and tags.
// Thread: handlers run on the worker pool.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "aws/service.h"
#include "notify/buses.h"

namespace lambent::eventbridge {

class EventsApi final {
 public:
  EventsApi(notify::EventBusService& buses, boost::asio::thread_pool& pool);
  aws::RpcService& service() { return service_; }
  static aws::ServiceInfo info();

 private:
  notify::EventBusService& buses_;
  aws::RpcService service_;
};

}  // namespace lambent::eventbridge

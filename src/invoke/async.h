// Asynchronous invocation (InvocationType Event, compat §5.1): events are stored durably before
// the 202, then a dispatcher runs them with the function's concurrency rules. Function errors
// are retried MaximumRetryAttempts times (default 2, about 1 and 2 minutes apart; the base delay
// is configurable for tests); throttles and failures to start back off exponentially from 1 s to
// 5 min; events older than MaximumEventAgeInSeconds (default 6 h) go to the failure path. A
// finished event goes to its OnSuccess/OnFailure destination (another Lambent function, invoked
// asynchronously with AWS's invocation record) in the same transaction that removes it.
// At-least-once: an event that was running when the server died runs again after a restart.
// Thread: the io_context thread (store work hops to the worker pool).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "invoke/invoker.h"
#include "queue/queue_service.h"
#include "store/store.h"
#include "telemetry/log_store.h"
#include "telemetry/metrics.h"

namespace lambent::invoke {

struct AsyncOptions {
  int64_t retry_base_ms = 60'000;  // delay before the first retry; the second waits twice that
  size_t max_parallel = 32;        // events running at once
};

// What a delivery handler made of an event with a `delivery` (notify/delivery.h): done (delivered
// or dead-lettered: the event goes), retry at `due_ms` (the handler updated its counters), or run
// it as an invocation of its function (SNS handing a message to Lambda's asynchronous queue).
struct DeliveryOutcome {
  enum Kind { kDone, kRetry, kInvoke } kind = kDone;
  int64_t due_ms = 0;
  std::vector<store::AsyncEvent> follow_ups;  // stored as the event goes (kDone)
};
using DeliveryHandler =
    std::function<boost::asio::awaitable<DeliveryOutcome>(store::AsyncEvent& event)>;

class AsyncDispatcher final {
 public:
  // `logs` is flushed before an event is marked done, so what an invocation logged is durable
  // whenever its event is gone from the queue (after a crash, the event runs again instead).
  AsyncDispatcher(boost::asio::io_context& ioc, boost::asio::thread_pool& pool, store::Store& store,
                  Invoker& invoker, queue::QueueService* queues, telemetry::Metrics* metrics,
                  telemetry::LogStore* logs, NodeIdentity node, AsyncOptions options);

  // Events with a `delivery` go to `handler` first (before start).
  void set_delivery_handler(DeliveryHandler handler) { delivery_ = std::move(handler); }

  void start();
  void stop();
  // Called after an event was stored: look for due events now (any thread).
  void wake();
  // Called with events just stored (due now): they start at once, without being read back, as
  // far as the parallelism allows; the others wait for the loop (any thread).
  void submit(std::vector<store::AsyncEvent> events);

 private:
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> run(store::AsyncEvent e);
  // The failure or success path: the destination's record, stored as its own event.
  // `dead_letter`: the function's DeadLetterConfig target (failures only).
  boost::asio::awaitable<void> finish(const store::AsyncEvent& e, const std::string& destination,
                                      const std::string& condition, const InvokeResult* result,
                                      const std::string& executed_version,
                                      const std::string& dead_letter);
  // Sends to a built-in queue (by ARN); false when it cannot be delivered.
  boost::asio::awaitable<bool> send_to_queue(const std::string& arn, queue::SendInput message);

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  store::Store& store_;
  Invoker& invoker_;
  queue::QueueService* queues_;
  telemetry::Metrics* metrics_;
  telemetry::LogStore* logs_;
  NodeIdentity node_;
  AsyncOptions options_;
  boost::asio::steady_timer timer_;
  std::set<std::string> running_;
  // Events that finished while a fetch of due events was in flight, with the finish counter
  // then: a fetch started before a finish may still return that event, which must not run again.
  uint64_t finishes_ = 0;
  std::map<std::string, uint64_t> finished_;
  void start_run(store::AsyncEvent e);
  DeliveryHandler delivery_;
  bool stopping_ = false;
};

}  // namespace lambent::invoke

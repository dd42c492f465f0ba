// The way out for what topics and event buses route, taken before the call that routed it is
// answered (Publish, PublishBatch, PutEvents, a subscription's confirmation request).
//
// A delivery to a queue of this node is sent at once: the message is then as durable as a stored
// delivery would be, in one write instead of three (the delivery stored, the dispatcher's send,
// the delivery deleted), and no dispatcher round. Everything else — functions, http(s) endpoints,
// topics, and queue sends that failed (the queue gone, the message refused, the store
// unavailable: the dispatcher retries and dead-letters them by the delivery's own rules) — is
// stored as an asynchronous event and handed to the dispatcher.
// Thread: any (it blocks on the store).
#pragma once

#include <functional>
#include <vector>

#include "base/error.h"
#include "queue/queue_service.h"
#include "store/store.h"

namespace lambent::notify {

class Outbox final {
 public:
  // Called with deliveries once they are stored (the dispatcher starts them).
  using Submit = std::function<void(std::vector<store::AsyncEvent>)>;
  Outbox(store::Store& store, queue::QueueService* queues, Submit submit)
      : store_(store), queues_(queues), submit_(std::move(submit)) {}

  // Every delivery is durable (sent or stored) when this returns a value.
  Result<void> post(std::vector<store::AsyncEvent> deliveries);
  // Deliveries the caller stored itself (with a schedule's tick): only handed to the dispatcher.
  void submit(std::vector<store::AsyncEvent> stored) {
    if (submit_ && !stored.empty()) submit_(std::move(stored));
  }

 private:
  store::Store& store_;
  queue::QueueService* queues_;
  Submit submit_;
};

}  // namespace lambent::notify

#include "notify/outbox.h"

#include <boost/json.hpp>
#include <map>

#include "notify/internal.h"

namespace lambent::notify {
namespace json = boost::json;

Result<void> Outbox::post(std::vector<store::AsyncEvent> deliveries) {
  std::vector<store::AsyncEvent> stored;
  if (queues_) {
    // The queue deliveries by queue, in their order: one transaction per queue.
    struct Batch {
      std::vector<size_t> index;
      std::vector<queue::SendInput> messages;
    };
    std::map<std::string, Batch> batches;
    std::vector<bool> sent(deliveries.size(), false);
    for (size_t i = 0; i < deliveries.size(); ++i) {
      const store::AsyncEvent& e = deliveries[i];
      if (!e.function.starts_with("arn:aws:sqs:")) continue;
      queue::SendInput m;
      if (e.delivery.empty()) {
        m.body = e.payload;  // a plain message (a target's dead-letter queue)
      } else {
        boost::system::error_code ec;
        json::value d = json::parse(e.delivery, ec);
        if (ec || !d.is_object() || detail::str(d.as_object(), "kind") != "queue") continue;
        m = detail::queue_message(e, d.as_object());
      }
      Batch& b = batches[e.function];
      b.index.push_back(i);
      b.messages.push_back(std::move(m));
    }
    for (auto& [arn, b] : batches) {
      std::string name = queues_->name_from_arn(arn);
      if (name.empty()) continue;
      auto r = queues_->send_batch(name, b.messages);
      if (!r) continue;  // gone or unavailable: stored, the dispatcher retries or dead-letters
      for (size_t k = 0; k < r->size(); ++k) sent[b.index[k]] = (*r)[k].ok.has_value();
    }
    for (size_t i = 0; i < deliveries.size(); ++i) {
      if (!sent[i]) stored.push_back(std::move(deliveries[i]));
    }
  } else {
    stored = std::move(deliveries);
  }
  if (stored.empty()) return {};
  LAMBENT_TRY_VOID(store_.enqueue_events(stored));
  submit(std::move(stored));
  return {};
}

}  // namespace lambent::notify

#include "invoke/async.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "base/offload.h"

namespace lambent::invoke {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr int64_t kDefaultRetries = 2;
constexpr int64_t kDefaultMaxAgeSeconds = 21'600;
constexpr int64_t kMaxBackoffMs = 300'000;

// When an event that could not run `throttles` times is tried again: exponential backoff
// (1 s, 2 s, 4 s … 5 min).
int64_t next_try_ms(int64_t throttles) {
  return now_ms() +
         std::min<int64_t>(kMaxBackoffMs, 1000LL << std::min<int64_t>(throttles - 1, 20));
}
}  // namespace

AsyncDispatcher::AsyncDispatcher(asio::io_context& ioc, asio::thread_pool& pool,
                                 store::Store& store, Invoker& invoker,
                                 queue::QueueService* queues, telemetry::Metrics* metrics,
                                 telemetry::LogStore* logs,
                                 NodeIdentity node, AsyncOptions options)
    : ioc_(ioc),
      pool_(pool),
      store_(store),
      invoker_(invoker),
      queues_(queues),
      metrics_(metrics),
      logs_(logs),
      node_(std::move(node)),
      options_(options),
      timer_(ioc) {}

void AsyncDispatcher::start() { asio::co_spawn(ioc_, loop(), asio::detached); }

void AsyncDispatcher::stop() {
  stopping_ = true;
  timer_.cancel();
}

void AsyncDispatcher::wake() {
  asio::post(ioc_, [this] { timer_.cancel(); });
}

void AsyncDispatcher::start_run(store::AsyncEvent e) {
  if (running_.size() >= options_.max_parallel) return;
  if (!running_.insert(e.id).second) return;  // already running
  asio::co_spawn(ioc_, run(std::move(e)), asio::detached);
}

void AsyncDispatcher::submit(std::vector<store::AsyncEvent> events) {
  asio::post(ioc_, [this, events = std::move(events)]() mutable {
    if (stopping_) return;
    size_t left = 0;
    for (auto& e : events) {
      if (running_.size() >= options_.max_parallel) {
        ++left;
        continue;
      }
      start_run(std::move(e));
    }
    if (left > 0) timer_.cancel();  // the loop takes the rest from the store
  });
}

asio::awaitable<void> AsyncDispatcher::loop() {
  while (!stopping_) {
    size_t room = options_.max_parallel > running_.size() ? options_.max_parallel - running_.size() : 0;
    if (room > 0) {
      int64_t now = now_ms();
      size_t want = room + running_.size();
      const uint64_t fetched_at = finishes_;
      auto fetch = [this, now, want] { return store_.due_events(now, want); };  // named: offload.h
      auto due = co_await offload(pool_, std::move(fetch));
      if (!due) {
        log::error("async events: {}", due.error().message);
      } else {
        for (auto& e : *due) {
          // Read before it finished (and was deleted): not to be run again.
          auto f = finished_.find(e.id);
          if (f != finished_.end() && f->second > fetched_at) continue;
          start_run(std::move(e));
        }
      }
      // The next fetch starts after every finish so far: none of them can come back.
      finished_.clear();
    }
    timer_.expires_after(std::chrono::milliseconds(200));
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> AsyncDispatcher::run(store::AsyncEvent e) {
  struct Done {
    AsyncDispatcher* d;
    std::string id;
    ~Done() {
      d->running_.erase(id);
      d->finished_[id] = ++d->finishes_;
      d->wake();
    }
  } done{this, e.id};
  if (!e.delivery.empty() && delivery_) {
    DeliveryOutcome out = co_await delivery_(e);
    if (out.kind == DeliveryOutcome::kDone) {
      auto drop = [this, id = e.id, follow = std::move(out.follow_ups)] {
        return store_.finish_event(id, follow);
      };
      auto r = co_await offload(pool_, std::move(drop));
      if (!r) log::error("async event {}: {}", e.id, r.error().message);
      co_return;
    }
    if (out.kind == DeliveryOutcome::kRetry) {
      e.due_ms = out.due_ms;
      auto save = [this, e] { return store_.update_event(e); };
      co_await offload(pool_, std::move(save));
      co_return;
    }
    e.delivery.clear();  // an invocation from here on
  }
  if (e.function.rfind("arn:aws:sqs:", 0) == 0) {
    // A message for a queue (a bucket's notification): delivered, or tried again with backoff
    // while the queue cannot take it (up to the same age as an invocation).
    queue::SendInput m;
    m.body = e.payload;
    bool delivered = co_await send_to_queue(e.function, std::move(m));
    if (delivered || now_ms() - e.received_ms > kDefaultMaxAgeSeconds * 1000) {
      if (!delivered) log::warn("async event {} for {} dropped: not deliverable", e.id, e.function);
      auto drop = [this, id = e.id] { return store_.finish_event(id); };
      co_await offload(pool_, std::move(drop));
      co_return;
    }
    e.due_ms = next_try_ms(++e.throttles);
    auto save = [this, e] { return store_.update_event(e); };
    co_await offload(pool_, std::move(save));
    co_return;
  }
  std::optional<std::string> qualifier;
  if (!e.qualifier.empty()) qualifier = e.qualifier;
  auto resolved = co_await invoker_.resolve(e.function, qualifier);
  if (!resolved) {
    // The function (or its version or alias) is gone: nothing can run the event.
    log::warn("async event {} for {} dropped: {}", e.id, e.function, resolved.error().message);
    if (metrics_) metrics_->count("AsyncEventsDropped", e.function, 1);
    auto drop = [this, id = e.id] { return store_.finish_event(id); };
    co_await offload(pool_, std::move(drop));
    co_return;
  }
  const store::Function& f = *resolved->function;
  // The configuration of the qualifier invoked ($LATEST for the unqualified function).
  const store::EventInvokeConfig* cfg =
      f.find_event_config(e.qualifier.empty() ? std::string(store::kLatest) : e.qualifier);
  int64_t max_retries = cfg && cfg->max_retry_attempts ? *cfg->max_retry_attempts : kDefaultRetries;
  int64_t max_age_ms =
      (cfg && cfg->max_event_age_seconds ? *cfg->max_event_age_seconds : kDefaultMaxAgeSeconds) *
      1000;
  std::string on_success = cfg ? cfg->on_success : "";
  std::string on_failure = cfg ? cfg->on_failure : "";
  std::string dead_letter = resolved->version->config.dead_letter_target;
  int64_t now = now_ms();
  if (metrics_) {
    metrics_->count("AsyncEventAge", f.name, static_cast<double>(now - e.received_ms));
  }
  if (now - e.received_ms > max_age_ms) {
    co_await finish(e, on_failure, "EventAgeExceeded", nullptr, "", dead_letter);
    co_return;
  }
  // Reserved concurrency 0 throttles the event like any other throttle: it waits (with backoff,
  // up to its maximum age) and runs once the reservation is raised.
  InvokeInput input;
  input.request_id = e.id;
  input.payload = e.payload;
  input.invoked_function_arn = node_.function_arn(f.name, e.qualifier);
  input.trace_id = new_trace_id();
  input.qualifier = e.qualifier;
  InvokeResult result = co_await invoker_.invoke(*resolved, std::move(input));

  if (result.status == InvokeResult::kThrottled || result.status == InvokeResult::kServiceError) {
    // Back to the queue with exponential backoff (1 s, 2 s, 4 s … 5 min) until the age limit.
    e.due_ms = next_try_ms(++e.throttles);
    auto save = [this, e] { return store_.update_event(e); };
    co_await offload(pool_, std::move(save));
    co_return;
  }
  ++e.attempts;
  bool failed = result.status != InvokeResult::kOk ||
                result.outcome.kind != scheduler::Outcome::kSuccess;
  if (!failed) {
    co_await finish(e, on_success, "Success", &result, result.outcome.executed_version, "");
    co_return;
  }
  if (e.attempts <= max_retries) {
    // About 1 minute before the first retry and 2 before the second (retry_base_ms in tests).
    e.due_ms = now_ms() + options_.retry_base_ms * e.attempts;
    auto save = [this, e] { return store_.update_event(e); };
    co_await offload(pool_, std::move(save));
    co_return;
  }
  co_await finish(e, on_failure, "RetriesExhausted", &result, result.outcome.executed_version,
                  dead_letter);
}

asio::awaitable<void> AsyncDispatcher::finish(const store::AsyncEvent& e,
                                              const std::string& destination,
                                              const std::string& condition,
                                              const InvokeResult* result,
                                              const std::string& executed_version,
                                              const std::string& dead_letter) {
  std::vector<store::AsyncEvent> follow_ups;
  // A publish to a topic (a destination or dead-letter target), stored with the event's end.
  auto publish_later = [&](const std::string& topic, std::string message, json::object attributes) {
    store::AsyncEvent next;
    next.id = uuid4();
    next.function = topic;
    next.payload = std::move(message);
    next.received_ms = now_ms();
    next.due_ms = next.received_ms;
    next.delivery =
        json::serialize(json::object{{"kind", "topic"}, {"attributes", std::move(attributes)}});
    follow_ups.push_back(std::move(next));
  };
  if (!dead_letter.empty()) {
    // The dead-letter queue gets the event itself, with what went wrong (compat §5.1).
    queue::SendInput m;
    m.body = e.payload;
    std::string code = "500";
    std::string message = condition == "EventAgeExceeded" ? "Event age exceeded" : condition;
    if (result && result->status == InvokeResult::kOk) {
      code = "200";
      boost::system::error_code ec;
      auto p = json::parse(result->outcome.payload, ec);
      const json::value* em = !ec && p.is_object() ? p.as_object().if_contains("errorMessage") : nullptr;
      message = em && em->is_string() ? std::string(em->as_string()) : result->outcome.payload;
    } else if (result) {
      code = result->status == InvokeResult::kThrottled ? "429" : "500";
      message = result->message;
    } else if (e.throttles > 0) {
      code = "429";
    }
    if (message.empty()) message = condition;
    if (message.size() > 1024) message.resize(1024);  // AWS keeps the first 1 KB
    if (dead_letter.rfind("arn:aws:sns:", 0) == 0) {
      auto attribute = [](const char* type, const std::string& value) {
        return json::object{{"DataType", type}, {"StringValue", value}};
      };
      publish_later(dead_letter, e.payload,
                    json::object{{"RequestID", attribute("String", e.id)},
                                 {"ErrorCode", attribute("Number", code)},
                                 {"ErrorMessage", attribute("String", message)}});
    } else {
      m.attributes["RequestID"] = {"String", e.id, ""};
      m.attributes["ErrorCode"] = {"Number", code, ""};
      m.attributes["ErrorMessage"] = {"String", message, ""};
      bool delivered = co_await send_to_queue(dead_letter, std::move(m));
      if (!delivered && metrics_) metrics_->count("DeadLetterErrors", e.function, 1);
    }
  }
  bool to_queue = destination.rfind("arn:aws:sqs:", 0) == 0;
  bool to_topic = destination.rfind("arn:aws:sns:", 0) == 0;
  if (!destination.empty()) {
    // AWS's invocation record (compat §5.1), invoked asynchronously on the destination function.
    json::value request_payload;
    boost::system::error_code ec;
    request_payload = json::parse(e.payload, ec);
    if (ec) request_payload = json::string(e.payload);
    json::object record{
        {"version", "1.0"},
        {"timestamp", format_timestamp(now_ms()).substr(0, 23) + "Z"},
        {"requestContext",
         json::object{{"requestId", e.id},
                      {"functionArn", node_.function_arn(e.function, executed_version.empty()
                                                                   ? (e.qualifier.empty()
                                                                          ? std::string(store::kLatest)
                                                                          : e.qualifier)
                                                                   : executed_version)},
                      {"condition", condition},
                      {"approximateInvokeCount", e.attempts}}},
        {"requestPayload", request_payload}};
    if (result && result->status == InvokeResult::kOk) {
      json::object response{{"statusCode", 200}, {"executedVersion", executed_version}};
      if (result->outcome.kind != scheduler::Outcome::kSuccess) {
        response["functionError"] = "Unhandled";
      }
      record["responseContext"] = std::move(response);
      json::value payload = json::parse(result->outcome.payload, ec);
      record["responsePayload"] = ec ? json::value(json::string(result->outcome.payload)) : payload;
    }
    if (to_topic) {
      // A topic gets the record as the message.
      publish_later(destination, json::serialize(record), {});
    } else if (to_queue) {
      // A queue gets the record as the message body.
      queue::SendInput m;
      m.body = json::serialize(record);
      bool delivered = co_await send_to_queue(destination, std::move(m));
      if (!delivered && metrics_) metrics_->count("DestinationDeliveryFailures", e.function, 1);
    }
    // Destination: arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>].
    auto pos = destination.find(":function:");
    std::string target = pos == std::string::npos ? "" : destination.substr(pos + 10);
    std::string name = target.substr(0, target.find(':'));
    std::string qualifier = target.find(':') == std::string::npos ? "" : target.substr(target.find(':') + 1);
    store::AsyncEvent next;
    next.id = uuid4();
    next.function = name;
    next.qualifier = qualifier;
    next.payload = json::serialize(record);
    next.received_ms = now_ms();
    next.due_ms = next.received_ms;
    if (!to_queue && !to_topic) follow_ups.push_back(std::move(next));
  }
  // AWS counts every event that ends without a successful run as dropped, whether or not a
  // dead-letter queue or OnFailure destination got it first.
  if (condition != "Success" && metrics_) metrics_->count("AsyncEventsDropped", e.function, 1);
  auto done = [this, id = e.id, follow_ups] {
    // The invocation's log lines first: once the event is gone, its evidence must survive.
    if (logs_) logs_->flush();
    return store_.finish_event(id, follow_ups);
  };
  auto r = co_await offload(pool_, std::move(done));
  if (!r) log::error("async event {}: {}", e.id, r.error().message);
  if (condition != "Success") {
    log::info("async event {} of {} ended: {}{}", e.id, e.function, condition,
              destination.empty() ? "" : " -> " + destination);
  }
}

asio::awaitable<bool> AsyncDispatcher::send_to_queue(const std::string& arn,
                                                    queue::SendInput message) {
  if (!queues_) co_return false;
  std::string name = queues_->name_from_arn(arn);
  auto send = [this, name, message = std::move(message)]() -> bool {
    if (name.empty()) return false;
    auto sent = queues_->send(name, message);
    if (!sent) log::warn("async delivery to queue {}: {}", name, sent.error().message);
    return sent.has_value();
  };
  co_return co_await offload(pool_, std::move(send));
}

}  // namespace lambent::invoke

#include "invoke/event_sources.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <set>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "base/offload.h"
#include "queue/timer_waiter.h"

namespace lambent::invoke {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr int64_t kDefaultPollers = 5;
constexpr size_t kMaxPayloadBytes = 6 * 1024 * 1024;
constexpr auto kLongPoll = std::chrono::seconds(20);

std::string to_json(const MappingConfig& m) {
  return json::serialize(json::object{{"uuid", m.uuid},
                                      {"function", m.function},
                                      {"qualifier", m.qualifier},
                                      {"source_arn", m.source_arn},
                                      {"batch_size", m.batch_size},
                                      {"window_seconds", m.window_seconds},
                                      {"max_concurrency", m.max_concurrency},
                                      {"enabled", m.enabled},
                                      {"report_failures", m.report_failures},
                                      {"last_modified_ms", m.last_modified_ms}});
}

Result<MappingConfig> from_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(Errc::kCorrupt, "event source mapping: bad JSON");
  const auto& o = v.as_object();
  MappingConfig m;
  try {
    m.uuid = json::value_to<std::string>(o.at("uuid"));
    m.function = json::value_to<std::string>(o.at("function"));
    m.qualifier = json::value_to<std::string>(o.at("qualifier"));
    m.source_arn = json::value_to<std::string>(o.at("source_arn"));
    m.batch_size = o.at("batch_size").to_number<int64_t>();
    m.window_seconds = o.at("window_seconds").to_number<int64_t>();
    m.max_concurrency = o.at("max_concurrency").to_number<int64_t>();
    m.enabled = o.at("enabled").as_bool();
    m.report_failures = o.at("report_failures").as_bool();
    m.last_modified_ms = o.at("last_modified_ms").to_number<int64_t>();
  } catch (const std::exception& e) {
    return make_error(Errc::kCorrupt, std::string("event source mapping: ") + e.what());
  }
  return m;
}

// One SQS record of the event (compat §5.3).
json::object record(const queue::ReceivedMessage& m, const std::string& source_arn,
                    const std::string& region, const std::string& sender) {
  json::object attrs{{"ApproximateReceiveCount", std::to_string(m.receive_count)},
                     {"SentTimestamp", std::to_string(m.sent_ms)},
                     {"SenderId", sender},
                     {"ApproximateFirstReceiveTimestamp", std::to_string(m.first_receive_ms)}};
  // What else the message carries, as Lambda passes it on: the X-Ray header, FIFO's group,
  // deduplication id and sequence number, the dead-letter source.
  for (const char* k : {"AWSTraceHeader", "SenderId", "SequenceNumber", "MessageGroupId",
                        "MessageDeduplicationId", "DeadLetterQueueSourceArn"}) {
    if (auto it = m.all_system.find(k); it != m.all_system.end()) attrs[k] = it->second;
  }
  json::object mattrs;
  for (const auto& [k, a] : m.all_attributes) {
    json::object v{{"stringListValues", json::array()},
                   {"binaryListValues", json::array()},
                   {"dataType", a.data_type}};
    if (a.data_type.rfind("Binary", 0) == 0) {
      v["binaryValue"] = base64_encode(a.binary_value);
    } else {
      v["stringValue"] = a.string_value;
    }
    mattrs[k] = std::move(v);
  }
  return json::object{{"messageId", m.message_id},
                      {"receiptHandle", m.receipt_handle},
                      {"body", m.body},
                      {"attributes", std::move(attrs)},
                      {"messageAttributes", std::move(mattrs)},
                      {"md5OfBody", m.md5_body},
                      {"eventSource", "aws:sqs"},
                      {"eventSourceARN", source_arn},
                      {"awsRegion", region}};
}

// ReportBatchItemFailures (compat §5.3): the message ids to keep, or nullopt when the whole batch
// failed (invalid JSON, an empty/null/unknown itemIdentifier, a wrong key).
std::optional<std::set<std::string>> failed_items(const std::string& payload,
                                                  const std::set<std::string>& ids) {
  std::set<std::string> out;
  if (payload.empty() || payload == "null") return out;
  boost::system::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec) return std::nullopt;
  if (!v.is_object()) return out;  // a response that is not an object reports nothing
  const json::value* list = v.as_object().if_contains("batchItemFailures");
  if (!list || list->is_null()) return out;
  if (!list->is_array()) return std::nullopt;
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) return std::nullopt;
    const json::value* id = item.as_object().if_contains("itemIdentifier");
    if (!id || !id->is_string() || id->as_string().empty()) return std::nullopt;
    std::string s(id->as_string());
    if (!ids.count(s)) return std::nullopt;
    out.insert(s);
  }
  return out;
}

}  // namespace

struct EventSourceMappings::Runner {
  MappingConfig config;
  std::string queue;
  bool stopping = false;
  std::vector<std::shared_ptr<queue::TimerWaiter>> waiters;
};

EventSourceMappings::EventSourceMappings(asio::io_context& ioc, asio::thread_pool& pool,
                                         store::Store& store, Invoker& invoker,
                                         queue::QueueService& queues, NodeIdentity node)
    : ioc_(ioc),
      pool_(pool),
      store_(store),
      invoker_(invoker),
      queues_(queues),
      node_(std::move(node)) {}

Result<void> EventSourceMappings::restore() {
  LAMBENT_TRY(rows, store_.list_mappings());
  std::lock_guard lock(mu_);
  for (const auto& row : rows) {
    LAMBENT_TRY(m, from_json(row.config));
    entries_[m.uuid].config = m;
    asio::post(ioc_, [this, uuid = m.uuid] { apply(uuid); });
  }
  return {};
}

void EventSourceMappings::stop() {
  asio::post(ioc_, [this] {
    stopping_ = true;
    for (auto& [uuid, r] : runners_) {
      r->stopping = true;
      for (auto& w : r->waiters) w->wake();
    }
  });
}

Result<MappingView> EventSourceMappings::put(const MappingConfig& m, const char* transition) {
  LAMBENT_TRY_VOID(store_.put_mapping({m.uuid, to_json(m)}));
  MappingView out;
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[m.uuid];
    e.config = m;
    e.transition = transition;
    out = view(e);
  }
  asio::post(ioc_, [this, uuid = m.uuid] { apply(uuid); });
  return out;
}

Result<MappingView> EventSourceMappings::remove(const std::string& uuid) {
  MappingView out;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(uuid);
    if (it == entries_.end()) {
      return make_error(Errc::kNotFound, "The resource you requested does not exist.");
    }
    out = {it->second.config, "Deleting", it->second.last_result};
  }
  LAMBENT_TRY_VOID(store_.delete_mapping(uuid));
  {
    std::lock_guard lock(mu_);
    entries_.erase(uuid);
  }
  asio::post(ioc_, [this, uuid] { apply(uuid); });
  return out;
}

MappingView EventSourceMappings::view(const Entry& e) {
  std::string state = !e.transition.empty() ? e.transition
                      : e.config.enabled    ? "Enabled"
                                            : "Disabled";
  return MappingView{e.config, state, e.last_result};
}

std::optional<MappingView> EventSourceMappings::get(const std::string& uuid) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(uuid);
  if (it == entries_.end()) return std::nullopt;
  return view(it->second);
}

std::vector<MappingView> EventSourceMappings::list() const {
  std::lock_guard lock(mu_);
  std::vector<MappingView> out;
  for (const auto& [uuid, e] : entries_) out.push_back(view(e));
  return out;
}

void EventSourceMappings::set_result(const std::string& uuid, std::string result) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(uuid);
  if (it != entries_.end()) it->second.last_result = std::move(result);
}

void EventSourceMappings::apply(const std::string& uuid) {
  // Stop what runs for this mapping (a changed configuration gets fresh pollers).
  if (auto it = runners_.find(uuid); it != runners_.end()) {
    it->second->stopping = true;
    for (auto& w : it->second->waiters) w->wake();
    runners_.erase(it);
  }
  std::optional<MappingConfig> config;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(uuid);
    if (it == entries_.end()) return;  // deleted
    config = it->second.config;
    it->second.transition.clear();
  }
  if (!config->enabled || stopping_) return;
  auto r = std::make_shared<Runner>();
  r->config = *config;
  r->queue = queues_.name_from_arn(config->source_arn);
  int64_t pollers = config->max_concurrency > 0 ? config->max_concurrency : kDefaultPollers;
  for (int64_t i = 0; i < pollers; ++i) {
    r->waiters.push_back(std::make_shared<queue::TimerWaiter>(ioc_.get_executor()));
  }
  runners_[uuid] = r;
  for (int64_t i = 0; i < pollers; ++i) {
    asio::co_spawn(ioc_, poll(r, static_cast<size_t>(i)), asio::detached);
  }
}

asio::awaitable<void> EventSourceMappings::poll(std::shared_ptr<Runner> r, size_t index) {
  auto waiter = r->waiters[index];
  const MappingConfig& c = r->config;
  asio::steady_timer pause(ioc_);
  std::optional<std::string> qualifier;
  if (!c.qualifier.empty()) qualifier = c.qualifier;
  while (!r->stopping) {
    auto resolved = co_await invoker_.resolve(c.function, qualifier);
    if (!resolved) {
      // The function (or its alias) is gone: nothing is received until it is back.
      set_result(c.uuid, "PROBLEM: Function not found: " + c.function);
      pause.expires_after(std::chrono::seconds(5));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    int64_t processing = c.window_seconds + resolved->version->config.timeout;
    std::vector<queue::ReceivedMessage> batch;
    size_t bytes = 0;
    std::optional<std::chrono::steady_clock::time_point> window_end;
    bool failed = false;
    while (!r->stopping && batch.size() < static_cast<size_t>(c.batch_size)) {
      queue::ReceiveInput in;
      in.max = static_cast<size_t>(c.batch_size) - batch.size();
      in.processing_seconds = processing;
      in.wait_seconds = kLongPoll.count();
      int64_t next_visible = 0;
      std::shared_ptr<queue::Waiter> w = batch.empty() ? waiter : nullptr;
      auto receive = [this, r, in, w,
                      &next_visible]() -> Result<std::vector<queue::ReceivedMessage>> {
        auto got = queues_.receive(r->queue, in, w, &next_visible);
        if (!got) return make_error(Errc::kNotFound, got.error().message);
        return std::move(*got);
      };
      auto got = co_await offload(pool_, std::move(receive));
      if (!got) {
        set_result(c.uuid, "PROBLEM: " + got.error().message);
        failed = true;
        break;
      }
      for (auto& m : *got) {
        bytes += m.body.size() + 512;
        batch.push_back(std::move(m));
      }
      if (batch.size() >= static_cast<size_t>(c.batch_size) || bytes >= kMaxPayloadBytes) break;
      auto now = std::chrono::steady_clock::now();
      if (!batch.empty()) {
        if (c.window_seconds == 0) break;
        if (!window_end) window_end = now + std::chrono::seconds(c.window_seconds);
        if (now >= *window_end) break;
        // Gather more until the window closes (brief pauses: a long wait would only delay).
        pause.expires_after(std::min<std::chrono::steady_clock::duration>(
            *window_end - now, std::chrono::milliseconds(100)));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      auto until = now + kLongPoll;
      if (next_visible > 0) {
        until = std::min(until, now + std::chrono::milliseconds(
                                          std::max<int64_t>(0, next_visible - now_ms()) + 1));
      }
      co_await waiter->wait(until);
    }
    if (failed) {
      // The queue is gone (or the store failed): look again later.
      pause.expires_after(std::chrono::seconds(5));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (batch.empty()) continue;
    // Over 6 MB: the tail goes back to the queue at once.
    size_t total = 0, keep = 0;
    for (; keep < batch.size(); ++keep) {
      total += batch[keep].body.size() + 512;
      if (total > kMaxPayloadBytes && keep > 0) break;
    }
    if (keep < batch.size()) {
      std::vector<std::pair<std::string, int64_t>> release;
      for (size_t i = keep; i < batch.size(); ++i) release.emplace_back(batch[i].receipt_handle, 0);
      batch.resize(keep);
      auto back = [this, r, release] {
        // A release that fails leaves the messages hidden until their timeout: delivered later.
        return queues_.change_visibility_batch(r->queue, release).has_value();
      };
      co_await offload(pool_, std::move(back));
    }
    co_await process(r, *resolved, std::move(batch));
  }
}

asio::awaitable<void> EventSourceMappings::process(std::shared_ptr<Runner> r,
                                                   const Resolved& target,
                                                   std::vector<queue::ReceivedMessage> batch) {
  const MappingConfig& c = r->config;
  asio::steady_timer pause(ioc_);
  json::array records;
  std::set<std::string> ids;
  for (const auto& m : batch) {
    records.push_back(record(m, c.source_arn, node_.region, node_.account_id));
    ids.insert(m.message_id);
  }
  InvokeInput input;
  input.request_id = uuid4();
  input.payload = json::serialize(json::object{{"Records", std::move(records)}});
  input.invoked_function_arn = node_.function_arn(c.function, c.qualifier);
  input.trace_id = new_trace_id();
  input.qualifier = c.qualifier;
  InvokeResult result = co_await invoker_.invoke(target, std::move(input));
  if (result.status != InvokeResult::kOk) {
    // Throttled or not started: the batch returns after its visibility timeout; slow down.
    set_result(c.uuid, "PROBLEM: " + (result.message.empty() ? result.reason : result.message));
    pause.expires_after(std::chrono::seconds(1));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  if (result.outcome.kind != scheduler::Outcome::kSuccess) {
    set_result(c.uuid, "PROBLEM: Function call failed");
    co_return;  // the whole batch is redelivered after the visibility timeout
  }
  std::set<std::string> keep;
  if (c.report_failures) {
    auto failed = failed_items(result.outcome.payload, ids);
    if (!failed) {
      set_result(c.uuid, "PROBLEM: Function call failed");
      co_return;
    }
    keep = std::move(*failed);
  }
  std::vector<std::string> receipts;
  for (const auto& m : batch) {
    if (!keep.count(m.message_id)) receipts.push_back(m.receipt_handle);
  }
  if (!receipts.empty()) {
    auto del = [this, r, receipts] {
      auto deleted = queues_.delete_batch(r->queue, receipts);
      if (!deleted) {
        log::warn("event source mapping {}: deleting a batch: {}", r->config.uuid,
                  deleted.error().message);
      }
      return true;
    };
    co_await offload(pool_, std::move(del));
  }
  set_result(c.uuid, "OK");
}

}  // namespace lambent::invoke

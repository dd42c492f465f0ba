// Event buses (EventBusService): routing PutEvents to the rules' targets, and the schedule loop.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"
#include "base/time.h"
#include "notify/buses.h"
#include "notify/internal.h"

namespace lambent::notify {
namespace json = boost::json;
using detail::bus_validation;
using detail::kDefaultBus;
using detail::kMaxMessageBytes;
using detail::str;

void EventBusService::deliveries(const Rule& r, const json::value& event, const std::string& time,
                                 std::vector<store::AsyncEvent>& out) const {
  const std::string arn = rule_arn(r.record.bus, r.record.name);
  for (const auto& t : r.targets) {
    std::string input;
    if (!t.input.empty()) {
      input = t.input;
    } else if (!t.input_path.empty()) {
      auto v = events::at_path(event, t.input_path);
      input = v ? json::serialize(*v) : "null";
    } else if (t.transformer) {
      input = events::apply_transformer(*t.transformer, event, arn, r.record.name, time);
    } else {
      input = json::serialize(event);
    }
    store::AsyncEvent e;
    e.id = uuid4();
    e.received_ms = now_ms();
    e.due_ms = e.received_ms;
    e.payload = std::move(input);
    json::object d{{"dlq", t.dlq},
                   {"max_age_ms", t.max_age_seconds * 1000},
                   {"max_retries", t.max_attempts},
                   {"dlq_attributes", json::object{{"RULE_ARN", arn}, {"TARGET_ARN", t.arn}}}};
    if (allows_ && !allows_(t.arn, arn)) {
      log::warn("rule {}: target {} does not let events.amazonaws.com deliver for the rule", arn,
                t.arn);
      if (t.dlq.empty()) continue;
      e.function = t.dlq;  // a plain queue message
      out.push_back(std::move(e));
      continue;
    }
    if (t.arn.starts_with("arn:aws:lambda:")) {
      std::string target = t.arn.substr(t.arn.find(":function:") + 10);
      size_t colon = target.find(':');
      e.function = target.substr(0, colon);
      if (colon != std::string::npos) e.qualifier = target.substr(colon + 1);
      d["kind"] = "lambda";
    } else if (t.arn.starts_with("arn:aws:sqs:")) {
      e.function = t.arn;
      d["kind"] = "queue";
      if (!t.message_group.empty()) {
        // FIFO: the target's group; the event's id deduplicates (as EventBridge does).
        d["group"] = t.message_group;
        const json::value* id = event.is_object() ? event.as_object().if_contains("id") : nullptr;
        d["dedup"] = id && id->is_string() ? std::string(id->as_string()) : e.id;
      }
    } else {
      e.function = t.arn;
      d["kind"] = "topic";
    }
    e.delivery = json::serialize(d);
    out.push_back(std::move(e));
  }
}

BusResult<std::vector<EntryResult>> EventBusService::put_events(const json::array& entries) {
  if (entries.empty() || entries.size() > 10) {
    return bus_validation(
        "1 validation error detected: Value at 'entries' failed to satisfy "
        "constraint: Member must have length between 1 and 10");
  }
  size_t total = 0;
  for (const auto& v : entries) {
    if (!v.is_object()) return bus_validation("An entry is not an object.");
    const auto& o = v.as_object();
    total += 14 + str(o, "Source").size() + str(o, "DetailType").size() + str(o, "Detail").size();
    if (auto* r = o.if_contains("Resources"); r && r->is_array()) {
      for (const auto& x : r->as_array()) total += x.is_string() ? x.as_string().size() : 0;
    }
  }
  if (total > kMaxMessageBytes) {
    return bus_validation("Total size of the entries in the request is over the limit.");
  }
  std::vector<EntryResult> results;
  std::vector<store::AsyncEvent> out;
  // Routed under the lock, committed outside it: concurrent calls share one group commit.
  std::unique_lock lock(mu_);
  for (const auto& v : entries) {
    const auto& o = v.as_object();
    EntryResult r;
    auto refuse = [&](const char* code, std::string message) {
      r.error_code = code;
      r.error_message = std::move(message);
      results.push_back(r);
    };
    std::string source = str(o, "Source"), detail_type = str(o, "DetailType"),
                detail = str(o, "Detail");
    if (source.empty()) {
      refuse("InvalidArgument",
             "Parameter Source is not valid. Reason: Source is a required "
             "argument.");
      continue;
    }
    if (detail_type.empty()) {
      refuse("InvalidArgument",
             "Parameter DetailType is not valid. Reason: DetailType is a "
             "required argument.");
      continue;
    }
    if (detail.empty()) {
      refuse("InvalidArgument",
             "Parameter Detail is not valid. Reason: Detail is a required "
             "argument.");
      continue;
    }
    boost::system::error_code ec;
    json::value detail_json = json::parse(detail, ec);
    if (ec || !detail_json.is_object()) {
      refuse("MalformedDetail", "Detail is malformed.");
      continue;
    }
    if (source.starts_with("aws.")) {
      refuse("NotAuthorizedForSourceException", "Not authorized for the source.");
      continue;
    }
    std::string bus = bus_name(str(o, "EventBusName"));
    Bus* b = find(bus);
    if (!b) {
      refuse("ResourceNotFoundException", "Event bus " + bus + " does not exist.");
      continue;
    }
    int64_t time_ms = now_ms();
    if (auto* t = o.if_contains("Time"); t && t->is_number()) {
      time_ms = static_cast<int64_t>(t->to_number<double>() * 1000);
    }
    json::array resources;
    if (auto* rs = o.if_contains("Resources"); rs && rs->is_array()) resources = rs->as_array();
    r.event_id = uuid4();
    const std::string time = format_iso8601_seconds(time_ms);
    json::value event = json::object{{"version", "0"},
                                     {"id", r.event_id},
                                     {"detail-type", detail_type},
                                     {"source", source},
                                     {"account", node_.account_id},
                                     {"time", time},
                                     {"region", node_.region},
                                     {"resources", std::move(resources)},
                                     {"detail", std::move(detail_json)}};
    for (const auto& [name, rule] : b->rules) {
      if (rule->record.state != "ENABLED" || !rule->pattern) continue;
      if (rule->pattern->matches(event)) deliveries(*rule, event, time, out);
    }
    results.push_back(std::move(r));
  }
  lock.unlock();
  if (!out.empty()) {
    // Durable before the answer (sent to a queue, or stored for the dispatcher): every matched
    // target gets the event at least once.
    if (auto w = outbox_.post(std::move(out)); !w) {
      return BusError{"InternalException", w.error().message, 500};
    }
  }
  return results;
}

int64_t EventBusService::fire_due(int64_t now) {
  struct Due {
    std::shared_ptr<Rule> rule;
    int64_t tick;
    int64_t skipped;
  };
  std::vector<Due> due;
  int64_t next_due = now + 60'000;
  {
    std::lock_guard lock(mu_);
    Bus* b = find(kDefaultBus);
    if (!b) return next_due;
    for (const auto& [name, r] : b->rules) {
      if (!r->schedule || r->record.state != "ENABLED") continue;
      const int64_t from = std::max(r->record.last_tick_ms, r->record.created_ms);
      auto tick = r->schedule->next_after(from, r->record.created_ms);
      if (!tick) continue;
      if (*tick > now) {
        next_due = std::min(next_due, *tick);
        continue;
      }
      // The latest tick that is due; earlier ones were missed (the server was down).
      int64_t latest = *tick, skipped = 0;
      for (int i = 0; i < 100'000; ++i) {
        auto after = r->schedule->next_after(latest, r->record.created_ms);
        if (!after || *after > now) {
          if (after) next_due = std::min(next_due, *after);
          break;
        }
        latest = *after;
        ++skipped;
      }
      due.push_back({r, latest, skipped});
    }
  }
  for (const auto& d : due) {
    const store::RuleRecord& rec = d.rule->record;
    const std::string arn = rule_arn(rec.bus, rec.name);
    const std::string time = format_iso8601_seconds(d.tick);
    json::value event = json::object{{"version", "0"},
                                     {"id", uuid4()},
                                     {"detail-type", "Scheduled Event"},
                                     {"source", "aws.events"},
                                     {"account", node_.account_id},
                                     {"time", time},
                                     {"region", node_.region},
                                     {"resources", json::array{arn}},
                                     {"detail", json::object{}}};
    std::vector<store::AsyncEvent> out;
    deliveries(*d.rule, event, time, out);
    auto fired = store_.fire_tick(rec.bus, rec.name, d.tick, out);
    if (!fired) {
      log::error("schedule of {}: {}", arn, fired.error().message);
      continue;
    }
    if (!*fired) continue;  // fired already (or the rule is gone)
    if (d.skipped > 0) {
      log::warn(
          "schedule of {}: {} tick(s) missed while the server was down; the latest ({}) "
          "fired late",
          arn, d.skipped, time);
    }
    {
      // The rule as it is now (a PutTargets may have replaced it meanwhile): its tick too, and
      // written again if it was replaced, so that the replacement does not carry the old tick.
      std::lock_guard lock(mu_);
      Bus* b = find(rec.bus);
      auto it = b ? b->rules.find(rec.name) : decltype(b->rules.end()){};
      if (b && it != b->rules.end() && it->second->record.last_tick_ms < d.tick) {
        auto next = std::make_shared<Rule>(*it->second);
        next->record.last_tick_ms = d.tick;
        if (it->second != d.rule) {
          if (auto w = store_.put_rule(next->record); !w) {
            log::error("schedule of {}: {}", arn, w.error().message);
          }
        }
        it->second = std::move(next);
      }
    }
    outbox_.submit(std::move(out));
  }
  return next_due;
}

void EventBusService::start(boost::asio::io_context& ioc, boost::asio::thread_pool& pool) {
  timer_ = std::make_unique<boost::asio::steady_timer>(ioc);
  // A member coroutine, not a capturing lambda: a lambda's captures die with it, not with the
  // coroutine it started.
  boost::asio::co_spawn(ioc, schedule_loop(pool), boost::asio::detached);
}

boost::asio::awaitable<void> EventBusService::schedule_loop(boost::asio::thread_pool& pool) {
  while (!stopping_) {
    auto fire = [this] { return fire_due(now_ms()); };  // named: see offload.h
    int64_t next = co_await offload(pool, std::move(fire));
    int64_t wait = std::clamp<int64_t>(next - now_ms(), 50, 1000);
    timer_->expires_after(std::chrono::milliseconds(wait));
    co_await timer_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

void EventBusService::stop() {
  stopping_ = true;
  if (timer_) timer_->cancel();
}

}  // namespace lambent::notify

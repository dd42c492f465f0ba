// Event buses (EventBridge): the default bus and custom ones, rules with an event pattern or a
// schedule, and their targets (functions, queues, topics) — held in memory and written through
// to the store. PutEvents matches each event against the bus's enabled rules (patterns compiled
// once) and stores one delivery per matching target (an asynchronous event, delivered by
// notify::Deliverer), all of one call in one transaction before it answers. Schedules fire from
// a timer: each tick's deliveries and the rule's last tick are committed together, so a tick
// fires once, also across a restart; ticks missed while the server was down are not replayed —
// the latest one fires late and the others are reported in the log.
// Thread: any for the calls (they block on the store); the schedule loop on the I/O thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/node.h"
#include "events/pattern.h"
#include "events/schedule.h"
#include "events/transform.h"
#include "notify/outbox.h"
#include "store/store.h"

namespace lambent::notify {

// A refusal in EventBridge's words: the error shape's code and message (400 unless `status`).
struct BusError {
  BusError() = default;
  BusError(std::string c, std::string m, unsigned s = 400)
      : code(std::move(c)), message(std::move(m)), status(s) {}
  std::string code;
  std::string message;
  unsigned status = 400;
};
template <class T>
using BusResult = boost::system::result<T, BusError>;
[[noreturn]] void throw_exception_from_error(const BusError& e, const boost::source_location& loc);

struct EntryResult {
  std::string event_id;  // "" when refused
  std::string error_code, error_message;
};

class EventBusService final {
 public:
  // Deliveries leave through `outbox` before PutEvents is answered.
  EventBusService(store::Store& store, NodeIdentity node, Outbox& outbox);

  // Loads buses and rules; creates the default bus at first start.
  BusResult<void> load();

  const NodeIdentity& node() const { return node_; }
  std::string bus_arn(const std::string& bus) const;
  std::string rule_arn(const std::string& bus, const std::string& rule) const;
  // A bus name or ARN as requests give it ("" = default).
  std::string bus_name(const std::string& name_or_arn) const;

  BusResult<std::string> create_bus(const std::string& name,
                                    const std::map<std::string, std::string>& tags);
  BusResult<void> delete_bus(const std::string& name);
  BusResult<void> describe_bus(const std::string& name);
  std::vector<std::string> bus_names();

  struct RuleInput {
    std::string bus, name, event_pattern, schedule, description, role_arn;
    std::optional<std::string> state;
    std::map<std::string, std::string> tags;
  };
  BusResult<std::string> put_rule(const RuleInput& in);
  BusResult<void> delete_rule(const std::string& bus, const std::string& name, bool force);
  BusResult<store::RuleRecord> rule(const std::string& bus, const std::string& name);
  BusResult<std::vector<store::RuleRecord>> rules(const std::string& bus);
  BusResult<void> set_state(const std::string& bus, const std::string& name, bool enabled);
  std::vector<std::string> rules_by_target(const std::string& bus, const std::string& arn);

  struct FailedEntry {
    std::string target_id, code, message;
  };
  BusResult<std::vector<FailedEntry>> put_targets(const std::string& bus, const std::string& rule,
                                                  const boost::json::array& targets);
  BusResult<std::vector<FailedEntry>> remove_targets(const std::string& bus,
                                                     const std::string& rule,
                                                     const std::vector<std::string>& ids);
  BusResult<boost::json::array> targets(const std::string& bus, const std::string& rule);

  BusResult<std::map<std::string, std::string>> tags(const std::string& arn);
  BusResult<void> tag(const std::string& arn, const std::map<std::string, std::string>& tags);
  BusResult<void> untag(const std::string& arn, const std::vector<std::string>& keys);

  // PutEvents: one result per entry (refused ones carry their error), deliveries stored.
  BusResult<std::vector<EntryResult>> put_events(const boost::json::array& entries);

  // May the target (a function, queue or topic) be delivered to for this rule? Unset: yes.
  using Allows = std::function<bool(const std::string& target_arn, const std::string& rule_arn)>;
  void set_permission_check(Allows allows) { allows_ = std::move(allows); }

  // Fires the schedules due at `now_ms` (blocking); returns when the next one is due.
  int64_t fire_due(int64_t now_ms);
  void start(boost::asio::io_context& ioc, boost::asio::thread_pool& pool);
  boost::asio::awaitable<void> schedule_loop(boost::asio::thread_pool& pool);
  void stop();

 private:
  struct Target {
    std::string id, arn, input, input_path, dlq;
    std::string message_group;  // SqsParameters.MessageGroupId (FIFO queue targets)
    std::optional<events::Transformer> transformer;
    int64_t max_age_seconds = 86400;
    int64_t max_attempts = 185;
  };
  struct Rule {
    store::RuleRecord record;
    std::optional<events::Pattern> pattern;
    std::optional<events::Schedule> schedule;
    std::vector<Target> targets;
  };
  struct Bus {
    store::EventBusRecord record;
    std::map<std::string, std::shared_ptr<Rule>> rules;
  };
  Bus* find(const std::string& bus);
  static BusResult<std::vector<Target>> parse_targets(const boost::json::array& a);
  // The deliveries of one event to one rule's targets.
  void deliveries(const Rule& r, const boost::json::value& event, const std::string& time,
                  std::vector<store::AsyncEvent>& out) const;
  BusResult<void> save(Bus& bus, std::shared_ptr<Rule> next);
  // With mu_ held: the rule (its bus in `found`), or ResourceNotFoundException.
  BusResult<std::shared_ptr<Rule>> locate(const std::string& bus, const std::string& rule,
                                          Bus** found);
  // With mu_ held: a copy of the rule, edited, saved and swapped in.
  BusResult<void> edit_rule(const std::string& bus, const std::string& rule,
                            const std::function<BusResult<void>(Rule&)>& edit);
  static BusResult<void> set_targets(Rule& r, boost::json::array list);
  BusResult<void> edit_tags(const std::string& arn,
                            const std::function<void(std::map<std::string, std::string>&)>& edit);

  store::Store& store_;
  NodeIdentity node_;
  Outbox& outbox_;
  Allows allows_;
  std::mutex mu_;
  std::map<std::string, Bus> buses_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  bool stopping_ = false;
};

}  // namespace lambent::notify

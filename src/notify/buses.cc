#include "notify/buses.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <regex>
#include <set>

#include "base/codec.h"
#include "base/log.h"
#include "base/offload.h"
#include "base/time.h"
#include "notify/internal.h"

namespace lambent::notify {
namespace json = boost::json;
using detail::bus_not_found;
using detail::bus_validation;
using detail::kDefaultBus;
using detail::str;

namespace {

constexpr size_t kMaxTargets = 5;

bool valid_name(const std::string& s, size_t max) {
  static const std::regex kName("[\\.\\-_A-Za-z0-9]+");
  return !s.empty() && s.size() <= max && std::regex_match(s, kName);
}

}  // namespace

void throw_exception_from_error(const BusError& e, const boost::source_location& loc) {
  log::error("unchecked BusError at {}:{}: {}", loc.file_name(), loc.line(), e.message);
  std::abort();
}

EventBusService::EventBusService(store::Store& store, NodeIdentity node, Outbox& outbox)
    : store_(store), node_(std::move(node)), outbox_(outbox) {}

std::string EventBusService::bus_arn(const std::string& bus) const {
  return node_.arn("events", "event-bus/" + bus);
}

std::string EventBusService::rule_arn(const std::string& bus, const std::string& rule) const {
  return node_.arn("events", bus == kDefaultBus ? "rule/" + rule : "rule/" + bus + "/" + rule);
}

std::string EventBusService::bus_name(const std::string& s) const {
  if (s.empty()) return kDefaultBus;
  std::string prefix = node_.arn("events", "event-bus/");
  return s.starts_with(prefix) ? s.substr(prefix.size()) : s;
}

EventBusService::Bus* EventBusService::find(const std::string& bus) {
  auto it = buses_.find(bus);
  return it == buses_.end() ? nullptr : &it->second;
}

BusResult<void> EventBusService::load() {
  auto buses = store_.list_event_buses();
  if (!buses) return BusError{"InternalException", buses.error().message, 500};
  auto rules = store_.list_rules();
  if (!rules) return BusError{"InternalException", rules.error().message, 500};
  std::lock_guard lock(mu_);
  for (auto& b : *buses) buses_[b.name].record = std::move(b);
  if (!find(kDefaultBus)) {
    store::EventBusRecord d{kDefaultBus, {}, now_ms()};
    if (auto w = store_.put_event_bus(d); !w) {
      return BusError{"InternalException", w.error().message, 500};
    }
    buses_[kDefaultBus].record = std::move(d);
  }
  for (auto& r : *rules) {
    Bus* b = find(r.bus);
    if (!b) continue;
    auto rule = std::make_shared<Rule>();
    if (!r.event_pattern.empty()) {
      auto p = events::Pattern::compile(r.event_pattern, events::Dialect::kEventBridge);
      if (p) rule->pattern = std::move(*p);
    }
    if (!r.schedule.empty()) {
      auto s = events::Schedule::parse(r.schedule);
      if (s) rule->schedule = std::move(*s);
    }
    boost::system::error_code ec;
    json::value t = json::parse(r.targets, ec);
    if (!ec && t.is_array()) {
      auto parsed = parse_targets(t.as_array());
      if (parsed) rule->targets = std::move(*parsed);
    }
    rule->record = std::move(r);
    b->rules[rule->record.name] = std::move(rule);
  }
  return {};
}

BusResult<std::string> EventBusService::create_bus(const std::string& name,
                                                   const std::map<std::string, std::string>& tags) {
  if (!valid_name(name, 256) || name.find('/') != std::string::npos) {
    return bus_validation("Event bus name is not valid.");
  }
  if (name == kDefaultBus || name.starts_with("aws.")) {
    return bus_validation("Event bus name must not be " + name + ".");
  }
  std::lock_guard lock(mu_);
  if (find(name)) {
    return BusError{"ResourceAlreadyExistsException", "Event bus " + name + " already exists."};
  }
  store::EventBusRecord b{name, tags, now_ms()};
  if (auto w = store_.put_event_bus(b); !w) {
    return BusError{"InternalException", w.error().message, 500};
  }
  buses_[name].record = std::move(b);
  return bus_arn(name);
}

BusResult<void> EventBusService::delete_bus(const std::string& name) {
  if (name == kDefaultBus) return bus_validation("Cannot delete event bus default.");
  std::lock_guard lock(mu_);
  if (!find(name)) return {};  // as on AWS
  if (auto w = store_.delete_event_bus(name); !w) {
    return BusError{"InternalException", w.error().message, 500};
  }
  buses_.erase(name);
  return {};
}

BusResult<void> EventBusService::describe_bus(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!find(name)) return bus_not_found("Event bus " + name + " does not exist.");
  return {};
}

std::vector<std::string> EventBusService::bus_names() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, b] : buses_) out.push_back(name);
  return out;
}

BusResult<void> EventBusService::save(Bus& bus, std::shared_ptr<Rule> next) {
  if (auto w = store_.put_rule(next->record); !w) {
    return BusError{"InternalException", w.error().message, 500};
  }
  bus.rules[next->record.name] = std::move(next);
  return {};
}

BusResult<std::string> EventBusService::put_rule(const RuleInput& in) {
  if (!valid_name(in.name, 64)) return bus_validation("Rule name is not valid.");
  if (in.event_pattern.empty() && in.schedule.empty()) {
    return bus_validation("Parameter(s) EventPattern or ScheduleExpression must be specified.");
  }
  if (in.state && *in.state != "ENABLED" && *in.state != "DISABLED") {
    return bus_validation(
        "1 validation error detected: Value '" + *in.state +
        "' at 'state' failed to satisfy constraint: Member must satisfy enum value "
        "set: [ENABLED, DISABLED]");
  }
  if (in.description.size() > 512) return bus_validation("Description is too long.");
  std::optional<events::Pattern> pattern;
  if (!in.event_pattern.empty()) {
    auto p = events::Pattern::compile(in.event_pattern, events::Dialect::kEventBridge);
    if (!p) {
      return BusError{"InvalidEventPatternException",
                      "Event pattern is not valid. Reason: " + p.error().message};
    }
    pattern = std::move(*p);
  }
  std::optional<events::Schedule> schedule;
  if (!in.schedule.empty()) {
    auto s = events::Schedule::parse(in.schedule);
    if (!s) return bus_validation(s.error().message);
    schedule = std::move(*s);
  }
  std::lock_guard lock(mu_);
  Bus* bus = find(in.bus);
  if (!bus) return bus_not_found("Event bus " + in.bus + " does not exist.");
  if (schedule && in.bus != kDefaultBus) {
    return bus_validation("ScheduleExpression is supported only on the default event bus.");
  }
  auto next = std::make_shared<Rule>();
  if (auto it = bus->rules.find(in.name); it != bus->rules.end()) {
    *next = *it->second;  // an update keeps the targets
  } else {
    next->record.bus = in.bus;
    next->record.name = in.name;
    next->record.created_ms = now_ms();
    next->record.tags = in.tags;
  }
  store::RuleRecord& r = next->record;
  if (r.schedule != in.schedule) r.last_tick_ms = now_ms();  // a new schedule starts now
  r.event_pattern = in.event_pattern;
  r.schedule = in.schedule;
  if (in.state) r.state = *in.state;
  r.description = in.description;
  r.role_arn = in.role_arn;
  next->pattern = std::move(pattern);
  next->schedule = std::move(schedule);
  auto saved = save(*bus, next);
  if (!saved) return saved.error();
  return rule_arn(in.bus, in.name);
}

BusResult<std::shared_ptr<EventBusService::Rule>> EventBusService::locate(const std::string& bus,
                                                                          const std::string& rule,
                                                                          Bus** found) {
  Bus* b = find(bus);
  if (!b) return bus_not_found("Event bus " + bus + " does not exist.");
  auto it = b->rules.find(rule);
  if (it == b->rules.end()) {
    return bus_not_found("Rule " + rule + " does not exist on EventBus " + bus + ".");
  }
  if (found) *found = b;
  return it->second;
}

BusResult<void> EventBusService::edit_rule(const std::string& bus, const std::string& rule,
                                           const std::function<BusResult<void>(Rule&)>& edit) {
  Bus* b = nullptr;
  auto current = locate(bus, rule, &b);
  if (!current) return current.error();
  auto next = std::make_shared<Rule>(**current);  // replaced, never edited in place
  if (auto r = edit(*next); !r) return r.error();
  return save(*b, next);
}

BusResult<void> EventBusService::set_targets(Rule& r, json::array list) {
  auto all = parse_targets(list);
  if (!all) return all.error();
  r.record.targets = json::serialize(list);
  r.targets = std::move(*all);
  return {};
}

BusResult<void> EventBusService::delete_rule(const std::string& bus, const std::string& name,
                                             bool force) {
  std::lock_guard lock(mu_);
  Bus* b = find(bus);
  if (!b) return bus_not_found("Event bus " + bus + " does not exist.");
  auto it = b->rules.find(name);
  if (it == b->rules.end()) return {};  // as on AWS: deleting again succeeds
  if (!it->second->targets.empty() && !force) {
    return bus_validation("Rule can't be deleted since it has targets.");
  }
  if (auto w = store_.delete_rule(bus, name); !w) {
    return BusError{"InternalException", w.error().message, 500};
  }
  b->rules.erase(it);
  return {};
}

BusResult<store::RuleRecord> EventBusService::rule(const std::string& bus,
                                                   const std::string& name) {
  std::lock_guard lock(mu_);
  auto r = locate(bus, name, nullptr);
  if (!r) return r.error();
  return (*r)->record;
}

BusResult<std::vector<store::RuleRecord>> EventBusService::rules(const std::string& bus) {
  std::lock_guard lock(mu_);
  Bus* b = find(bus);
  if (!b) return bus_not_found("Event bus " + bus + " does not exist.");
  std::vector<store::RuleRecord> out;
  for (const auto& [name, r] : b->rules) out.push_back(r->record);
  return out;
}

BusResult<void> EventBusService::set_state(const std::string& bus, const std::string& name,
                                           bool enabled) {
  std::lock_guard lock(mu_);
  return edit_rule(bus, name, [&](Rule& r) -> BusResult<void> {
    std::string state = enabled ? "ENABLED" : "DISABLED";
    // A schedule enabled again starts from now: the ticks it slept through are not fired.
    if (enabled && r.record.state != state) r.record.last_tick_ms = now_ms();
    r.record.state = state;
    return {};
  });
}

std::vector<std::string> EventBusService::rules_by_target(const std::string& bus,
                                                          const std::string& arn) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  Bus* b = find(bus);
  if (!b) return out;
  for (const auto& [name, r] : b->rules) {
    for (const auto& t : r->targets) {
      if (t.arn == arn) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

BusResult<std::vector<EventBusService::Target>> EventBusService::parse_targets(
    const json::array& a) {
  std::vector<Target> out;
  for (const auto& v : a) {
    if (!v.is_object()) return bus_validation("A target is not an object.");
    const auto& o = v.as_object();
    Target t;
    t.id = str(o, "Id");
    t.arn = str(o, "Arn");
    t.input = str(o, "Input");
    t.input_path = str(o, "InputPath");
    if (auto* tr = o.if_contains("InputTransformer"); tr && tr->is_object()) {
      events::Transformer x;
      x.input_template = str(tr->as_object(), "InputTemplate");
      if (auto* m = tr->as_object().if_contains("InputPathsMap"); m && m->is_object()) {
        for (const auto& [k, p] : m->as_object()) {
          x.paths[std::string(k)] = p.is_string() ? std::string(p.as_string()) : "";
        }
      }
      t.transformer = std::move(x);
    }
    if (auto* d = o.if_contains("DeadLetterConfig"); d && d->is_object()) {
      t.dlq = str(d->as_object(), "Arn");
    }
    if (auto* sq = o.if_contains("SqsParameters"); sq && sq->is_object()) {
      t.message_group = str(sq->as_object(), "MessageGroupId");
    }
    if (auto* r = o.if_contains("RetryPolicy"); r && r->is_object()) {
      if (auto* age = r->as_object().if_contains("MaximumEventAgeInSeconds");
          age && age->is_int64()) {
        t.max_age_seconds = age->as_int64();
      }
      if (auto* n = r->as_object().if_contains("MaximumRetryAttempts"); n && n->is_int64()) {
        t.max_attempts = n->as_int64();
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

BusResult<std::vector<EventBusService::FailedEntry>> EventBusService::put_targets(
    const std::string& bus, const std::string& rule, const json::array& targets) {
  if (targets.empty() || targets.size() > 10) {
    return bus_validation(
        "1 validation error detected: Value at 'targets' failed to satisfy "
        "constraint: Member must have length between 1 and 10");
  }
  // Each target checked as EventBridge checks it.
  const std::string prefix = ":" + node_.region + ":" + node_.account_id + ":";
  for (const auto& v : targets) {
    if (!v.is_object()) return bus_validation("A target is not an object.");
    const auto& o = v.as_object();
    std::string id = str(o, "Id"), arn = str(o, "Arn");
    if (!valid_name(id, 64)) return bus_validation("Target Id is not valid: " + id);
    bool function = arn.starts_with("arn:aws:lambda" + prefix + "function:");
    bool queue = arn.starts_with("arn:aws:sqs" + prefix);
    bool topic = arn.starts_with("arn:aws:sns" + prefix);
    if (!function && !queue && !topic) {
      return bus_validation(
          "Parameter(s) Arn is not valid: Lambent delivers to functions, queues and "
          "topics of this server (" +
          arn + ")");
    }
    int inputs = (o.contains("Input") ? 1 : 0) + (o.contains("InputPath") ? 1 : 0) +
                 (o.contains("InputTransformer") ? 1 : 0);
    if (inputs > 1) {
      return bus_validation("Only one of Input, InputPath, or InputTransformer must be provided.");
    }
    // A FIFO queue needs the message group its events go to.
    if (queue && arn.ends_with(".fifo")) {
      auto* sq = o.if_contains("SqsParameters");
      if (!sq || !sq->is_object() || str(sq->as_object(), "MessageGroupId").empty()) {
        return bus_validation("Parameter(s) SqsParameters must be specified for target: " + id +
                              ".");
      }
    }
    if (o.contains("Input")) {
      boost::system::error_code ec;
      json::parse(str(o, "Input"), ec);
      if (ec) return bus_validation("Target Input is not valid JSON.");
    }
    if (o.contains("InputPath")) {
      if (auto ok = events::check_path(str(o, "InputPath")); !ok) {
        return bus_validation(ok.error().message);
      }
    }
    if (auto* d = o.if_contains("DeadLetterConfig"); d && d->is_object()) {
      if (!str(d->as_object(), "Arn").starts_with("arn:aws:sqs:")) {
        return bus_validation("The DeadLetterConfig Arn must be an SQS queue ARN.");
      }
    }
    if (auto* r = o.if_contains("RetryPolicy"); r && r->is_object()) {
      const auto& rp = r->as_object();
      auto in_range = [&](const char* k, int64_t lo, int64_t hi) {
        auto* x = rp.if_contains(k);
        return !x || (x->is_int64() && x->as_int64() >= lo && x->as_int64() <= hi);
      };
      if (!in_range("MaximumRetryAttempts", 0, 185) ||
          !in_range("MaximumEventAgeInSeconds", 60, 86400)) {
        return bus_validation("RetryPolicy is not valid.");
      }
    }
  }
  auto parsed = parse_targets(targets);
  if (!parsed) return parsed.error();
  for (auto& t : *parsed) {
    if (t.transformer) {
      if (auto ok = events::check_transformer(*t.transformer); !ok) {
        return BusError{"ValidationException", ok.error().message};
      }
    }
  }
  std::lock_guard lock(mu_);
  std::vector<FailedEntry> failed;
  auto edited = edit_rule(bus, rule, [&](Rule& r) -> BusResult<void> {
    json::array list = json::parse(r.record.targets).as_array();
    for (const auto& v : targets) {
      std::string id = str(v.as_object(), "Id");
      auto same = std::find_if(list.begin(), list.end(), [&](const json::value& existing) {
        return str(existing.as_object(), "Id") == id;
      });
      if (same != list.end()) {
        *same = v;
      } else if (list.size() >= kMaxTargets) {
        failed.push_back({id, "LimitExceededException",
                          "The requested resource exceeds the maximum number allowed."});
      } else {
        list.push_back(v);
      }
    }
    return set_targets(r, std::move(list));
  });
  if (!edited) return edited.error();
  return failed;
}

BusResult<std::vector<EventBusService::FailedEntry>> EventBusService::remove_targets(
    const std::string& bus, const std::string& rule, const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  std::vector<FailedEntry> failed;
  auto edited = edit_rule(bus, rule, [&](Rule& r) -> BusResult<void> {
    json::array kept;
    std::set<std::string> wanted(ids.begin(), ids.end()), found;
    json::value stored = json::parse(r.record.targets);
    for (const auto& t : stored.as_array()) {
      std::string id = str(t.as_object(), "Id");
      if (wanted.count(id)) {
        found.insert(id);
      } else {
        kept.push_back(t);
      }
    }
    for (const auto& id : ids) {
      if (!found.count(id)) {
        failed.push_back({id, "ResourceNotFoundException", "Target " + id + " not found"});
      }
    }
    return set_targets(r, std::move(kept));
  });
  if (!edited) return edited.error();
  return failed;
}

BusResult<json::array> EventBusService::targets(const std::string& bus, const std::string& rule) {
  auto r = this->rule(bus, rule);
  if (!r) return r.error();
  return json::parse(r->targets).as_array();
}

BusResult<std::map<std::string, std::string>> EventBusService::tags(const std::string& arn) {
  std::lock_guard lock(mu_);
  for (auto& [name, b] : buses_) {
    if (bus_arn(name) == arn) return b.record.tags;
    for (auto& [rn, r] : b.rules) {
      if (rule_arn(name, rn) == arn) return r->record.tags;
    }
  }
  return bus_not_found("Resource " + arn + " does not exist.");
}

BusResult<void> EventBusService::edit_tags(
    const std::string& arn, const std::function<void(std::map<std::string, std::string>&)>& edit) {
  std::lock_guard lock(mu_);
  for (auto& [name, b] : buses_) {
    if (bus_arn(name) == arn) {
      store::EventBusRecord next = b.record;
      edit(next.tags);
      if (auto w = store_.put_event_bus(next); !w) {
        return BusError{"InternalException", w.error().message, 500};
      }
      b.record = std::move(next);
      return {};
    }
    for (auto& [rn, r] : b.rules) {
      if (rule_arn(name, rn) == arn) {
        return edit_rule(name, rn, [&](Rule& x) -> BusResult<void> {
          edit(x.record.tags);
          return {};
        });
      }
    }
  }
  return bus_not_found("Resource " + arn + " does not exist.");
}

BusResult<void> EventBusService::tag(const std::string& arn,
                                     const std::map<std::string, std::string>& tags) {
  return edit_tags(arn, [&](std::map<std::string, std::string>& t) {
    for (const auto& [k, v] : tags) t[k] = v;
  });
}

BusResult<void> EventBusService::untag(const std::string& arn,
                                       const std::vector<std::string>& keys) {
  return edit_tags(arn, [&](std::map<std::string, std::string>& t) {
    for (const auto& k : keys) t.erase(k);
  });
}

}  // namespace lambent::notify

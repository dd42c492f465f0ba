#include "services/events/events_api.h"

#include <boost/json.hpp>

#include "base/codec.h"
#include "base/time.h"
#include "events/pattern.h"

namespace lambent::eventbridge {
namespace json = boost::json;
using aws::Call;
using aws::Output;
using aws::ServiceError;

namespace {

std::string opt(const json::object& in, std::string_view key) {
  return aws::string_member(in, key);
}

template <class T>
T unwrap(notify::BusResult<T>&& r) {
  if (!r) throw ServiceError(r.error().status, r.error().code, r.error().message);
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

std::string required(const json::object& in, const char* key, const char* member) {
  std::string v = opt(in, key);
  if (v.empty()) {
    throw ServiceError(400, "ValidationException",
                       std::string("1 validation error detected: Value null at '") + member +
                           "' failed to satisfy constraint: Member must not be null");
  }
  return v;
}

std::map<std::string, std::string> tag_list(const json::object& in) {
  std::map<std::string, std::string> out;
  if (auto* a = in.if_contains("Tags"); a && a->is_array()) {
    for (const auto& t : a->as_array()) {
      if (t.is_object()) out[opt(t.as_object(), "Key")] = opt(t.as_object(), "Value");
    }
  }
  return out;
}

json::array failed_json(const std::vector<notify::EventBusService::FailedEntry>& failed) {
  json::array out;
  for (const auto& f : failed) {
    out.push_back(json::object{
        {"TargetId", f.target_id}, {"ErrorCode", f.code}, {"ErrorMessage", f.message}});
  }
  return out;
}

// Name-ordered pages: NextToken is the last name given (base64).
template <class Items, class Name, class ToJson>
json::object page(const json::object& in, const char* member, const Items& items, Name name,
                  ToJson to_json) {
  std::string after;
  if (auto t = opt(in, "NextToken"); !t.empty()) {
    auto d = base64_decode(t);
    if (!d) throw ServiceError(400, "ValidationException", "The NextToken is not valid.");
    after = *d;
  }
  size_t limit = 100;
  if (auto* l = in.if_contains("Limit"); l && l->is_int64()) {
    if (l->as_int64() < 1 || l->as_int64() > 100) {
      throw ServiceError(400, "ValidationException", "Limit must be between 1 and 100.");
    }
    limit = static_cast<size_t>(l->as_int64());
  }
  json::array out;
  std::string last;
  bool more = false;
  for (const auto& item : items) {
    const std::string n = name(item);
    if (!after.empty() && n <= after) continue;
    if (out.size() == limit) {
      more = true;
      break;
    }
    out.push_back(to_json(item));
    last = n;
  }
  json::object r{{member, std::move(out)}};
  if (more) r["NextToken"] = base64_encode(last);
  return r;
}

}  // namespace

aws::ServiceInfo EventsApi::info() {
  return {.name = "events",
          .protocol = aws::Protocol::kJson,
          .target_prefix = "AWSEvents.",
          .json_version = "1.1"};
}

EventsApi::EventsApi(notify::EventBusService& buses, boost::asio::thread_pool& pool)
    : buses_(buses), service_(info(), pool) {
  // events:<Operation> on the rule or the bus.
  service_.set_access([this](const Call& c) -> std::vector<aws::Access> {
    const auto& in = c.input;
    std::string bus = buses_.bus_name(opt(in, "EventBusName"));
    std::string resource = buses_.bus_arn(bus);
    if (auto r = opt(in, "Rule"); !r.empty()) {
      resource = buses_.rule_arn(bus, r);
    } else if (c.operation.find("Rule") != std::string::npos && !opt(in, "Name").empty()) {
      resource = buses_.rule_arn(bus, opt(in, "Name"));
    } else if (c.operation.find("EventBus") != std::string::npos && !opt(in, "Name").empty()) {
      resource = buses_.bus_arn(opt(in, "Name"));
    } else if (auto arn = opt(in, "ResourceARN"); !arn.empty()) {
      resource = arn;
    } else if (c.operation == "TestEventPattern" || c.operation.starts_with("List")) {
      resource = "*";
    }
    return {{"events:" + c.operation, resource, {}}};
  });
  auto bus_of = [this](const json::object& in) { return buses_.bus_name(opt(in, "EventBusName")); };

  service_.add("CreateEventBus", [this](Call& c) -> Output {
    std::string name = required(c.input, "Name", "name");
    return json::object{{"EventBusArn", unwrap(buses_.create_bus(name, tag_list(c.input)))}};
  });
  service_.add("DeleteEventBus", [this](Call& c) -> Output {
    unwrap(buses_.delete_bus(required(c.input, "Name", "name")));
    return json::object{};
  });
  service_.add("DescribeEventBus", [this](Call& c) -> Output {
    std::string name = buses_.bus_name(opt(c.input, "Name"));
    unwrap(buses_.describe_bus(name));
    return json::object{{"Name", name}, {"Arn", buses_.bus_arn(name)}};
  });
  service_.add("ListEventBuses", [this](Call& c) -> Output {
    std::string prefix = opt(c.input, "NamePrefix");
    std::vector<std::string> names;
    for (auto& n : buses_.bus_names()) {
      if (n.starts_with(prefix)) names.push_back(n);
    }
    return page(
        c.input, "EventBuses", names, [](const std::string& n) { return n; },
        [this](const std::string& n) {
          return json::object{{"Name", n}, {"Arn", buses_.bus_arn(n)}};
        });
  });
  service_.add("PutRule", [this, bus_of](Call& c) -> Output {
    notify::EventBusService::RuleInput in;
    in.bus = bus_of(c.input);
    in.name = required(c.input, "Name", "name");
    in.event_pattern = opt(c.input, "EventPattern");
    in.schedule = opt(c.input, "ScheduleExpression");
    if (c.input.contains("State")) in.state = opt(c.input, "State");
    in.description = opt(c.input, "Description");
    in.role_arn = opt(c.input, "RoleArn");
    in.tags = tag_list(c.input);
    return json::object{{"RuleArn", unwrap(buses_.put_rule(in))}};
  });
  auto rule_json = [this](const store::RuleRecord& r, bool describe) {
    json::object o{{"Name", r.name}, {"Arn", buses_.rule_arn(r.bus, r.name)}};
    if (!r.event_pattern.empty()) o["EventPattern"] = r.event_pattern;
    if (!r.schedule.empty()) o["ScheduleExpression"] = r.schedule;
    o["State"] = r.state;
    if (!r.description.empty()) o["Description"] = r.description;
    if (!r.role_arn.empty()) o["RoleArn"] = r.role_arn;
    o["EventBusName"] = r.bus;
    if (describe) o["CreatedBy"] = buses_.node().account_id;
    return o;
  };
  service_.add("DescribeRule", [this, bus_of, rule_json](Call& c) -> Output {
    auto r = unwrap(buses_.rule(bus_of(c.input), required(c.input, "Name", "name")));
    return rule_json(r, true);
  });
  service_.add("DeleteRule", [this, bus_of](Call& c) -> Output {
    auto* force = c.input.if_contains("Force");
    unwrap(buses_.delete_rule(bus_of(c.input), required(c.input, "Name", "name"),
                              force && force->is_bool() && force->as_bool()));
    return json::object{};
  });
  service_.add("EnableRule", [this, bus_of](Call& c) -> Output {
    unwrap(buses_.set_state(bus_of(c.input), required(c.input, "Name", "name"), true));
    return json::object{};
  });
  service_.add("DisableRule", [this, bus_of](Call& c) -> Output {
    unwrap(buses_.set_state(bus_of(c.input), required(c.input, "Name", "name"), false));
    return json::object{};
  });
  service_.add("ListRules", [this, bus_of, rule_json](Call& c) -> Output {
    std::string prefix = opt(c.input, "NamePrefix");
    std::vector<store::RuleRecord> rules;
    for (auto& r : unwrap(buses_.rules(bus_of(c.input)))) {
      if (r.name.starts_with(prefix)) rules.push_back(std::move(r));
    }
    return page(
        c.input, "Rules", rules, [](const store::RuleRecord& r) { return r.name; },
        [&](const store::RuleRecord& r) { return rule_json(r, false); });
  });
  service_.add("ListRuleNamesByTarget", [this, bus_of](Call& c) -> Output {
    auto names =
        buses_.rules_by_target(bus_of(c.input), required(c.input, "TargetArn", "targetArn"));
    return page(
        c.input, "RuleNames", names, [](const std::string& n) { return n; },
        [](const std::string& n) { return json::value(n); });
  });
  service_.add("PutTargets", [this, bus_of](Call& c) -> Output {
    std::string rule = required(c.input, "Rule", "rule");
    auto* targets = c.input.if_contains("Targets");
    if (!targets || !targets->is_array()) {
      throw ServiceError(400, "ValidationException",
                         "1 validation error detected: Value null at 'targets' failed to "
                         "satisfy constraint: Member must not be null");
    }
    auto failed = unwrap(buses_.put_targets(bus_of(c.input), rule, targets->as_array()));
    return json::object{{"FailedEntryCount", failed.size()},
                        {"FailedEntries", failed_json(failed)}};
  });
  service_.add("RemoveTargets", [this, bus_of](Call& c) -> Output {
    std::string rule = required(c.input, "Rule", "rule");
    std::vector<std::string> ids;
    if (auto* a = c.input.if_contains("Ids"); a && a->is_array()) {
      for (const auto& x : a->as_array()) {
        if (x.is_string()) ids.emplace_back(x.as_string());
      }
    }
    if (ids.empty()) {
      throw ServiceError(400, "ValidationException",
                         "1 validation error detected: Value null at 'ids' failed to satisfy "
                         "constraint: Member must not be null");
    }
    auto failed = unwrap(buses_.remove_targets(bus_of(c.input), rule, ids));
    return json::object{{"FailedEntryCount", failed.size()},
                        {"FailedEntries", failed_json(failed)}};
  });
  service_.add("ListTargetsByRule", [this, bus_of](Call& c) -> Output {
    auto targets = unwrap(buses_.targets(bus_of(c.input), required(c.input, "Rule", "rule")));
    return page(
        c.input, "Targets", targets, [](const json::value& t) { return opt(t.as_object(), "Id"); },
        [](const json::value& t) { return t; });
  });
  service_.add("PutEvents", [this](Call& c) -> Output {
    auto* entries = c.input.if_contains("Entries");
    if (!entries || !entries->is_array()) {
      throw ServiceError(400, "ValidationException",
                         "1 validation error detected: Value null at 'entries' failed to "
                         "satisfy constraint: Member must not be null");
    }
    auto results = unwrap(buses_.put_events(entries->as_array()));
    json::array out;
    size_t failed = 0;
    for (const auto& r : results) {
      if (r.event_id.empty()) {
        ++failed;
        out.push_back(json::object{{"ErrorCode", r.error_code}, {"ErrorMessage", r.error_message}});
      } else {
        out.push_back(json::object{{"EventId", r.event_id}});
      }
    }
    return json::object{{"FailedEntryCount", failed}, {"Entries", std::move(out)}};
  });
  service_.add("TestEventPattern", [](Call& c) -> Output {
    std::string pattern = required(c.input, "EventPattern", "eventPattern");
    std::string event = required(c.input, "Event", "event");
    auto p = events::Pattern::compile(pattern, events::Dialect::kEventBridge);
    if (!p) {
      throw ServiceError(400, "InvalidEventPatternException",
                         "Event pattern is not valid. Reason: " + p.error().message);
    }
    boost::system::error_code ec;
    json::value v = json::parse(event, ec);
    bool complete = !ec && v.is_object();
    for (const char* k : {"id", "account", "source", "time", "region", "detail-type"}) {
      complete = complete && v.as_object().contains(k);
    }
    if (!complete) {
      throw ServiceError(400, "InvalidEventPatternException",
                         "Parameter Event is not valid: an event needs id, account, source, "
                         "time, region, resources and detail-type.");
    }
    return json::object{{"Result", p->matches(v)}};
  });
  service_.add("TagResource", [this](Call& c) -> Output {
    unwrap(buses_.tag(required(c.input, "ResourceARN", "resourceARN"), tag_list(c.input)));
    return json::object{};
  });
  service_.add("UntagResource", [this](Call& c) -> Output {
    std::vector<std::string> keys;
    if (auto* a = c.input.if_contains("TagKeys"); a && a->is_array()) {
      for (const auto& x : a->as_array()) {
        if (x.is_string()) keys.emplace_back(x.as_string());
      }
    }
    unwrap(buses_.untag(required(c.input, "ResourceARN", "resourceARN"), keys));
    return json::object{};
  });
  service_.add("ListTagsForResource", [this](Call& c) -> Output {
    auto tags = unwrap(buses_.tags(required(c.input, "ResourceARN", "resourceARN")));
    json::array out;
    for (const auto& [k, v] : tags) out.push_back(json::object{{"Key", k}, {"Value", v}});
    return json::object{{"Tags", std::move(out)}};
  });
}

}  // namespace lambent::eventbridge

#include "services/logs/logs_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <regex>
#include <set>

#include "base/log.h"
#include "base/time.h"
#include "telemetry/filter_pattern.h"

namespace lambent::logs {
namespace json = boost::json;
namespace {

constexpr const char* kTargetPrefix = "Logs_20140328.";
constexpr size_t kMaxScanRows = 100'000;  // per FilterLogEvents call; beyond, a nextToken

// Logs' error shapes: the shape name is the wire code, 400 unless said.
aws::ServiceError logs_error(std::string code, std::string message, unsigned status = 400) {
  return aws::ServiceError(status, std::move(code), std::move(message));
}

[[noreturn]] void invalid(const std::string& message) {
  throw logs_error("InvalidParameterException", message);
}

[[noreturn]] void from_error(const Error& e) {
  switch (e.code) {
    case Errc::kNotFound:
      throw logs_error("ResourceNotFoundException", e.message);
    case Errc::kAlreadyExists:
      throw logs_error("ResourceAlreadyExistsException", e.message);
    case Errc::kInvalidArgument:
      throw logs_error("InvalidParameterException", e.message);
    default:
      log::error("logs api: {}", e.message);
      throw logs_error("ServiceUnavailableException", "The service cannot complete the request.",
                      500);
  }
}

template <class T>
T unwrap(Result<T> r) {
  if (!r) from_error(r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

[[noreturn]] void wrong_type(const char* key) {
  throw logs_error("SerializationException",
                  fmt::format("Unexpected value type for member '{}'", key));
}

std::optional<std::string> opt_str(const json::object& in, const char* key) {
  auto* v = in.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) wrong_type(key);
  return std::string(v->as_string());
}

std::optional<int64_t> opt_int(const json::object& in, const char* key) {
  auto* v = in.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  wrong_type(key);
}

std::optional<bool> opt_bool(const json::object& in, const char* key) {
  auto* v = in.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_bool()) wrong_type(key);
  return v->as_bool();
}

std::vector<std::string> str_list(const json::object& in, const char* key) {
  std::vector<std::string> out;
  auto* v = in.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) wrong_type(key);
  for (const auto& x : v->as_array()) {
    if (!x.is_string()) wrong_type(key);
    out.emplace_back(x.as_string());
  }
  return out;
}

void check_group_name(const std::string& name) {
  static const std::regex kPattern("[\\.\\-_/#A-Za-z0-9]+");
  if (name.empty() || name.size() > 512 || !std::regex_match(name, kPattern)) {
    invalid("1 validation error detected: Value '" + name +
            "' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular "
            "expression pattern: [\\.\\-_/#A-Za-z0-9]+");
  }
}

void check_stream_name(const std::string& name) {
  if (name.empty() || name.size() > 512 || name.find(':') != std::string::npos ||
      name.find('*') != std::string::npos) {
    invalid("1 validation error detected: Value '" + name +
            "' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular "
            "expression pattern: [^:*]*");
  }
}

// logGroupName, or logGroupIdentifier (a name or an ARN), required.
std::string group_of(const json::object& in) {
  auto name = opt_str(in, "logGroupName");
  auto ident = opt_str(in, "logGroupIdentifier");
  if (name && ident) invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  if (ident) {
    std::string id = *ident;
    if (id.rfind("arn:", 0) == 0) {
      auto pos = id.find(":log-group:");
      if (pos == std::string::npos) invalid("Invalid log group identifier: " + id);
      id = id.substr(pos + 11);
      if (id.size() > 2 && id.compare(id.size() - 2, 2, ":*") == 0) id.resize(id.size() - 2);
    }
    name = id;
  }
  if (!name) invalid("Either logGroupName or logGroupIdentifier must be specified.");
  check_group_name(*name);
  return *name;
}

std::string required(const json::object& in, const char* key) {
  auto v = opt_str(in, key);
  if (!v) invalid(fmt::format("1 validation error detected: Value null at '{}' failed to satisfy "
                              "constraint: Member must not be null",
                              key));
  return *v;
}

size_t limit_of(const json::object& in, int64_t max, int64_t dflt) {
  auto l = opt_int(in, "limit").value_or(dflt);
  if (l < 1 || l > max) {
    invalid(fmt::format("1 validation error detected: Value '{}' at 'limit' failed to satisfy "
                        "constraint: Member must have value {} {}",
                        l, l < 1 ? "greater than or equal to" : "less than or equal to",
                        l < 1 ? 1 : max));
  }
  return static_cast<size_t>(l);
}

// Event positions in tokens: "<prefix><timestamp>/<id>".
std::optional<std::pair<int64_t, int64_t>> parse_position(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  int64_t ts = 0, id = 0;
  auto a = std::from_chars(s.data(), s.data() + slash, ts);
  auto b = std::from_chars(s.data() + slash + 1, s.data() + s.size(), id);
  if (a.ec != std::errc() || a.ptr != s.data() + slash || b.ec != std::errc() ||
      b.ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return std::make_pair(ts, id);
}

std::string position(int64_t ts, int64_t id) { return fmt::format("{}/{}", ts, id); }

const std::set<int64_t> kRetentionDays = {1,   3,   5,    7,    14,   30,   60,   90,
                                          120, 150, 180,  365,  400,  545,  731,  1096,
                                          1827, 2192, 2557, 2922, 3288, 3653};

}  // namespace

void LogsApi::require_stream(const std::string& group, const std::string& stream) {
  for (const auto& s : unwrap(deps_.logs.stream_infos(group, stream, false, false, 0, 1000))) {
    if (s.name == stream) return;
  }
  throw logs_error("ResourceNotFoundException", "The specified log stream does not exist.");
}

std::string LogsApi::group_arn(const std::string& name) const {
  return deps_.node.log_group_arn(name);
}

aws::ServiceInfo LogsApi::info() {
  return {.name = "logs",
          .protocol = aws::Protocol::kJson,
          .target_prefix = "Logs_20140328.",
          .json_version = "1.1"};
}

LogsApi::LogsApi(LogsApiDeps deps) : deps_(std::move(deps)), service_(info(), deps_.pool) {
  using Handler = json::object (LogsApi::*)(const json::object&);
  static const std::pair<const char*, Handler> kOps[] = {
      {"CreateLogGroup", &LogsApi::create_log_group},
      {"DeleteLogGroup", &LogsApi::delete_log_group},
      {"DescribeLogGroups", &LogsApi::describe_log_groups},
      {"CreateLogStream", &LogsApi::create_log_stream},
      {"DeleteLogStream", &LogsApi::delete_log_stream},
      {"DescribeLogStreams", &LogsApi::describe_log_streams},
      {"PutLogEvents", &LogsApi::put_log_events},
      {"GetLogEvents", &LogsApi::get_log_events},
      {"FilterLogEvents", &LogsApi::filter_log_events},
      {"PutRetentionPolicy", &LogsApi::put_retention_policy},
      {"DeleteRetentionPolicy", &LogsApi::delete_retention_policy},
  };
  for (const auto& [name, handler] : kOps) {
    service_.add(name, [this, handler = handler](aws::Call& c) -> aws::Output {
      return (this->*handler)(c.input);
    });
  }
}

json::object LogsApi::create_log_group(const json::object& in) {
  std::string name = required(in, "logGroupName");
  check_group_name(name);
  if (auto cls = opt_str(in, "logGroupClass"); cls && *cls != "STANDARD") {
    invalid("Lambent stores every log group in the STANDARD class.");
  }
  unwrap(deps_.logs.create_group(name));
  return {};
}

json::object LogsApi::delete_log_group(const json::object& in) {
  std::string name = required(in, "logGroupName");
  check_group_name(name);
  unwrap(deps_.logs.delete_group(name));
  return {};
}

json::object LogsApi::describe_log_groups(const json::object& in) {
  std::string prefix = opt_str(in, "logGroupNamePrefix").value_or("");
  auto pattern = opt_str(in, "logGroupNamePattern");
  if (!prefix.empty() && pattern) {
    invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  }
  size_t limit = limit_of(in, 50, 50);
  std::string after = opt_str(in, "nextToken").value_or("");
  json::array groups;
  std::string last;
  bool more = false;
  // A pattern is a case-insensitive substring (AWS's logGroupNamePattern).
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string needle = pattern ? lower(*pattern) : "";
  while (!more) {
    auto batch = unwrap(deps_.logs.groups(prefix, after, 200));
    for (const auto& g : batch) {
      after = g.name;
      if (pattern && lower(g.name).find(needle) == std::string::npos) continue;
      if (groups.size() == limit) {
        more = true;
        break;
      }
      json::object o{{"logGroupName", g.name},
                     {"creationTime", g.created_ms},
                     {"metricFilterCount", 0},
                     {"arn", group_arn(g.name) + ":*"},
                     {"logGroupArn", group_arn(g.name)},
                     {"storedBytes", g.stored_bytes},
                     {"logGroupClass", "STANDARD"}};
      if (g.retention_days) o["retentionInDays"] = *g.retention_days;
      groups.push_back(std::move(o));
      last = g.name;
    }
    if (batch.size() < 200) break;
  }
  json::object out{{"logGroups", std::move(groups)}};
  if (more) out["nextToken"] = last;
  return out;
}

namespace {
// logGroupName and logStreamName, both required and well-formed.
std::pair<std::string, std::string> group_and_stream(const json::object& in) {
  std::string group = required(in, "logGroupName");
  std::string stream = required(in, "logStreamName");
  check_group_name(group);
  check_stream_name(stream);
  return {group, stream};
}
}  // namespace

json::object LogsApi::create_log_stream(const json::object& in) {
  auto [group, stream] = group_and_stream(in);
  unwrap(deps_.logs.create_stream(group, stream));
  return {};
}

json::object LogsApi::delete_log_stream(const json::object& in) {
  auto [group, stream] = group_and_stream(in);
  unwrap(deps_.logs.delete_stream(group, stream));
  return {};
}

json::object LogsApi::describe_log_streams(const json::object& in) {
  std::string group = group_of(in);
  std::string prefix = opt_str(in, "logStreamNamePrefix").value_or("");
  std::string order = opt_str(in, "orderBy").value_or("LogStreamName");
  if (order != "LogStreamName" && order != "LastEventTime") {
    invalid("1 validation error detected: Value '" + order +
            "' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: "
            "[LogStreamName, LastEventTime]");
  }
  if (order == "LastEventTime" && !prefix.empty()) {
    invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  bool descending = opt_bool(in, "descending").value_or(false);
  size_t limit = limit_of(in, 50, 50);
  size_t offset = 0;
  if (auto token = opt_str(in, "nextToken")) {
    auto [p, ec] = std::from_chars(token->data(), token->data() + token->size(), offset);
    if (ec != std::errc() || p != token->data() + token->size()) {
      invalid("The specified nextToken is invalid.");
    }
  }
  auto streams = unwrap(deps_.logs.stream_infos(group, prefix, order == "LastEventTime",
                                                descending, offset, limit + 1));
  json::array items;
  for (size_t i = 0; i < streams.size() && i < limit; ++i) {
    const auto& s = streams[i];
    json::object o{{"logStreamName", s.name},
                   {"creationTime", s.created_ms},
                   {"arn", group_arn(group) + ":log-stream:" + s.name},
                   {"storedBytes", 0}};  // deprecated by AWS: always 0 there too
    if (s.first_event_ms) o["firstEventTimestamp"] = *s.first_event_ms;
    if (s.last_event_ms) o["lastEventTimestamp"] = *s.last_event_ms;
    if (s.last_ingestion_ms) o["lastIngestionTime"] = *s.last_ingestion_ms;
    items.push_back(std::move(o));
  }
  json::object out{{"logStreams", std::move(items)}};
  if (streams.size() > limit) out["nextToken"] = std::to_string(offset + limit);
  return out;
}

json::object LogsApi::put_log_events(const json::object& in) {
  std::string group = group_of(in);
  std::string stream = required(in, "logStreamName");
  check_stream_name(stream);
  auto* events = in.if_contains("logEvents");
  if (!events || !events->is_array()) invalid("logEvents is required");
  const auto& arr = events->as_array();
  if (arr.empty() || arr.size() > 10'000) {
    invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: "
            "Member must have length between 1 and 10000");
  }
  int64_t now = now_ms();
  constexpr int64_t kDay = 86'400'000;
  std::vector<std::pair<int64_t, std::string>> accepted;
  std::optional<int64_t> too_old_end, too_new_start;
  int64_t previous = INT64_MIN;
  size_t bytes = 0;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_object()) wrong_type("logEvents");
    const auto& e = arr[i].as_object();
    auto ts = opt_int(e, "timestamp");
    auto message = opt_str(e, "message");
    if (!ts || !message) invalid("Each log event needs a timestamp and a message.");
    if (message->empty()) invalid("Log event messages cannot be empty.");
    if (*ts < previous) {
      invalid("Log events in a single PutLogEvents request must be in chronological order.");
    }
    previous = *ts;
    bytes += message->size() + 26;
    if (*ts < now - 14 * kDay) {
      too_old_end = static_cast<int64_t>(i) + 1;
    } else if (*ts > now + 2 * 3'600'000) {
      if (!too_new_start) too_new_start = static_cast<int64_t>(i);
    } else {
      accepted.emplace_back(*ts, std::move(*message));
    }
  }
  if (bytes > 1'048'576) invalid("Log event batch size exceeds the maximum of 1,048,576 bytes.");
  if (!accepted.empty()) {
    unwrap(deps_.logs.put_events(group, stream, accepted));
  } else {
    require_stream(group, stream);
  }
  json::object out;
  if (too_old_end || too_new_start) {
    json::object info;
    if (too_old_end) info["tooOldLogEventEndIndex"] = *too_old_end;
    if (too_new_start) info["tooNewLogEventStartIndex"] = *too_new_start;
    out["rejectedLogEventsInfo"] = std::move(info);
  }
  return out;
}

json::object LogsApi::get_log_events(const json::object& in) {
  std::string group = group_of(in);
  std::string stream = required(in, "logStreamName");
  check_stream_name(stream);
  size_t limit = limit_of(in, 10'000, 10'000);
  telemetry::EventScan q;
  q.group = group;
  q.streams = {stream};
  if (auto s = opt_int(in, "startTime")) q.start_ms = *s;
  if (auto e = opt_int(in, "endTime")) q.end_ms = *e;
  auto token = opt_str(in, "nextToken");
  bool start_from_head = opt_bool(in, "startFromHead").value_or(false);
  q.forward = start_from_head;
  if (token) {
    if (token->size() < 2 || (token->compare(0, 2, "f/") != 0 && token->compare(0, 2, "b/") != 0)) {
      invalid("The specified nextToken is invalid.");
    }
    q.forward = (*token)[0] == 'f';
    q.after = parse_position(std::string_view(*token).substr(2));
    if (!q.after) invalid("The specified nextToken is invalid.");
  }
  require_stream(group, stream);  // an absent stream is an error, not an empty page
  std::vector<telemetry::LogEvent> events;
  unwrap(deps_.logs.scan(q, limit, [&](const telemetry::LogEvent& e) {
    events.push_back(e);
    return true;
  }));
  if (!q.forward) std::reverse(events.begin(), events.end());
  json::array items;
  for (const auto& e : events) {
    items.push_back(json::object{
        {"timestamp", e.timestamp_ms}, {"message", e.message}, {"ingestionTime", e.ingestion_ms}});
  }
  // Tokens: forward continues after the newest event shown, backward before the oldest; at an
  // end the caller's own token comes back, which is how clients know to stop.
  std::string forward, backward;
  if (!events.empty()) {
    forward = "f/" + position(events.back().timestamp_ms, events.back().id);
    backward = "b/" + position(events.front().timestamp_ms, events.front().id);
  } else if (token) {
    forward = backward = *token;
  } else {
    forward = "f/" + position(q.start_ms == INT64_MIN ? 0 : q.start_ms - 1, 0);
    backward = "b/" + position(q.end_ms, 0);
  }
  return json::object{{"events", std::move(items)},
                      {"nextForwardToken", forward},
                      {"nextBackwardToken", backward}};
}

json::object LogsApi::filter_log_events(const json::object& in) {
  std::string group = group_of(in);
  telemetry::EventScan q;
  q.group = group;
  q.streams = str_list(in, "logStreamNames");
  q.stream_prefix = opt_str(in, "logStreamNamePrefix").value_or("");
  if (!q.streams.empty() && !q.stream_prefix.empty()) {
    invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  }
  if (q.streams.size() > 100) invalid("At most 100 logStreamNames may be given.");
  if (auto s = opt_int(in, "startTime")) q.start_ms = *s;
  if (auto e = opt_int(in, "endTime")) q.end_ms = *e + 1;  // endTime is inclusive here
  size_t limit = limit_of(in, 10'000, 10'000);
  std::string pattern_text = opt_str(in, "filterPattern").value_or("");
  if (pattern_text.size() > 1024) invalid("filterPattern must be at most 1,024 characters.");
  auto pattern = telemetry::FilterPattern::parse(pattern_text);
  if (!pattern) invalid(pattern.error().message);
  if (auto token = opt_str(in, "nextToken")) {
    q.after = parse_position(*token);
    if (!q.after) invalid("The specified nextToken is invalid.");
  }
  json::array items;
  std::optional<std::pair<int64_t, int64_t>> last;
  bool full = false;
  bool done = unwrap(deps_.logs.scan(q, kMaxScanRows, [&](const telemetry::LogEvent& e) {
    if (items.size() == limit) {
      full = true;
      return false;
    }
    last = std::make_pair(e.timestamp_ms, e.id);
    if (pattern->matches(e.message)) {
      items.push_back(json::object{{"logStreamName", e.stream},
                                   {"timestamp", e.timestamp_ms},
                                   {"message", e.message},
                                   {"ingestionTime", e.ingestion_ms},
                                   {"eventId", std::to_string(e.id)}});
    }
    return true;
  }));
  json::object out{{"events", std::move(items)}, {"searchedLogStreams", json::array()}};
  // More to read: the page filled up, or the scan stopped at its row budget.
  if ((full || !done) && last) out["nextToken"] = position(last->first, last->second);
  return out;
}

json::object LogsApi::put_retention_policy(const json::object& in) {
  std::string group = required(in, "logGroupName");
  check_group_name(group);
  auto days = opt_int(in, "retentionInDays");
  if (!days || !kRetentionDays.count(*days)) {
    invalid("1 validation error detected: Value '" + (days ? std::to_string(*days) : "null") +
            "' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value "
            "set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, "
            "2192, 2557, 2922, 3288, 3653]");
  }
  unwrap(deps_.logs.set_retention(group, *days));
  // Enforced at once (and every minute by the log writer).
  unwrap(deps_.logs.enforce_limits(now_ms(), 0));
  return {};
}

json::object LogsApi::delete_retention_policy(const json::object& in) {
  std::string group = required(in, "logGroupName");
  check_group_name(group);
  unwrap(deps_.logs.set_retention(group, std::nullopt));
  return {};
}

void LogsApi::protect(aws::Guard* guard) {
  if (!guard) return;
  service_.set_guard(guard);
  service_.set_access([this](const aws::Call& c) -> std::vector<aws::Access> {
    auto text = [&](const char* key) { return aws::string_member(c.input, key); };
    std::string resource = "*";
    if (std::string group = text("logGroupName"); !group.empty()) {
      std::string stream = text("logStreamName");
      resource = deps_.node.arn(
          "logs", "log-group:" + group + ":" + (stream.empty() ? "*" : "log-stream:" + stream));
    }
    return {{"logs:" + c.operation, resource, {}}};
  });
}

}  // namespace lambent::logs

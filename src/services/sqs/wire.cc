#include "services/sqs/wire.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <set>

#include "base/codec.h"

namespace lambent::sqs {
namespace json = boost::json;
using queue::QueueError;
using queue::Refusal;

namespace {

constexpr size_t kMaxBatchEntries = 10;

// The wire code and HTTP status of an error shape (the service model's "error" traits).
struct WireError {
  std::string code;
  unsigned status;
  bool sender;
};
WireError wire_error(const std::string& shape) {
  static const std::set<std::string> kPrefixed = {
      "BatchEntryIdsNotDistinct", "BatchRequestTooLong",          "EmptyBatchRequest",
      "InvalidBatchEntryId",      "TooManyEntriesInBatchRequest", "UnsupportedOperation",
      "MessageNotInflight",       "QueueDeletedRecently"};
  if (shape == "QueueDoesNotExist") return {"AWS.SimpleQueueService.NonExistentQueue", 400, true};
  if (shape == "QueueNameExists") return {"QueueAlreadyExists", 400, true};
  if (shape == "PurgeQueueInProgress") {
    return {"AWS.SimpleQueueService.PurgeQueueInProgress", 403, true};
  }
  if (shape == "OverLimit") return {"OverLimit", 403, true};
  if (kPrefixed.count(shape)) return {"AWS.SimpleQueueService." + shape, 400, true};
  if (shape == "ServiceUnavailable") return {"ServiceUnavailable", 503, false};
  if (shape == "InternalFailure") return {"InternalFailure", 500, false};
  return {shape, 400, true};
}

}  // namespace

aws::ServiceError sqs_error(const std::string& shape, std::string message) {
  WireError w = wire_error(shape);
  aws::ServiceError e(w.sender ? w.status : std::max(w.status, 500u), shape, std::move(message));
  if (w.code != shape) e.query_code = w.code;
  return e;
}

namespace {
// The error shape of each refusal, in the order of queue::Refusal.
constexpr const char* kRefusalShapes[] = {
    "QueueDoesNotExist",     "QueueNameExists",        "InvalidParameterValue",
    "MissingParameter",      "InvalidAttributeName",   "InvalidAttributeValue",
    "InvalidMessageContents", "ReceiptHandleIsInvalid", "MessageNotInflight",
    "PurgeQueueInProgress",  "ServiceUnavailable"};
static_assert(std::size(kRefusalShapes) == static_cast<size_t>(Refusal::kUnavailable) + 1);

const char* shape_of(Refusal r) { return kRefusalShapes[static_cast<size_t>(r)]; }
}  // namespace

aws::ServiceError sqs_error(const QueueError& e) { return sqs_error(shape_of(e.code), e.message); }

[[noreturn]] void fail(const char* shape, const std::string& message) {
  throw sqs_error(shape, message);
}

// --- The query protocol's form, turned into the JSON protocol's input shape. -------------

namespace {
json::object map_of(const json::value& v, const char* key_name, const char* value_name) {
  json::object out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (!e.is_object()) continue;
    const auto* k = e.as_object().if_contains(key_name);
    const auto* val = e.as_object().if_contains(value_name);
    if (!k || !k->is_string()) continue;
    out[k->as_string()] = val ? *val : json::value("");
  }
  return out;
}

json::array list_of(const json::value& v) {
  json::array out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (!e.is_null()) out.push_back(e);
  }
  return out;
}

}  // namespace

json::object normalize(json::object in) {
  json::object out;
  for (auto& [k, v] : in) {
    std::string key(k);
    if (key == "Attribute") {
      out["Attributes"] = map_of(v, "Name", "Value");
    } else if (key == "Tag" || key == "Tags") {
      // CreateQueue's member is "tags", TagQueue's "Tags"; botocore sends Tag.N.Key for both.
      out["tags"] = out["Tags"] = map_of(v, "Key", "Value");
    } else if (key == "MessageAttribute" || key == "MessageSystemAttribute") {
      out[key + "s"] = map_of(v, "Name", "Value");
    } else if (key == "AttributeName" || key == "MessageAttributeName" ||
               key == "MessageSystemAttributeName" || key == "TagKey" || key == "AWSAccountId") {
      out[key + "s"] = list_of(v);
    } else if (key == "ActionName") {
      out["Actions"] = list_of(v);
    } else if (key.ends_with("BatchRequestEntry")) {
      json::array entries;
      for (auto& e : list_of(v)) {
        entries.push_back(e.is_object() ? json::value(normalize(e.as_object())) : e);
      }
      out["Entries"] = std::move(entries);
    } else {
      out[key] = std::move(v);
    }
  }
  return out;
}

// --- Reading members (strings in the query protocol, numbers in JSON). ---------------------

std::string get_string(const json::object& in, const char* key) {
  const auto* v = in.if_contains(key);
  if (!v || v->is_null()) return "";
  if (!v->is_string()) fail("InvalidParameterValue", fmt::format("{} must be a string.", key));
  return std::string(v->as_string());
}

std::optional<int64_t> get_int(const json::object& in, const char* key) {
  const auto* v = in.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (1ull << 62)) return static_cast<int64_t>(v->as_uint64());
  if (v->is_string()) {
    std::string s(v->as_string());
    if (!s.empty() && s.size() < 12 && s.find_first_not_of("-0123456789") == std::string::npos &&
        s.find('-', 1) == std::string::npos && s != "-") {
      return std::stoll(s);
    }
  }
  fail("InvalidParameterValue",
       fmt::format("Value {} for parameter {} is invalid. Reason: must be an integer.",
                   v->is_string() ? std::string(v->as_string()) : json::serialize(*v), key));
}

std::string require(const json::object& in, const char* key) {
  std::string v = get_string(in, key);
  if (v.empty())
    fail("MissingParameter", fmt::format("The request must contain the parameter {}.", key));
  return v;
}

std::map<std::string, std::string> string_map(const json::object& in, const char* key) {
  std::map<std::string, std::string> out;
  const auto* v = in.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) fail("InvalidParameterValue", fmt::format("{} must be a map.", key));
  for (const auto& [k, x] : v->as_object()) {
    if (x.is_string()) {
      out[std::string(k)] = std::string(x.as_string());
    } else if (x.is_int64()) {
      out[std::string(k)] = std::to_string(x.as_int64());
    } else {
      fail("InvalidAttributeValue",
           fmt::format("Invalid value for the parameter {}.", std::string(k)));
    }
  }
  return out;
}

std::vector<std::string> string_list(const json::object& in, const char* key) {
  std::vector<std::string> out;
  const auto* v = in.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) fail("InvalidParameterValue", fmt::format("{} must be a list.", key));
  for (const auto& x : v->as_array()) {
    if (x.is_string()) out.emplace_back(x.as_string());
  }
  return out;
}

queue::MessageAttributes message_attributes(const json::object& in, const char* key) {
  queue::MessageAttributes out;
  const auto* v = in.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) fail("InvalidParameterValue", std::string(key) + " must be a map.");
  for (const auto& [k, x] : v->as_object()) {
    if (!x.is_object())
      fail("InvalidParameterValue", "Message attribute '" + std::string(k) + "' is invalid.");
    const auto& o = x.as_object();
    queue::MessageAttribute a;
    a.data_type = get_string(o, "DataType");
    a.string_value = get_string(o, "StringValue");
    std::string b64 = get_string(o, "BinaryValue");
    if (!b64.empty()) {
      auto raw = base64_decode(b64);
      if (!raw)
        fail("InvalidParameterValue",
             "The message attribute '" + std::string(k) + "' has an invalid binary value.");
      a.binary_value = std::move(*raw);
    }
    if (a.data_type.empty()) {
      fail("InvalidParameterValue", "The message attribute '" + std::string(k) +
                                        "' must contain a non-empty attribute type.");
    }
    out[std::string(k)] = std::move(a);
  }
  return out;
}

json::object attributes_json(const queue::MessageAttributes& attrs) {
  return queue::attributes_object(attrs, {"DataType", "StringValue", "BinaryValue"});
}

json::object map_json(const std::map<std::string, std::string>& m) {
  json::object out;
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// Batch entries: 1..10, distinct well-formed ids.
const json::array& batch_entries(const json::object& in, const char* entry_name) {
  static const json::array kEmpty;
  const auto* v = in.if_contains("Entries");
  const json::array& entries = v && v->is_array() ? v->as_array() : kEmpty;
  if (entries.empty()) {
    fail("EmptyBatchRequest",
         fmt::format("There should be at least one {} in the request.", entry_name));
  }
  if (entries.size() > kMaxBatchEntries) {
    fail("TooManyEntriesInBatchRequest",
         fmt::format("Maximum number of entries per request are {}. You have sent {}.",
                     kMaxBatchEntries, entries.size()));
  }
  std::set<std::string> ids;
  for (const auto& e : entries) {
    if (!e.is_object()) fail("InvalidParameterValue", "A batch entry is malformed.");
    std::string id = get_string(e.as_object(), "Id");
    if (!queue::valid_name(id)) {
      fail("InvalidBatchEntryId",
           "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
           "It can be at most 80 letters long.");
    }
    if (!ids.insert(id).second) fail("BatchEntryIdsNotDistinct", "Id " + id + " repeated.");
  }
  return entries;
}

json::object error_entry(const std::string& id, const aws::ServiceError& e) {
  return json::object{{"Id", id},
                      {"SenderFault", e.sender()},
                      {"Code", e.query_code.empty() ? e.code : e.query_code},
                      {"Message", e.message}};
}
json::object error_entry(const std::string& id, const QueueError& e) {
  return error_entry(id, sqs_error(e));
}

// DeleteMessageBatch's and ChangeMessageVisibilityBatch's answer: each entry's Id in Successful
// or, with its error, in Failed.
void batch_outcome(json::object& out, const json::array& entries,
                   const std::vector<std::optional<QueueError>>& results) {
  json::array ok, failed;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string id = get_string(entries[i].as_object(), "Id");
    if (results[i]) {
      failed.push_back(error_entry(id, *results[i]));
    } else {
      ok.push_back(json::object{{"Id", id}});
    }
  }
  out["Successful"] = std::move(ok);
  out["Failed"] = std::move(failed);
}

// --- JSON output → the query protocol's XML. ----------------------------------------------

namespace {
void xml_value(std::string& out, const std::string& name, const json::value& v,
               const std::string& op);
}  // namespace

void xml_members(std::string& out, const json::object& o, const std::string& op) {
  for (const auto& [k, v] : o) xml_value(out, std::string(k), v, op);
}

namespace {
void xml_value(std::string& out, const std::string& name, const json::value& v,
               const std::string& op) {
  if (name == "Attributes" || name == "Tags" || name == "MessageAttributes") {
    // Flattened maps.
    const char* element = name == "Attributes" ? "Attribute"
                          : name == "Tags"     ? "Tag"
                                               : "MessageAttribute";
    const char* key = name == "Tags" ? "Key" : "Name";
    for (const auto& [k, x] : v.as_object()) {
      out += fmt::format("<{}><{}>{}</{}><Value>", element, key, xml_escape(k), key);
      if (x.is_object()) {
        xml_members(out, x.as_object(), op);
      } else {
        out += xml_escape(x.as_string());
      }
      out += fmt::format("</Value></{}>", element);
    }
    return;
  }
  if (v.is_array()) {
    // Flattened lists.
    std::string element = name == "QueueUrls" || name == "queueUrls" ? "QueueUrl"
                          : name == "Messages"                       ? "Message"
                          : name == "Successful"                     ? op + "ResultEntry"
                          : name == "Failed"                         ? "BatchResultErrorEntry"
                                                                     : name;
    for (const auto& x : v.as_array()) xml_value(out, element, x, op);
    return;
  }
  out += "<" + name + ">";
  if (v.is_object()) {
    xml_members(out, v.as_object(), op);
  } else if (v.is_string()) {
    out += xml_escape(v.as_string());
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else {
    out += json::serialize(v);
  }
  out += "</" + name + ">";
}
}  // namespace

}  // namespace lambent::sqs

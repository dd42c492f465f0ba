#include "services/sqs/sqs_api.h"

#include <fmt/format.h>

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <chrono>
#include <set>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "base/offload.h"
#include "aws/protocol.h"
#include "queue/timer_waiter.h"

namespace lambent::sqs {
namespace json = boost::json;
namespace asio = boost::asio;
using queue::QueueError;
using queue::Refusal;

namespace {

constexpr const char* kXmlns = "http://queue.amazonaws.com/doc/2012-11-05/";
constexpr const char* kTargetPrefix = "AmazonSQS.";
constexpr size_t kMaxBatchEntries = 10;
constexpr size_t kMaxBatchBytes = 262'144;


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

// An error shape of the model as the protocol layer writes it.
aws::ServiceError sqs_error(const std::string& shape, std::string message) {
  WireError w = wire_error(shape);
  aws::ServiceError e(w.sender ? w.status : std::max(w.status, 500u), shape, std::move(message));
  if (w.code != shape) e.query_code = w.code;
  return e;
}
// The error shape of each refusal of the queue service.
const char* shape_of(Refusal r) {
  switch (r) {
    case Refusal::kNoSuchQueue:
      return "QueueDoesNotExist";
    case Refusal::kNameTaken:
      return "QueueNameExists";
    case Refusal::kInvalidParameter:
      return "InvalidParameterValue";
    case Refusal::kMissingParameter:
      return "MissingParameter";
    case Refusal::kUnknownAttribute:
      return "InvalidAttributeName";
    case Refusal::kInvalidAttributeValue:
      return "InvalidAttributeValue";
    case Refusal::kInvalidMessageContents:
      return "InvalidMessageContents";
    case Refusal::kInvalidReceipt:
      return "ReceiptHandleIsInvalid";
    case Refusal::kNotInFlight:
      return "MessageNotInflight";
    case Refusal::kPurgeInProgress:
      return "PurgeQueueInProgress";
    case Refusal::kUnavailable:
      break;
  }
  return "ServiceUnavailable";
}
aws::ServiceError sqs_error(const QueueError& e) { return sqs_error(shape_of(e.code), e.message); }

// The value of a queue operation, or its refusal thrown as the SQS error.
template <class T>
T unwrap(queue::QueueResult<T>&& r) {
  if (!r) throw sqs_error(r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

[[noreturn]] void fail(const char* shape, const std::string& message) {
  throw sqs_error(shape, message);
}

// --- The query protocol's form, turned into the JSON protocol's input shape. -------------

json::object normalize(json::object in);

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
               key == "MessageSystemAttributeName" || key == "TagKey") {
      out[key + "s"] = list_of(v);
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

queue::MessageAttributes message_attributes(const json::object& in) {
  queue::MessageAttributes out;
  const auto* v = in.if_contains("MessageAttributes");
  if (!v || v->is_null()) return out;
  if (!v->is_object()) fail("InvalidParameterValue", "MessageAttributes must be a map.");
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
  json::object out;
  for (const auto& [k, a] : attrs) {
    json::object v{{"DataType", a.data_type}};
    if (a.data_type.rfind("Binary", 0) == 0) {
      v["BinaryValue"] = base64_encode(a.binary_value);
    } else {
      v["StringValue"] = a.string_value;
    }
    out[k] = std::move(v);
  }
  return out;
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

void xml_value(std::string& out, const std::string& name, const json::value& v,
               const std::string& op);

void xml_members(std::string& out, const json::object& o, const std::string& op) {
  for (const auto& [k, v] : o) xml_value(out, std::string(k), v, op);
}

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

aws::ServiceInfo SqsApi::info() {
  aws::ServiceInfo s;
  s.name = "sqs";
  s.protocol = aws::Protocol::kQuery;
  s.target_prefix = kTargetPrefix;
  s.json_version = "1.0";
  s.type_prefix = "com.amazonaws.sqs#";
  s.xmlns = kXmlns;
  s.unknown_json_code = "UnsupportedOperation";
  s.empty_result_ops = {"ReceiveMessage", "ListQueues", "GetQueueAttributes", "ListQueueTags"};
  s.query_writer = [](std::string& out, std::string_view op, const json::object& result) {
    xml_members(out, result, std::string(op));
  };
  return s;
}

SqsApi::SqsApi(queue::QueueService& queues, asio::thread_pool& pool, std::string default_host)
    : queues_(queues),
      pool_(pool),
      default_host_(std::move(default_host)),
      service_(info(), pool) {
  using Handler = Output (SqsApi::*)(const Input&, const http::Request&);
  static const std::pair<const char*, Handler> kOps[] = {
      {"CreateQueue", &SqsApi::create_queue},
      {"GetQueueUrl", &SqsApi::get_queue_url},
      {"ListQueues", &SqsApi::list_queues},
      {"DeleteQueue", &SqsApi::delete_queue},
      {"GetQueueAttributes", &SqsApi::get_queue_attributes},
      {"SetQueueAttributes", &SqsApi::set_queue_attributes},
      {"SendMessage", &SqsApi::send_message},
      {"SendMessageBatch", &SqsApi::send_message_batch},
      {"DeleteMessage", &SqsApi::delete_message},
      {"DeleteMessageBatch", &SqsApi::delete_message_batch},
      {"ChangeMessageVisibility", &SqsApi::change_message_visibility},
      {"ChangeMessageVisibilityBatch", &SqsApi::change_message_visibility_batch},
      {"PurgeQueue", &SqsApi::purge_queue},
      {"ListQueueTags", &SqsApi::list_queue_tags},
      {"TagQueue", &SqsApi::tag_queue},
      {"UntagQueue", &SqsApi::untag_queue},
      {"ListDeadLetterSourceQueues", &SqsApi::list_dead_letter_source_queues},
      {"AddPermission", &SqsApi::permissions},
      {"RemovePermission", &SqsApi::permissions},
  };
  for (const auto& [name, handler] : kOps) {
    service_.add(name, [this, handler = handler](aws::Call& c) -> aws::Output {
      if (c.protocol == aws::Protocol::kQuery) c.input = normalize(std::move(c.input));
      return (this->*handler)(c.input, c.req);
    });
  }
  service_.add_async("ReceiveMessage", [this](aws::Call& c) -> asio::awaitable<aws::Output> {
    if (c.protocol == aws::Protocol::kQuery) c.input = normalize(std::move(c.input));
    co_return co_await receive(c.input, c.req);
  });
}

void SqsApi::add_to(aws::Endpoint& endpoint) {
  endpoint.add(service_);
  endpoint.add_query_path("/" + queues_.identity().account_id + "/{QueueName}", service_);
}

void SqsApi::stop() {
  stopping_ = true;
  queues_.wake_all();
}

json::object SqsApi::permissions(const json::object&, const http::Request&) {
  // AddPermission / RemovePermission: there is no IAM here to grant anything to.
  fail("UnsupportedOperation",
       "AddPermission and RemovePermission are not supported: this server has no cross-account "
       "access to grant.");
}

std::string SqsApi::queue_url(const http::Request& req, const std::string& name) const {
  return fmt::format("http://{}/{}/{}", req.header("host").value_or(default_host_),
                     queues_.identity().account_id, name);
}

std::string SqsApi::queue_name(const json::object& in, const http::Request& req) const {
  std::string url = get_string(in, "QueueUrl");
  std::string account, name;
  if (url.empty()) {
    if (req.segments.size() != 2) {
      fail("MissingParameter", "The request must contain the parameter QueueUrl.");
    }
    account = req.segments[0];
    name = req.segments[1];
  } else {
    // http(s)://host[:port]/<account>/<name>, or (as SQS also accepts) just the name's path.
    std::string path = url;
    if (auto scheme = url.find("://"); scheme != std::string::npos) {
      auto slash = url.find('/', scheme + 3);
      path = slash == std::string::npos ? "" : url.substr(slash);
    }
    while (!path.empty() && path.back() == '/') path.pop_back();
    auto last = path.rfind('/');
    if (last == std::string::npos || last == 0) {
      fail("QueueDoesNotExist", "The specified queue does not exist.");
    }
    name = path.substr(last + 1);
    auto prev = path.rfind('/', last - 1);
    account = path.substr(prev == std::string::npos ? 0 : prev + 1,
                          last - (prev == std::string::npos ? 0 : prev + 1));
  }
  if (account != queues_.identity().account_id || name.empty()) {
    fail("QueueDoesNotExist", "The specified queue does not exist.");
  }
  return name;
}

json::object SqsApi::create_queue(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = require(in, "QueueName");
  unwrap(queues_.create_queue(name, string_map(in, "Attributes"), string_map(in, "tags")));
  out["QueueUrl"] = queue_url(req, name);
  return out;
}

json::object SqsApi::get_queue_url(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = require(in, "QueueName");
  std::string owner = get_string(in, "QueueOwnerAWSAccountId");
  if (!queues_.exists(name) || (!owner.empty() && owner != queues_.identity().account_id)) {
    fail("QueueDoesNotExist", "The specified queue does not exist.");
  }
  out["QueueUrl"] = queue_url(req, name);
  return out;
}

json::object SqsApi::list_queues(const json::object& in, const http::Request& req) {
  json::object out;
  auto names = queues_.list_queues(get_string(in, "QueueNamePrefix"));
  auto max = get_int(in, "MaxResults");
  if (max && (*max < 1 || *max > 1000)) {
    fail("InvalidParameterValue",
         fmt::format("Value {} for parameter MaxResults is invalid. Reason: Must be between 1 "
                     "and 1000.",
                     *max));
  }
  std::string after = get_string(in, "NextToken");
  json::array urls;
  std::string last, next;
  for (const auto& n : names) {
    if (!after.empty() && n <= after) continue;
    if (!max && urls.size() == 1000) break;  // unpaged: the first 1,000, as SQS
    if (max && static_cast<int64_t>(urls.size()) == *max) {
      next = last;
      break;
    }
    urls.emplace_back(queue_url(req, n));
    last = n;
  }
  if (!urls.empty()) out["QueueUrls"] = std::move(urls);
  if (!next.empty()) out["NextToken"] = next;
  return out;
}

json::object SqsApi::delete_queue(const json::object& in, const http::Request& req) {
  json::object out;
  unwrap(queues_.delete_queue(queue_name(in, req)));
  return out;
}

json::object SqsApi::get_queue_attributes(const json::object& in, const http::Request& req) {
  json::object out;
  auto names = string_list(in, "AttributeNames");
  auto attrs = unwrap(queues_.get_attributes(queue_name(in, req), names));
  if (!attrs.empty()) out["Attributes"] = map_json(attrs);
  return out;
}

json::object SqsApi::set_queue_attributes(const json::object& in, const http::Request& req) {
  json::object out;
  unwrap(queues_.set_attributes(queue_name(in, req), string_map(in, "Attributes")));
  return out;
}

json::object SqsApi::send_message(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = queue_name(in, req);
  queue::SendInput s;
  s.body = get_string(in, "MessageBody");
  s.delay_seconds = get_int(in, "DelaySeconds").value_or(-1);
  if (s.delay_seconds < -1 || (get_int(in, "DelaySeconds") && s.delay_seconds < 0)) {
    fail("InvalidParameterValue",
         "Value for parameter DelaySeconds is invalid. Reason: must be >= 0.");
  }
  s.attributes = message_attributes(in);
  auto r = unwrap(queues_.send(name, s));
  out["MD5OfMessageBody"] = r.md5_body;
  if (!r.md5_attributes.empty()) out["MD5OfMessageAttributes"] = r.md5_attributes;
  out["MessageId"] = r.message_id;
  return out;
}

json::object SqsApi::send_message_batch(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = queue_name(in, req);
  const auto& entries = batch_entries(in, "SendMessageBatchRequestEntry");
  std::vector<queue::SendInput> inputs;
  std::vector<std::string> ids;
  json::array failed;
  size_t total = 0;
  for (const auto& e : entries) {
    const auto& o = e.as_object();
    std::string id = get_string(o, "Id");
    try {
      queue::SendInput s;
      s.body = get_string(o, "MessageBody");
      s.delay_seconds = get_int(o, "DelaySeconds").value_or(-1);
      s.attributes = message_attributes(o);
      total += s.body.size();
      for (const auto& [k, a] : s.attributes) {
        total += k.size() + a.data_type.size() + a.string_value.size() + a.binary_value.size();
      }
      inputs.push_back(std::move(s));
      ids.push_back(id);
    } catch (const aws::ServiceError& err) {
      failed.push_back(error_entry(id, err));
    }
  }
  if (total > kMaxBatchBytes) {
    fail("BatchRequestTooLong",
         fmt::format("Batch requests cannot be longer than {} bytes. You have sent {} bytes.",
                     kMaxBatchBytes, total));
  }
  auto results = inputs.empty() ? std::vector<queue::QueueService::BatchItem>{}
                                : unwrap(queues_.send_batch(name, inputs));
  json::array ok;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].error) {
      failed.push_back(error_entry(ids[i], *results[i].error));
      continue;
    }
    json::object s{{"Id", ids[i]},
                   {"MessageId", results[i].ok->message_id},
                   {"MD5OfMessageBody", results[i].ok->md5_body}};
    if (!results[i].ok->md5_attributes.empty()) {
      s["MD5OfMessageAttributes"] = results[i].ok->md5_attributes;
    }
    ok.push_back(std::move(s));
  }
  out["Successful"] = std::move(ok);
  out["Failed"] = std::move(failed);
  return out;
}

json::object SqsApi::delete_message(const json::object& in, const http::Request& req) {
  json::object out;
  unwrap(queues_.delete_message(queue_name(in, req), require(in, "ReceiptHandle")));
  return out;
}

json::object SqsApi::delete_message_batch(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = queue_name(in, req);
  const auto& entries = batch_entries(in, "DeleteMessageBatchRequestEntry");
  std::vector<std::string> receipts;
  for (const auto& e : entries) receipts.push_back(get_string(e.as_object(), "ReceiptHandle"));
  auto results = unwrap(queues_.delete_batch(name, receipts));
  batch_outcome(out, entries, results);
  return out;
}

json::object SqsApi::change_message_visibility(const json::object& in, const http::Request& req) {
  json::object out;
  auto seconds = get_int(in, "VisibilityTimeout");
  if (!seconds)
    fail("MissingParameter", "The request must contain the parameter VisibilityTimeout.");
  std::string name = queue_name(in, req);
  unwrap(queues_.change_visibility(name, require(in, "ReceiptHandle"), *seconds));
  return out;
}

json::object SqsApi::change_message_visibility_batch(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = queue_name(in, req);
  const auto& entries = batch_entries(in, "ChangeMessageVisibilityBatchRequestEntry");
  std::vector<std::pair<std::string, int64_t>> changes;
  for (const auto& e : entries) {
    changes.emplace_back(get_string(e.as_object(), "ReceiptHandle"),
                         get_int(e.as_object(), "VisibilityTimeout").value_or(-1));
  }
  auto results = unwrap(queues_.change_visibility_batch(name, changes));
  batch_outcome(out, entries, results);
  return out;
}

json::object SqsApi::purge_queue(const json::object& in, const http::Request& req) {
  json::object out;
  unwrap(queues_.purge(queue_name(in, req)));
  return out;
}

json::object SqsApi::list_queue_tags(const json::object& in, const http::Request& req) {
  json::object out;
  auto tags = unwrap(queues_.tags(queue_name(in, req)));
  if (!tags.empty()) out["Tags"] = map_json(tags);
  return out;
}

json::object SqsApi::tag_queue(const json::object& in, const http::Request& req) {
  json::object out;
  unwrap(queues_.tag(queue_name(in, req), string_map(in, "Tags")));
  return out;
}

json::object SqsApi::untag_queue(const json::object& in, const http::Request& req) {
  json::object out;
  unwrap(queues_.untag(queue_name(in, req), string_list(in, "TagKeys")));
  return out;
}

json::object SqsApi::list_dead_letter_source_queues(const json::object& in, const http::Request& req) {
  json::object out;
  json::array urls;
  for (const auto& n : unwrap(queues_.dead_letter_sources(queue_name(in, req)))) {
    urls.emplace_back(queue_url(req, n));
  }
  out["queueUrls"] = std::move(urls);
  return out;
}

asio::awaitable<json::object> SqsApi::receive(const json::object& in, const http::Request& req) {
  std::string name = queue_name(in, req);
  queue::ReceiveInput r;
  auto max = get_int(in, "MaxNumberOfMessages");
  if (max && (*max < 1 || *max > 10)) {
    fail("InvalidParameterValue",
         fmt::format("Value {} for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                     "between 1 and 10, if provided.",
                     *max));
  }
  r.max = static_cast<size_t>(max.value_or(1));
  auto visibility = get_int(in, "VisibilityTimeout");
  if (visibility && (*visibility < 0 || *visibility > 43'200)) {
    fail("InvalidParameterValue",
         fmt::format("Value {} for parameter VisibilityTimeout is invalid. Reason: Must be "
                     "between 0 and 43200, if provided.",
                     *visibility));
  }
  r.visibility = visibility.value_or(-1);
  auto wait = get_int(in, "WaitTimeSeconds");
  if (wait && (*wait < 0 || *wait > 20)) {
    fail("InvalidParameterValue",
         fmt::format("Value {} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 "
                     "and <= 20, if provided.",
                     *wait));
  }
  r.attribute_names = string_list(in, "AttributeNames");
  for (const auto& n : string_list(in, "MessageSystemAttributeNames"))
    r.attribute_names.push_back(n);
  r.message_attribute_names = string_list(in, "MessageAttributeNames");
  // Without WaitTimeSeconds the queue's ReceiveMessageWaitTimeSeconds applies; the first receive
  // says which it is.
  r.wait_seconds = wait.value_or(-1);
  auto start = std::chrono::steady_clock::now();
  auto waiter = std::make_shared<queue::TimerWaiter>(co_await asio::this_coro::executor);
  std::vector<queue::ReceivedMessage> got;
  bool registered = false;  // some receive came back empty with the waiter registered
  for (;;) {
    int64_t next_visible = 0;
    int64_t wait_seconds = 0;
    auto work = [this, &name, &r, waiter, &next_visible, &wait_seconds] {
      return unwrap(queues_.receive(name, r, waiter, &next_visible, &wait_seconds));
    };
    got = co_await offload(pool_, std::move(work));
    r.wait_seconds = wait_seconds;
    registered |= got.empty() && wait_seconds > 0;
    auto deadline = start + std::chrono::seconds(wait_seconds);
    auto now = std::chrono::steady_clock::now();
    if (!got.empty() || now >= deadline || stopping_) break;
    auto until = deadline;
    if (next_visible > 0) {
      auto at = now + std::chrono::milliseconds(std::max<int64_t>(0, next_visible - now_ms()) + 1);
      until = std::min(until, at);
    }
    co_await waiter->wait(until);
  }
  if (registered) {
    auto forget = [this, &name, waiter] {
      queues_.unwatch(name, waiter);
      return true;
    };
    co_await offload(pool_, std::move(forget));
  }
  json::object out;
  json::array messages;
  for (const auto& m : got) {
    json::object o{{"MessageId", m.message_id},
                   {"ReceiptHandle", m.receipt_handle},
                   {"MD5OfBody", m.md5_body},
                   {"Body", m.body}};
    if (!m.attributes.empty()) o["Attributes"] = map_json(m.attributes);
    if (!m.message_attributes.empty()) {
      o["MD5OfMessageAttributes"] = m.md5_attributes;
      o["MessageAttributes"] = attributes_json(m.message_attributes);
    }
    messages.push_back(std::move(o));
  }
  if (!messages.empty()) out["Messages"] = std::move(messages);
  co_return out;
}

}  // namespace lambent::sqs

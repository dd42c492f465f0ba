#include "services/sqs/sqs_api.h"

#include "iam/policy.h"

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
#include "services/sqs/wire.h"

namespace lambent::sqs {
namespace json = boost::json;
namespace asio = boost::asio;
using queue::QueueError;

namespace {

constexpr const char* kXmlns = "http://queue.amazonaws.com/doc/2012-11-05/";
constexpr const char* kTargetPrefix = "AmazonSQS.";
constexpr size_t kMaxBatchBytes = 1'048'576;  // SQS's limit since 2025, as for one message

// What a send carries besides its body and attributes: FIFO's group and deduplication ids, the
// X-Ray trace header (MessageSystemAttributes, else the request's X-Amzn-Trace-Id) and who sent.
void send_extras(const json::object& in, const http::Request& req, queue::SendInput& s) {
  s.group_id = get_string(in, "MessageGroupId");
  s.dedup_id = get_string(in, "MessageDeduplicationId");
  auto system = message_attributes(in, "MessageSystemAttributes");
  for (const auto& [name, a] : system) {
    if (name != "AWSTraceHeader") {
      fail("InvalidParameterValue", "Message system attribute name '" + name +
                                        "' is invalid. Only AWSTraceHeader is " + "supported.");
    }
    if (a.data_type != "String" || a.string_value.empty()) {
      fail("InvalidParameterValue",
           "Message system attribute AWSTraceHeader must be of type String and not empty.");
    }
    s.trace_header = a.string_value;
  }
  if (s.trace_header.empty()) s.trace_header = req.header("x-amzn-trace-id").value_or("");
  if (auto caller = aws::caller_of(req)) s.sender_id = caller->user_id;
}

}  // namespace

aws::ServiceInfo SqsApi::info() {
  return {
      .name = "sqs",
      .protocol = aws::Protocol::kQuery,
      .target_prefix = kTargetPrefix,
      .json_version = "1.0",
      .type_prefix = "com.amazonaws.sqs#",
      .xmlns = kXmlns,
      .unknown_json_code = "UnsupportedOperation",
      .empty_result_ops = {"ReceiveMessage", "ListQueues", "GetQueueAttributes", "ListQueueTags"},
      .query_writer = [](std::string& out, std::string_view op, const json::object& result) {
        xml_members(out, result, std::string(op));
      }};
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
      {"AddPermission", &SqsApi::add_permission},
      {"RemovePermission", &SqsApi::remove_permission},
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

void SqsApi::protect(
    aws::Guard* guard,
    const std::function<void(std::function<std::optional<std::string>(std::string_view)>)>&
        policies) {
  if (!guard) return;
  service_.set_guard(guard);
  service_.set_access([this](const aws::Call& c) -> std::vector<aws::Access> {
    const std::string action = "sqs:" + c.operation;
    if (c.operation == "ListQueues") return {{action, "*", {}}};
    std::string name = c.operation == "CreateQueue" || c.operation == "GetQueueUrl"
                           ? get_string(c.input, "QueueName")
                           : queue_name(c.input, c.req);
    return {{action, queues_.identity().queue_arn(name), {}}};
  });
  policies([this](std::string_view arn) -> std::optional<std::string> {
    std::string name(arn.substr(arn.rfind(':') + 1));
    auto attrs = queues_.get_attributes(name, {"Policy"});
    if (!attrs) return std::nullopt;
    auto it = attrs->find("Policy");
    if (it == attrs->end() || it->second.empty()) return std::nullopt;
    return it->second;
  });
}

void SqsApi::stop() {
  stopping_ = true;
  queues_.wake_all();
}

json::object SqsApi::add_permission(const json::object& in, const http::Request& req) {
  std::string name = queue_name(in, req);
  unwrap(queues_.add_permission(name, require(in, "Label"), string_list(in, "AWSAccountIds"),
                                string_list(in, "Actions")));
  return {};
}

json::object SqsApi::remove_permission(const json::object& in, const http::Request& req) {
  unwrap(queues_.remove_permission(queue_name(in, req), require(in, "Label")));
  return {};
}

std::string SqsApi::queue_url(const http::Request& req, const std::string& name) const {
  return fmt::format("{}://{}/{}/{}", req.secure ? "https" : "http",
                     req.header("host").value_or(default_host_), queues_.identity().account_id,
                     name);
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

namespace {
// A queue policy must be a resource policy IAM accepts (SQS: InvalidAttributeValue).
void check_policy(const std::map<std::string, std::string>& attributes) {
  auto it = attributes.find("Policy");
  if (it == attributes.end() || it->second.empty()) return;
  auto p = iam::parse_policy(it->second, iam::PolicyKind::kResource);
  if (!p)
    fail("InvalidAttributeValue",
         "Invalid value for the parameter Policy. Reason: " + p.error().message);
}
}  // namespace

json::object SqsApi::create_queue(const json::object& in, const http::Request& req) {
  json::object out;
  std::string name = require(in, "QueueName");
  auto attributes = string_map(in, "Attributes");
  check_policy(attributes);
  unwrap(queues_.create_queue(name, attributes, string_map(in, "tags")));
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
  unwrap(queues_.delete_queue(queue_name(in, req)));
  return {};
}

json::object SqsApi::get_queue_attributes(const json::object& in, const http::Request& req) {
  json::object out;
  auto names = string_list(in, "AttributeNames");
  auto attrs = unwrap(queues_.get_attributes(queue_name(in, req), names));
  if (!attrs.empty()) out["Attributes"] = map_json(attrs);
  return out;
}

json::object SqsApi::set_queue_attributes(const json::object& in, const http::Request& req) {
  auto attributes = string_map(in, "Attributes");
  check_policy(attributes);
  unwrap(queues_.set_attributes(queue_name(in, req), attributes));
  return {};
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
  send_extras(in, req, s);
  auto r = unwrap(queues_.send(name, s));
  out["MD5OfMessageBody"] = r.md5_body;
  if (!r.md5_attributes.empty()) out["MD5OfMessageAttributes"] = r.md5_attributes;
  out["MessageId"] = r.message_id;
  if (!r.sequence_number.empty()) out["SequenceNumber"] = r.sequence_number;
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
      send_extras(o, req, s);
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
    if (!results[i].ok->sequence_number.empty()) {
      s["SequenceNumber"] = results[i].ok->sequence_number;
    }
    ok.push_back(std::move(s));
  }
  out["Successful"] = std::move(ok);
  out["Failed"] = std::move(failed);
  return out;
}

json::object SqsApi::delete_message(const json::object& in, const http::Request& req) {
  unwrap(queues_.delete_message(queue_name(in, req), require(in, "ReceiptHandle")));
  return {};
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
  auto seconds = get_int(in, "VisibilityTimeout");
  if (!seconds)
    fail("MissingParameter", "The request must contain the parameter VisibilityTimeout.");
  std::string name = queue_name(in, req);
  unwrap(queues_.change_visibility(name, require(in, "ReceiptHandle"), *seconds));
  return {};
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
  unwrap(queues_.purge(queue_name(in, req)));
  return {};
}

json::object SqsApi::list_queue_tags(const json::object& in, const http::Request& req) {
  json::object out;
  auto tags = unwrap(queues_.tags(queue_name(in, req)));
  if (!tags.empty()) out["Tags"] = map_json(tags);
  return out;
}

json::object SqsApi::tag_queue(const json::object& in, const http::Request& req) {
  unwrap(queues_.tag(queue_name(in, req), string_map(in, "Tags")));
  return {};
}

json::object SqsApi::untag_queue(const json::object& in, const http::Request& req) {
  unwrap(queues_.untag(queue_name(in, req), string_list(in, "TagKeys")));
  return {};
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
  r.attempt_id = get_string(in, "ReceiveRequestAttemptId");
  if (!r.attempt_id.empty() && !queue::valid_fifo_token(r.attempt_id)) {
    fail("InvalidParameterValue",
         "Value " + r.attempt_id + " for parameter ReceiveRequestAttemptId is invalid. Reason: " +
             "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. " +
             "1 to 128 in length.");
  }
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

// What SQS accepts, and how messages are encoded: the queue attributes with their defaults and
// limits, queue names, message bodies and attributes (with MD5OfMessageAttributes), redrive
// policies. What SQS refuses comes back as a QueueError value: a Refusal (no wire names: the SQS
// service maps each to its error shape) and the message clients see.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

namespace lambent::queue {

// Why the queue service refused a request.
// The SQS service maps each to its error shape by position (services/sqs/wire.cc): a new one goes
// before kUnavailable, and its shape at the same position there (a static_assert counts them).
enum class Refusal {
  kNoSuchQueue,            // the queue does not exist
  kNameTaken,              // a queue of that name exists with other attributes
  kInvalidParameter,       // a parameter's value is out of range or malformed
  kMissingParameter,       // a required parameter is absent
  kUnknownAttribute,       // an attribute name the queue does not have
  kInvalidAttributeValue,  // an attribute's value is out of range
  kInvalidMessageContents, // the body has characters SQS does not carry
  kInvalidReceipt,         // a receipt handle that was never issued
  kNotInFlight,            // the message is not hidden by a receive
  kPurgeInProgress,        // a purge of the queue is less than 60 s old
  kUnavailable,            // the store failed
};

struct QueueError {
  Refusal code = Refusal::kUnavailable;
  std::string message;
};

template <class T>
using QueueResult = boost::system::result<T, QueueError>;

inline QueueError refuse(Refusal code, std::string message) {
  return QueueError{code, std::move(message)};
}
// boost::system::result finds this by ADL when .value() is called on an error: a bug.
[[noreturn]] void throw_exception_from_error(const QueueError& e,
                                             const boost::source_location& loc);

struct MessageAttribute {
  std::string data_type;     // String, Number, Binary, optionally ".custom"
  std::string string_value;  // String and Number
  std::string binary_value;  // Binary: the raw bytes
};
using MessageAttributes = std::map<std::string, MessageAttribute>;

// SQS's MD5OfMessageAttributes over the given attributes.
std::string attributes_md5(const MessageAttributes& attrs);

// Queue attributes set as integers: default and allowed range.
struct IntAttr {
  const char* name;
  int64_t def;
  int64_t min;
  int64_t max;
};
inline constexpr IntAttr kIntAttrs[] = {
    {"DelaySeconds", 0, 0, 900},
    {"MaximumMessageSize", 1'048'576, 1'024, 1'048'576},
    {"MessageRetentionPeriod", 345'600, 60, 1'209'600},
    {"ReceiveMessageWaitTimeSeconds", 0, 0, 20},
    {"VisibilityTimeout", 30, 0, 43'200},
    {"KmsDataKeyReusePeriodSeconds", 300, 60, 86'400},
};
// Settable attributes kept as given.
inline constexpr const char* kTextAttrs[] = {"RedrivePolicy", "RedriveAllowPolicy", "Policy",
                                             "KmsMasterKeyId", "SqsManagedSseEnabled"};
inline constexpr const char* kReadOnlyAttrs[] = {"ApproximateNumberOfMessages",
                                                 "ApproximateNumberOfMessagesNotVisible",
                                                 "ApproximateNumberOfMessagesDelayed",
                                                 "CreatedTimestamp",
                                                 "LastModifiedTimestamp",
                                                 "QueueArn"};
// FIFO queues' own attributes (FifoQueue is set only when the queue is created).
inline constexpr const char* kFifoAttrs[] = {"FifoQueue", "ContentBasedDeduplication",
                                             "DeduplicationScope", "FifoThroughputLimit"};
const IntAttr* int_attr(const std::string& name);  // nullptr for other names
bool text_attr(const std::string& name);
bool fifo_attr(const std::string& name);
// A FIFO queue's attribute value as in effect (its default when unset).
std::string fifo_default(const std::string& name);

// FIFO queues are the ones whose name ends in .fifo (SQS ties the two together).
inline bool is_fifo_name(std::string_view name) { return name.ends_with(".fifo"); }

// A decimal integer (no sign but '-', no spaces), or nullopt.
std::optional<int64_t> parse_int(const std::string& s);

// 1..max characters of [A-Za-z0-9_-]: queue names and batch entry ids.
bool valid_name(std::string_view s, size_t max = 80);
// kInvalidParameter for a malformed name: `fifo` (FifoQueue "true" asked) needs the .fifo
// suffix, a standard queue may not have it.
QueueResult<void> check_queue_name(const std::string& name, bool fifo);
// Validates settable attributes (unknown names, ranges, an existing redrive target of the same
// kind, FIFO attributes only on FIFO queues and FifoQueue only at creation); returns them
// normalized.
struct AttributeCheck {
  std::function<bool(const std::string&)> queue_exists;
  std::function<std::string(const std::string&)> name_from_arn;
  bool fifo = false;      // the queue is (or is being created as) a FIFO queue
  bool creating = false;  // CreateQueue, not SetQueueAttributes
};
QueueResult<std::map<std::string, std::string>> check_attributes(
    const std::map<std::string, std::string>& in, const AttributeCheck& ctx);

// MessageGroupId and MessageDeduplicationId: 1-128 characters, alphanumeric or punctuation.
bool valid_fifo_token(std::string_view s);

struct Redrive {
  std::string target_arn;
  int64_t max_receive = 0;
};
// A RedrivePolicy's members (maxReceiveCount as number or string); nullopt when malformed.
std::optional<Redrive> parse_redrive(const std::string& text);

// SQS accepts #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, in valid UTF-8.
bool valid_message_text(std::string_view s);
// The first character SQS does not accept (a byte that is not valid UTF-8 counts as itself),
// or nullopt.
std::optional<uint32_t> first_invalid_char(std::string_view s);
// At most 10; names, types and values as SQS checks them.
QueueResult<void> check_message_attributes(const MessageAttributes& attrs);
// Stored form of message attributes (JSON; binary values base64).
std::string attributes_to_json(const MessageAttributes& attrs);
// Message attributes as a JSON object of {type: …, string or binary (base64): …} under the given
// member names: the stored form ("t", "s", "b") and SQS's ("DataType", "StringValue",
// "BinaryValue").
struct AttributeKeys {
  const char* type;
  const char* string;
  const char* binary;
};
boost::json::object attributes_object(const MessageAttributes& attrs, const AttributeKeys& keys);
MessageAttributes attributes_from_json(std::string_view text);
// Whether a name is selected by AttributeNames/MessageAttributeNames ("All", ".*", "prefix.*").
bool wanted(const std::vector<std::string>& names, const std::string& name);

}  // namespace lambent::queue

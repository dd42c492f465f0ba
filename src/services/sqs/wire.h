// SQS's wire specifics, shared by the service's handlers: its error shapes (the model's codes,
// statuses and awsQueryCompatible query codes, and the shape of each queue refusal), the query
// form's flattened members folded into the JSON protocol's input shape, readers of members that
// accept both protocols' types (strings in query, numbers in JSON), batch entries and their
// per-entry results, and the query protocol's XML with SQS's flattened lists and maps.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/error.h"
#include "queue/queue_service.h"

namespace lambent::sqs {

// The error shape `shape` of the SQS model, and the one a queue refusal maps to.
aws::ServiceError sqs_error(const std::string& shape, std::string message);
aws::ServiceError sqs_error(const queue::QueueError& e);
[[noreturn]] void fail(const char* shape, const std::string& message);

// The value of a queue operation, or its refusal thrown as the SQS error.
template <class T>
T unwrap(queue::QueueResult<T>&& r) {
  if (!r) throw sqs_error(r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

// The query protocol's form tree ("Attribute.1.Name" lists) in the JSON protocol's input shape.
boost::json::object normalize(boost::json::object in);

std::string get_string(const boost::json::object& in, const char* key);
std::optional<int64_t> get_int(const boost::json::object& in, const char* key);
std::string require(const boost::json::object& in, const char* key);  // MissingParameter
std::map<std::string, std::string> string_map(const boost::json::object& in, const char* key);
std::vector<std::string> string_list(const boost::json::object& in, const char* key);
// MessageAttributes (or, with `key`, MessageSystemAttributes) of a send.
queue::MessageAttributes message_attributes(const boost::json::object& in,
                                            const char* key = "MessageAttributes");
boost::json::object attributes_json(const queue::MessageAttributes& attrs);
boost::json::object map_json(const std::map<std::string, std::string>& m);

// Batch entries: 1..10, distinct well-formed ids.
const boost::json::array& batch_entries(const boost::json::object& in, const char* entry_name);
boost::json::object error_entry(const std::string& id, const aws::ServiceError& e);
boost::json::object error_entry(const std::string& id, const queue::QueueError& e);
// DeleteMessageBatch's and ChangeMessageVisibilityBatch's answer: each entry's Id in Successful
// or, with its error, in Failed.
void batch_outcome(boost::json::object& out, const boost::json::array& entries,
                   const std::vector<std::optional<queue::QueueError>>& results);

// A result's members as the query protocol's XML (SQS's lists and maps are flattened).
void xml_members(std::string& out, const boost::json::object& o, const std::string& op);

}  // namespace lambent::sqs

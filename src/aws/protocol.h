// What every AWS protocol Lambent speaks shares: a service's description (its signing name and
// the protocol details clients rely on), the error wire shape of each protocol, success bodies
// of the RPC protocols, and the query protocol's form, read into the same tree a JSON body gives.
//
//   rest-json  Lambda                 x-amzn-ErrorType + {"Type", "message"}
//   json 1.x   SQS, Logs, EventBridge X-Amz-Target; {"__type", "message"} (+ x-amzn-query-error)
//   query      SQS, CloudWatch, IAM,  Action= form; <ErrorResponse><Error><Type><Code><Message>
//              STS, SNS
//   rest-xml   S3, CloudFront         <Error><Code><Message><RequestId>
//
// The shapes follow botocore's parsers (botocore/parsers.py) and the service models in
// python3-botocore, which is what clients parse with.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/error.h"
#include "base/error.h"
#include "http/message.h"

namespace lambent::aws {

enum class Protocol { kRestJson, kJson, kQuery, kRestXml };

struct ServiceInfo {
  std::string name;  // the signing name in credential scopes: lambda, sqs, logs, monitoring
  Protocol protocol = Protocol::kRestJson;  // the main one; an RPC service may speak both
                                            // JSON and query (SQS)
  // JSON: the X-Amz-Target prefix ("AmazonSQS."), the JSON version ("1.0"/"1.1") and the
  // prefix of "__type" ("com.amazonaws.sqs#", or "" for the bare shape name).
  std::string target_prefix;
  std::string json_version = "1.1";
  std::string type_prefix;
  // Query: the namespace of response elements. Non-empty means the service speaks query.
  std::string xmlns;
  // The error code of an operation the service does not have.
  std::string unknown_json_code = "UnknownOperationException";
  std::string unknown_query_code = "InvalidAction";
  // Query: operations whose <OpResult> element is written even when empty.
  std::set<std::string, std::less<>> empty_result_ops;
  // Query: writes an operation's result members as XML. Default: write_query_members (lists as
  // <member> elements); services with flattened lists (SQS) bring their own.
  std::function<void(std::string& out, std::string_view op, const boost::json::object& result)>
      query_writer;
  // The prefix of the service's IAM actions ("cloudwatch" for monitoring); "" = the name.
  std::string iam_prefix;
  // Requests signed further than this from now are refused (Lambda: 5 min; most: 15 min).
  int64_t skew_seconds = 900;
  // Signed for a global service in us-east-1 whatever the node's region (IAM, STS, CloudFront).
  bool global = false;
  // The query protocol's code for an authorization refusal (SNS says AuthorizationError).
  std::string access_denied_query_code = "AccessDenied";
};

// The error in the wire shape of `protocol` (a service speaking JSON and query answers each
// request in the protocol it came in).
http::Response error_response(const ServiceInfo& service, Protocol protocol,
                              const ServiceError& e, std::string_view request_id);

// An internal failure as clients see it: 500 with the protocol's generic code; the detail goes
// to the server log only.
ServiceError internal_error();

// A successful JSON-protocol answer.
http::Response json_response(const ServiceInfo& service, const boost::json::object& result);
// A successful query-protocol answer: <OpResponse><OpResult>...</OpResult><ResponseMetadata>.
// `result_xml` is the content of the result element.
http::Response query_response(const ServiceInfo& service, std::string_view op,
                              std::string_view result_xml, std::string_view request_id);

// Query results, generically: members as elements, lists as <member> items, maps as
// <entry><key/><value/></entry> (marked by the caller as json objects under `maps`), booleans
// as true/false, numbers as written.
void write_query_members(std::string& out, const boost::json::object& result);

// A query-protocol request: Action, and its other parameters both as given (decoded, in order)
// and as the tree the JSON protocol would carry ("Tags.member.1.Key" → {"Tags":[{"Key":…}]},
// "Attributes.entry.1.key/value" → {"Attributes":{key: value}}; flattened lists such as SQS's
// "Attribute.1.Name" → {"Attribute":[{"Name":…}]}). kInvalidArgument for a malformed form or
// list index (0, or above 1,000).
struct QueryForm {
  std::string action;
  std::string version;
  std::vector<std::pair<std::string, std::string>> params;  // without Action and Version
  boost::json::object tree;
};
Result<QueryForm> parse_query_form(std::string_view body);

// A string member of an operation's input, "" when absent or not a string.
std::string string_member(const boost::json::object& input, std::string_view key);

// The service name of a SigV4 Authorization header's credential scope
// ("Credential=AKID/20261201/us-east-1/sqs/aws4_request" → "sqs"), "" when absent.
std::string credential_scope_service(std::string_view authorization);

}  // namespace lambent::aws

// Operation tables and their dispatch, once for every service.
//
// An RPC service (JSON with X-Amz-Target, or the query protocol's Action=) is an RpcService: a
// table of operation name → handler. The Endpoint owns `POST /`, which every RPC service shares:
// it finds the service (the X-Amz-Target prefix; for a form, the credential scope's service name,
// else the one service that has the action) and lets the service run the operation, which reads
// the body strictly where its handler runs (a JSON object, or a form read into the same tree).
// A REST service (Lambda's rest-json, S3's rest-xml) is a RestService: routes of method and path
// pattern, each an operation. Either way a handler returns a value or throws ServiceError, which
// the dispatcher catches — the one place — and writes in the request's protocol; any other
// exception is an internal failure, logged and answered 500.
//
// Handlers run on the worker pool (`add`), or as coroutines on the I/O thread (`add_async`) for
// operations that wait without blocking (long polls, invocations).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aws/auth.h"
#include "aws/protocol.h"
#include "http/router.h"

namespace lambent::aws {

// One RPC request, as the handler sees it. The body is read into `input` (and `params`) where
// the handler runs: on the worker pool for `add`ed operations, so that a large body is never
// parsed on the I/O thread.
struct Call {
  http::Request& req;
  std::string operation;
  Protocol protocol;                 // kJson or kQuery: how the request came
  boost::json::object input;         // the JSON body, or the form as a tree
  std::vector<std::pair<std::string, std::string>> params;  // query: the form as given
};

// What an RPC handler returns: the output structure, written as JSON or, for query requests,
// by the service's query writer; or (query only) the result element's XML when the service
// writes it itself.
struct Output {
  Output() = default;
  Output(boost::json::object r) : result(std::move(r)) {}  // NOLINT: the usual case
  static Output xml(std::string text) {
    Output o;
    o.raw_xml = std::move(text);
    o.is_xml = true;
    return o;
  }
  boost::json::object result;
  std::string raw_xml;
  bool is_xml = false;
};

class RpcService final {
 public:
  using Sync = std::function<Output(Call&)>;
  using Async = std::function<boost::asio::awaitable<Output>(Call&)>;
  // What an operation asks to do, read from its input (default: the action <prefix>:<op> on
  // "*"). An empty list: the handler authorizes itself (authorize_more) or needs nothing.
  using AccessOf = std::function<std::vector<Access>(const Call&)>;

  RpcService(ServiceInfo info, boost::asio::thread_pool& pool);

  // Every request is authenticated and authorized by `guard` (null: not at all).
  void set_guard(Guard* guard) { guard_ = guard; }
  void set_access(AccessOf access) { access_ = std::move(access); }
  Guard* guard() const { return guard_; }

  void add(std::string operation, Sync handler);         // runs on the worker pool
  void add_async(std::string operation, Async handler);  // runs on the I/O thread

  const ServiceInfo& info() const { return info_; }
  bool has(std::string_view operation) const { return ops_.count(operation) != 0; }
  bool speaks_json() const { return !info_.target_prefix.empty(); }
  bool speaks_query() const { return !info_.xmlns.empty(); }

  // Runs one operation and writes its answer or error.
  boost::asio::awaitable<http::Response> call(Call call);
  http::Response error(Protocol protocol, const ServiceError& e,
                       std::string_view request_id) const {
    return error_response(info_, protocol, e, request_id);
  }

 private:
  struct Operation {
    Sync sync;
    Async async;
  };
  http::Response answer(const Call& call, const Output& out) const;

  // Authentication, the input, then authorization: where the handler runs.
  void prepare(Call& call) const;

  ServiceInfo info_;
  boost::asio::thread_pool& pool_;
  std::map<std::string, Operation, std::less<>> ops_;
  Guard* guard_ = nullptr;
  AccessOf access_;
};

// `POST /` and the other paths RPC services share.
class Endpoint final {
 public:
  void add(RpcService& service) { services_.push_back(&service); }
  // Query requests on another path go to `service` (SQS queue URLs: /<account>/<queue>).
  void add_query_path(std::string pattern, RpcService& service);
  void add_routes(http::Router& router, size_t body_limit);

 private:
  boost::asio::awaitable<http::Response> json_request(http::Request& req, RpcService& service);
  boost::asio::awaitable<http::Response> query_request(http::Request& req, RpcService* fixed);

  std::vector<RpcService*> services_;
  std::vector<std::pair<std::string, RpcService*>> query_paths_;
};

// A REST service: each route is an operation; the handler gets the request and returns the
// response.
class RestService final {
 public:
  using Sync = std::function<http::Response(http::Request&)>;
  using Async = std::function<boost::asio::awaitable<http::Response>(http::Request&)>;

  RestService(ServiceInfo info, boost::asio::thread_pool& pool)
      : info_(std::move(info)), pool_(pool) {}

  struct Route {
    const char* operation;
    const char* method;
    const char* pattern;
    size_t body_limit;
    const char* query_key = "";    // when set, matches only with this query parameter
    const char* query_value = "";  // ... and, when also set, this value
    bool open = false;             // served without authentication (health, signed URLs)
  };
  // What a route's request asks to do (by operation name); empty: the handler authorizes
  // itself with authorize_more once it has read the body.
  using AccessOf = std::function<std::vector<Access>(std::string_view operation, http::Request&)>;
  void set_guard(Guard* guard) { guard_ = guard; }
  void set_access(AccessOf access) { access_ = std::move(access); }
  // For handlers that authorize more after reading the body (CreateFunction: iam:PassRole).
  void authorize(const http::Request& req, const std::vector<Access>& accesses) const {
    authorize_more(guard_, info_, info_.protocol, req, accesses);
  }
  // The handler runs on the worker pool.
  void add(http::Router& router, const Route& route, Sync handler);
  // The handler runs on the I/O thread.
  void add_async(http::Router& router, const Route& route, Async handler);

  const ServiceInfo& info() const { return info_; }
  http::Response error(const ServiceError& e, std::string_view request_id) const {
    return error_response(info_, info_.protocol, e, request_id);
  }

 private:
  void check(const Route& route, http::Request& req) const;

  ServiceInfo info_;
  boost::asio::thread_pool& pool_;
  Guard* guard_ = nullptr;
  AccessOf access_;
};

}  // namespace lambent::aws

#include "aws/service.h"

#include <boost/json.hpp>

#include "base/log.h"
#include "base/offload.h"

namespace lambent::aws {
namespace asio = boost::asio;
namespace json = boost::json;

RpcService::RpcService(ServiceInfo info, asio::thread_pool& pool)
    : info_(std::move(info)), pool_(pool) {
  if (!info_.query_writer) info_.query_writer = [](std::string& out, std::string_view,
                                                   const json::object& r) {
    write_query_members(out, r);
  };
}

void RpcService::add(std::string operation, Sync handler) {
  ops_[std::move(operation)] = Operation{std::move(handler), nullptr};
}

void RpcService::add_async(std::string operation, Async handler) {
  ops_[std::move(operation)] = Operation{nullptr, std::move(handler)};
}

http::Response RpcService::answer(const Call& call, const Output& out) const {
  if (call.protocol == Protocol::kJson) return json_response(info_, out.result);
  if (out.is_xml) return query_response(info_, call.operation, out.raw_xml, call.req.request_id);
  std::string xml;
  info_.query_writer(xml, call.operation, out.result);
  return query_response(info_, call.operation, xml, call.req.request_id);
}

namespace {

// Reads the request body into the call: a JSON object (an empty body counts as {}), or the query
// form. Throws the protocol's error for a body that is neither.
void read_input(Call& call) {
  const std::string& body = call.req.body;
  if (call.protocol == Protocol::kJson) {
    boost::system::error_code ec;
    json::value v = body.empty() ? json::value(json::object()) : json::parse(body, ec);
    if (ec || !v.is_object()) {
      throw ServiceError(400, "SerializationException", "The request body is not a JSON object.");
    }
    call.input = std::move(v.as_object());
    return;
  }
  auto form = parse_query_form(body);
  if (!form) throw ServiceError(400, "MalformedQueryString", form.error().message);
  call.input = std::move(form->tree);
  call.params = std::move(form->params);
}

// The Action of a query form, found without parsing the rest ("" when absent).
std::string query_action(std::string_view form) {
  for (size_t at = 0; at <= form.size();) {
    size_t end = form.find('&', at);
    if (end == std::string_view::npos) end = form.size();
    std::string_view param = form.substr(at, end - at);
    if (param.starts_with("Action=")) return std::string(param.substr(7));
    at = end + 1;
  }
  return "";
}

}  // namespace

void RpcService::prepare(Call& call) const {
  authenticate_request(guard_, info_, call.req, call.protocol);
  read_input(call);
  if (!guard_) return;
  std::vector<Access> accesses;
  if (access_) {
    accesses = access_(call);
  } else {
    accesses.push_back(
        {(info_.iam_prefix.empty() ? info_.name : info_.iam_prefix) + ":" + call.operation,
         "*",
         {}});
  }
  authorize_more(guard_, info_, call.protocol, call.req, accesses);
}

asio::awaitable<http::Response> RpcService::call(Call call) {
  auto it = ops_.find(call.operation);
  if (it == ops_.end()) {
    try {
      authenticate_request(guard_, info_, call.req, call.protocol);
    } catch (const ServiceError& e) {
      co_return error(call.protocol, e, call.req.request_id);
    }
    const bool json = call.protocol == Protocol::kJson;
    co_return error(call.protocol,
                    ServiceError(400, json ? info_.unknown_json_code : info_.unknown_query_code,
                                 "The action " + call.operation + " is not valid for this endpoint."),
                    call.req.request_id);
  }
  // No co_await inside a catch handler (C++ forbids it): the outcome is kept and answered after.
  Output out;
  std::optional<ServiceError> failure;
  try {
    if (it->second.async) {
      prepare(call);
      out = co_await it->second.async(call);
    } else {
      auto work = [this, &call, &sync = it->second.sync] {  // named: offload.h
        prepare(call);
        return sync(call);
      };
      out = co_await offload(pool_, std::move(work));
    }
  } catch (const ServiceError& e) {
    failure = e;
  } catch (const std::exception& e) {
    log::error("{} {} {}: {}", info_.name, call.operation, call.req.request_id, e.what());
    failure = internal_error();
  }
  if (failure) co_return error(call.protocol, *failure, call.req.request_id);
  co_return answer(call, out);
}

void Endpoint::add_query_path(std::string pattern, RpcService& service) {
  query_paths_.emplace_back(std::move(pattern), &service);
}

asio::awaitable<http::Response> Endpoint::json_request(http::Request& req, RpcService& service) {
  const auto& info = service.info();
  std::string op = req.header("x-amz-target").value_or("").substr(info.target_prefix.size());
  // Named, not a temporary: GCC 12 destroys temporaries in a co_await expression twice.
  Call call{req, std::move(op), Protocol::kJson, {}, {}};
  co_return co_await service.call(std::move(call));
}

asio::awaitable<http::Response> Endpoint::query_request(http::Request& req, RpcService* fixed) {
  const std::string action = query_action(req.body);
  RpcService* service = fixed;
  if (!service) {
    // The credential scope names the service; without one, the service that has the action.
    std::string scope = credential_scope_service(req.header("authorization").value_or(""));
    for (RpcService* s : services_) {
      if (!s->speaks_query()) continue;
      if (!scope.empty() ? s->info().name == scope : s->has(action)) {
        service = s;
        break;
      }
    }
  }
  if (!service) {
    // Nobody has the action: answered in the shape of the first query service.
    for (RpcService* s : services_) {
      if (s->speaks_query()) {
        service = s;
        break;
      }
    }
  }
  if (!service) co_return http::Response{.status = 404};
  Call call{req, action, Protocol::kQuery, {}, {}};  // named: see json_request
  co_return co_await service->call(std::move(call));
}

void Endpoint::add_routes(http::Router& router, size_t body_limit) {
  auto route = [&](std::string name, std::string pattern) {
    http::Route r;
    r.name = std::move(name);
    r.method = "POST";
    r.pattern = std::move(pattern);
    r.body_limit = body_limit;
    return r;
  };
  for (RpcService* s : services_) {
    if (!s->speaks_json()) continue;
    http::Route r = route(s->info().name, "/");
    r.header_key = "x-amz-target";
    r.header_prefix = s->info().target_prefix;
    r.handler = [this, s](http::Request& req) { return json_request(req, *s); };
    router.add(std::move(r));
  }
  http::Route q = route("query", "/");
  q.handler = [this](http::Request& req) { return query_request(req, nullptr); };
  router.add(std::move(q));
  for (const auto& [pattern, s] : query_paths_) {
    http::Route r = route(s->info().name, pattern);
    r.handler = [this, s = s](http::Request& req) { return query_request(req, s); };
    router.add(std::move(r));
  }
}

namespace {
constexpr size_t kInlineDigestBytes = 64 * 1024;

http::Route http_route(const RestService::Route& route) {
  http::Route r;
  r.name = route.operation;
  r.method = route.method;
  r.pattern = route.pattern;
  r.body_limit = route.body_limit;
  r.query_key = route.query_key;
  r.query_value = route.query_value;
  return r;
}
}  // namespace

void RestService::check(const Route& route, http::Request& req) const {
  if (route.open || !guard_) return;
  authenticate_request(guard_, info_, req, info_.protocol);
  if (access_) authorize_more(guard_, info_, info_.protocol, req, access_(route.operation, req));
}

void RestService::add(http::Router& router, const Route& route, Sync handler) {
  http::Route r = http_route(route);
  r.handler = [this, route, handler = std::move(handler)](
                  http::Request& req) -> asio::awaitable<http::Response> {
    auto work = [this, &route, &handler, &req]() -> http::Response {
      try {
        check(route, req);
        return handler(req);
      } catch (const ServiceError& e) {
        return error(e, req.request_id);
      }
    };
    co_return co_await offload(pool_, std::move(work));
  };
  router.add(std::move(r));
}

void RestService::add_async(http::Router& router, const Route& route, Async handler) {
  http::Route r = http_route(route);
  r.handler = [this, route, handler = std::move(handler)](
                  http::Request& req) -> asio::awaitable<http::Response> {
    std::optional<ServiceError> failure;
    try {
      if (req.body.size() > kInlineDigestBytes) {
        // A large body is hashed on the worker pool, not on the I/O thread.
        auto work = [this, &route, &req]() -> std::optional<ServiceError> {
          try {
            check(route, req);
          } catch (const ServiceError& e) {
            return e;
          }
          return std::nullopt;
        };
        failure = co_await offload(pool_, std::move(work));
      } else {
        check(route, req);
      }
      if (!failure) co_return co_await handler(req);
    } catch (const ServiceError& e) {
      failure = e;
    }
    co_return error(*failure, req.request_id);
  };
  router.add(std::move(r));
}

}  // namespace lambent::aws

// Serving function URLs (function_url.h): the request as payload format 2.0, the invocation, and
// the function's answer as HTTP (compat §8).
#include <fmt/format.h>

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <ctime>

#include "aws/auth.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "http/stream.h"
#include "invoke/streaming.h"
#include "services/lambda/errors.h"
#include "services/lambda/function_url.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {

constexpr size_t kMaxPreludeBytes = 64 * 1024;
constexpr std::string_view kHttpIntegration = "application/vnd.awslambda.http-integration-response";

http::Response message(unsigned status, const char* error_type, const char* text) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.set_header("x-amzn-ErrorType", error_type);
  r.body = json::serialize(json::object{{"Message", text}});
  return r;
}
http::Response forbidden() { return message(403, "AccessDeniedException", "Forbidden"); }
http::Response bad_gateway() {
  return message(502, "InternalServerError", "Internal Server Error");
}

// Text bodies go to the function as strings; everything else base64-encoded, as AWS does.
bool text_content(const std::string& type) {
  std::string t = type.substr(0, type.find(';'));
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t.starts_with("text/") || t == "application/json" || t == "application/javascript" ||
         t == "application/xml" || t.ends_with("+json") || t.ends_with("+xml");
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

std::string clf_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  return buf;
}

std::string source_ip(const std::string& peer) {
  std::string ip = peer.substr(0, peer.rfind(':'));
  if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

bool listed(const std::vector<std::string>& list, std::string_view value, bool ignore_case) {
  for (const auto& x : list) {
    if (x == "*" || x == value) return true;
    if (ignore_case && x.size() == value.size() &&
        std::equal(x.begin(), x.end(), value.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

// Lambent answers CORS for the URL: the function's own Access-Control-* headers give way.
void apply_cors(const UrlCors& cors, const http::Request& req, http::Response& r) {
  std::erase_if(r.headers, [](const auto& h) {
    std::string n = h.first;
    for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n.starts_with("access-control-");
  });
  auto origin = req.header("origin");
  if (!origin || !listed(cors.allow_origins, *origin, false)) return;
  const bool any = listed(cors.allow_origins, "*", false) &&
                   std::find(cors.allow_origins.begin(), cors.allow_origins.end(), *origin) ==
                       cors.allow_origins.end();
  r.set_header("Access-Control-Allow-Origin", any && !cors.allow_credentials ? "*" : *origin);
  if (!any || cors.allow_credentials) r.set_header("Vary", "Origin");
  if (cors.allow_credentials) r.set_header("Access-Control-Allow-Credentials", "true");
  if (!cors.expose_headers.empty()) {
    r.set_header("Access-Control-Expose-Headers", join(cors.expose_headers));
  }
}

std::optional<http::Response> preflight(const UrlCors& cors, const http::Request& req) {
  auto origin = req.header("origin");
  auto method = req.header("access-control-request-method");
  if (req.method != "OPTIONS" || !origin || !method) return std::nullopt;
  http::Response r;
  r.status = 200;
  if (!listed(cors.allow_origins, *origin, false) || !listed(cors.allow_methods, *method, false)) {
    return r;  // no CORS headers: the browser refuses the request
  }
  apply_cors(cors, req, r);
  r.set_header("Access-Control-Allow-Methods",
               listed(cors.allow_methods, "*", false) ? *method : join(cors.allow_methods));
  if (auto asked = req.header("access-control-request-headers");
      asked && !cors.allow_headers.empty()) {
    r.set_header("Access-Control-Allow-Headers",
                 std::find(cors.allow_headers.begin(), cors.allow_headers.end(), "*") !=
                         cors.allow_headers.end()
                     ? *asked
                     : join(cors.allow_headers));
  } else if (!cors.allow_headers.empty()) {
    r.set_header("Access-Control-Allow-Headers", join(cors.allow_headers));
  }
  if (cors.max_age) r.set_header("Access-Control-Max-Age", std::to_string(*cors.max_age));
  return r;
}

// The function's answer, interpreted as AWS does: an object with statusCode gives the status,
// headers, cookies and body (base64-decoded when isBase64Encoded); any other JSON value is a
// 200 application/json body; anything else is a 502.
// `default_type`: the Content-Type when the headers name none.
http::Response from_payload(const std::string& payload,
                            const char* default_type = "application/json") {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec) return bad_gateway();
  http::Response r;
  r.status = 200;
  if (!v.is_object() || !v.as_object().contains("statusCode")) {
    r.content_type = "application/json";
    r.body = payload;
    return r;
  }
  const json::object& o = v.as_object();
  const json::value& code = o.at("statusCode");
  int64_t status = code.is_int64()    ? code.as_int64()
                   : code.is_uint64() ? static_cast<int64_t>(code.as_uint64())
                                      : -1;
  if (status < 100 || status > 599) return bad_gateway();
  r.status = static_cast<unsigned>(status);
  auto text = [](const json::value& x) -> std::optional<std::string> {
    if (x.is_string()) return std::string(x.as_string());
    if (x.is_number() || x.is_bool()) return json::serialize(x);
    return std::nullopt;
  };
  if (auto* h = o.if_contains("headers"); h && h->is_object()) {
    for (const auto& [k, val] : h->as_object()) {
      auto s = text(val);
      if (!s) return bad_gateway();
      if (s->find_first_of("\r\n") != std::string::npos) return bad_gateway();
      std::string name(k);
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") {
        continue;  // framing is the server's
      }
      if (lower == "content-type") {
        r.content_type = *s;
      } else {
        r.set_header(std::move(name), std::move(*s));
      }
    }
  }
  if (auto* c = o.if_contains("cookies"); c && c->is_array()) {
    for (const auto& cookie : c->as_array()) {
      if (!cookie.is_string() || cookie.as_string().find_first_of("\r\n") != json::string::npos) {
        return bad_gateway();
      }
      r.set_header("Set-Cookie", std::string(cookie.as_string()));
    }
  }
  if (auto* b = o.if_contains("body"); b && !b->is_null()) {
    std::string body = b->is_string() ? std::string(b->as_string()) : json::serialize(*b);
    auto* enc = o.if_contains("isBase64Encoded");
    if (enc && enc->is_bool() && enc->as_bool()) {
      auto decoded = base64_decode(body);
      if (!decoded) return bad_gateway();
      body = std::move(*decoded);
    }
    r.body = std::move(body);
  }
  if (r.content_type.empty()) r.content_type = default_type;
  return r;
}

// The HTTP answer of an invocation that answered whole: throttled 429, failed 502, else mapped.
http::Response buffered_answer(const invoke::InvokeResult& result) {
  if (result.status == invoke::InvokeResult::kThrottled) {
    return message(429, "TooManyRequestsException", "Rate Exceeded.");
  }
  if (result.status != invoke::InvokeResult::kOk ||
      result.outcome.kind != scheduler::Outcome::kSuccess) {
    return bad_gateway();
  }
  return from_payload(result.outcome.payload);
}

// A RESPONSE_STREAM URL's body: the function's pieces (after its HTTP prelude) as they come; a
// failure after the first byte cuts the response short (no last chunk), as on AWS.
class UrlStreamBody final : public http::BodySource {
 public:
  UrlStreamBody(std::unique_ptr<invoke::StreamingCall> call, std::string first)
      : call_(std::move(call)), current_(std::move(first)) {}
  boost::asio::awaitable<Result<std::string_view>> next() override {
    if (!current_.empty() && !sent_first_) {
      sent_first_ = true;
      co_return std::string_view(current_);
    }
    sent_first_ = true;
    for (;;) {
      auto piece = co_await call_->read();
      if (!piece) break;
      if (piece->empty()) continue;
      current_ = std::move(*piece);
      co_return std::string_view(current_);
    }
    const auto& result = *call_->result();
    if (result.status != invoke::InvokeResult::kOk ||
        result.outcome.kind != scheduler::Outcome::kSuccess) {
      co_return make_error(Errc::kIo, "the function failed while streaming its response");
    }
    co_return std::string_view();
  }

 private:
  std::unique_ptr<invoke::StreamingCall> call_;
  std::string current_;
  bool sent_first_ = false;
};

}  // namespace

std::optional<UrlCors> parse_url_cors(std::string_view text) {
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  UrlCors c;
  auto list = [&](const char* k, std::vector<std::string>& out) {
    if (auto* a = o.if_contains(k); a && a->is_array()) {
      for (const auto& x : a->as_array()) {
        if (x.is_string()) out.emplace_back(x.as_string());
      }
    }
  };
  if (auto* b = o.if_contains("AllowCredentials"); b && b->is_bool()) {
    c.allow_credentials = b->as_bool();
  }
  list("AllowHeaders", c.allow_headers);
  list("AllowMethods", c.allow_methods);
  list("AllowOrigins", c.allow_origins);
  list("ExposeHeaders", c.expose_headers);
  if (auto* m = o.if_contains("MaxAge"); m && m->is_int64()) c.max_age = m->as_int64();
  return c;
}

std::string url_id_of_host(std::string_view host) {
  size_t at = host.find(".lambda-url.");
  if (at != 32) return "";
  std::string_view id = host.substr(0, 32);
  for (char c : id) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)))) {
      return "";
    }
  }
  return std::string(id);
}

void FunctionUrlEndpoint::add_routes(http::Router& router) {
  router.add({.name = "FunctionUrl",
              .method = "",
              .pattern = "",
              .body_limit = 6 * 1024 * 1024,
              .handler = [this](http::Request& req) { return serve(req); },
              .claim =
                  [](const http::Request& r) {
                    if (r.segments.size() >= 3 && r.segments[0] == "_lambent" &&
                        r.segments[1] == "url") {
                      return true;
                    }
                    const std::string* host = r.find_header("host");
                    return host && !url_id_of_host(*host).empty();
                  }});
}

boost::asio::awaitable<http::Response> FunctionUrlEndpoint::serve(http::Request& req) {
  // Where the URL's id and the function's path are: the path form, else the Host.
  std::string url_id, raw_path, raw_query;
  size_t q = req.target.find('?');
  std::string_view target_path = std::string_view(req.target).substr(0, q);
  if (q != std::string::npos) raw_query = req.target.substr(q + 1);
  const std::string* host = req.find_header("host");
  if (req.segments.size() >= 3 && req.segments[0] == "_lambent" && req.segments[1] == "url") {
    url_id = req.segments[2];
    // "/_lambent/url/<id>" then the function's path ("/" when none).
    size_t prefix = std::string_view("/_lambent/url/").size() + req.segments[2].size();
    raw_path = target_path.size() > prefix ? std::string(target_path.substr(prefix)) : "/";
    if (raw_path.front() != '/') raw_path = "/" + raw_path;
  } else {
    url_id = host ? url_id_of_host(*host) : "";
    raw_path = std::string(target_path.empty() ? "/" : target_path);
  }
  auto target = lookup_(url_id);
  if (!target) co_return forbidden();

  // CORS preflight is Lambent's to answer (no invocation, no authorization, as on AWS).
  if (target->cors) {
    if (auto pre = preflight(*target->cors, req)) co_return std::move(*pre);
  }

  const std::string arn = names_.function_arn(target->function, target->qualifier);
  json::object context;
  if (guard_) {
    const std::vector<aws::Access> accesses{
        {"lambda:InvokeFunctionUrl", arn, {{"lambda:FunctionUrlAuthType", target->auth_type}}},
        {"lambda:InvokeFunction", arn, {{"lambda:InvokedViaFunctionUrl", "true"}}}};
    if (target->auth_type == "AWS_IAM") {
      try {
        aws::check_request(guard_, service_info(), aws::Protocol::kRestJson, req, accesses);
      } catch (const aws::ServiceError&) {
        co_return forbidden();
      }
      auto caller = aws::caller_of(req);
      context["authorizer"] =
          json::object{{"iam", json::object{{"accessKey", caller->access_key_id},
                                            {"accountId", caller->account},
                                            {"callerId", caller->user_id},
                                            {"cognitoIdentity", nullptr},
                                            {"principalOrgId", nullptr},
                                            {"userArn", caller->arn},
                                            {"userId", caller->user_id}}}};
      context["accountId"] = caller->account;
    } else {
      for (const auto& access : accesses) {
        if (guard_->authorize_anonymous(access, req)) co_return forbidden();
      }
    }
  } else if (target->auth_type == "AWS_IAM" && !req.find_header("authorization") &&
             !req.query_param("X-Amz-Signature")) {
    co_return forbidden();  // --auth open still wants the request signed
  }
  if (!context.contains("accountId")) context["accountId"] = "anonymous";

  // The event (payload format 2.0).
  json::object headers;
  json::array cookies;
  for (const auto& [name, value] : req.headers) {
    if (name == "cookie") {
      for (size_t at = 0; at < value.size();) {
        size_t semi = value.find(';', at);
        std::string c = value.substr(at, semi == std::string::npos ? std::string::npos : semi - at);
        while (!c.empty() && c.front() == ' ') c.erase(0, 1);
        if (!c.empty()) cookies.emplace_back(c);
        if (semi == std::string::npos) break;
        at = semi + 1;
      }
      continue;
    }
    if (auto* h = headers.if_contains(name)) {
      h->as_string().append(",").append(value);
    } else {
      headers[name] = value;
    }
  }
  const std::string ip = source_ip(req.peer);
  std::string trace = req.header("x-amzn-trace-id").value_or(invoke::new_trace_id());
  headers["x-forwarded-for"] = ip;
  headers["x-forwarded-proto"] = req.secure ? "https" : "http";
  headers["x-amzn-trace-id"] = trace;
  json::object query;
  for (const auto& [k, v] : req.query) {
    if (auto* x = query.if_contains(k)) {
      x->as_string().append(",").append(v);
    } else {
      query[k] = v;
    }
  }
  const int64_t now = now_ms();
  context["apiId"] = url_id;
  context["domainName"] = host ? *host : "";
  context["domainPrefix"] = url_id;
  context["http"] = json::object{{"method", req.method},
                                 {"path", raw_path},
                                 {"protocol", "HTTP/1.1"},
                                 {"sourceIp", ip},
                                 {"userAgent", req.header("user-agent").value_or("")}};
  context["requestId"] = req.request_id;
  context["routeKey"] = "$default";
  context["stage"] = "$default";
  context["time"] = clf_time(now);
  context["timeEpoch"] = now;
  json::object event{{"version", "2.0"},
                     {"routeKey", "$default"},
                     {"rawPath", raw_path},
                     {"rawQueryString", raw_query}};
  if (!cookies.empty()) event["cookies"] = std::move(cookies);
  event["headers"] = std::move(headers);
  if (!query.empty()) event["queryStringParameters"] = std::move(query);
  event["requestContext"] = std::move(context);
  bool base64 = false;
  if (!req.body.empty()) {
    base64 = !text_content(req.header("content-type").value_or("")) || !valid_utf8(req.body);
    event["body"] = base64 ? base64_encode(req.body) : req.body;
  }
  event["isBase64Encoded"] = base64;

  // Named: no temporaries with destructors inside a co_await expression (GCC 12).
  const std::optional<std::string> qualifier =
      target->qualifier.empty() ? std::nullopt : std::optional<std::string>(target->qualifier);
  auto resolved = co_await invoker_.resolve(target->function, qualifier);
  if (!resolved) co_return forbidden();  // deleted meanwhile
  invoke::InvokeInput input;
  input.request_id = req.request_id;
  input.payload = json::serialize(event);
  input.invoked_function_arn = arn;
  input.trace_id = trace;
  input.qualifier = target->qualifier;

  http::Response r;
  if (target->invoke_mode != "RESPONSE_STREAM") {
    invoke::InvokeResult result = co_await invoker_.invoke(*resolved, std::move(input));
    r = buffered_answer(result);
  } else {
    auto executor = co_await boost::asio::this_coro::executor;
    auto call = invoke::StreamingCall::start(executor, invoker_, *resolved, std::move(input));
    co_await call->wait_begun();
    if (!call->streamed()) {
      // It ended without streaming: its whole answer, interpreted as a buffered one.
      r = buffered_answer(*call->result());
    } else {
      std::string first;
      r.status = 200;
      if (call->content_type() == kHttpIntegration) {
        // The prelude: JSON, then eight zero bytes, then the body.
        static const std::string kDelimiter(8, '\0');
        std::string buffered;
        size_t end = std::string::npos;
        while ((end = buffered.find(kDelimiter)) == std::string::npos &&
               buffered.size() <= kMaxPreludeBytes) {
          auto piece = co_await call->read();
          if (!piece) break;
          buffered += *piece;
        }
        if (end == std::string::npos) co_return bad_gateway();
        std::string prelude = buffered.substr(0, end);
        if (prelude.find("statusCode") == std::string::npos) {
          // A prelude without a status is a 200 (headers and cookies still apply).
          boost::system::error_code ec;
          json::value v = json::parse(prelude, ec);
          if (ec || !v.is_object()) co_return bad_gateway();
          v.as_object()["statusCode"] = 200;
          prelude = json::serialize(v);
        }
        http::Response head = from_payload(prelude, "application/octet-stream");
        if (head.status == 502 || !head.body.empty()) co_return bad_gateway();
        r.status = head.status;
        r.headers = std::move(head.headers);
        r.content_type = head.content_type;
        first = buffered.substr(end + kDelimiter.size());
      } else {
        r.content_type = call->content_type();
      }
      r.stream = std::make_shared<UrlStreamBody>(std::move(call), std::move(first));
    }
  }
  if (target->cors) apply_cors(*target->cors, req, r);
  co_return r;
}

}  // namespace lambent::lambda

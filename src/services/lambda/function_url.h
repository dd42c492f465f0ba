// Function URLs (compat §8): the HTTP endpoint of a function or alias. FunctionUrlEndpoint
// serves them on the API listener — by Host `<url-id>.lambda-url.<region>.<domain>` and by the
// path form `/_lambent/url/<url-id>/<path>` — turning each request into the payload format 2.0
// event, invoking (BUFFERED: as Invoke; RESPONSE_STREAM: as InvokeWithResponseStream, the
// function's HTTP prelude giving status and headers) and mapping the function's answer to the
// HTTP response as AWS does, with CORS answered by Lambent and AWS's auth rules (AWS_IAM: SigV4
// for service `lambda` and lambda:InvokeFunctionUrl; NONE: the function's resource policy must
// grant everyone).
// Thread: the I/O thread (the URL index is read under a shared lock).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/auth.h"
#include "http/router.h"
#include "invoke/invoker.h"
#include "services/lambda/names.h"

namespace lambent::lambda {

struct UrlCors {
  bool allow_credentials = false;
  std::vector<std::string> allow_headers, allow_methods, allow_origins, expose_headers;
  std::optional<int64_t> max_age;
};

// What serving a URL needs of its configuration.
struct UrlTarget {
  std::string url_id;
  std::string function;
  std::string qualifier;  // "" = unqualified, else an alias
  std::string auth_type;  // NONE | AWS_IAM
  std::string invoke_mode;
  std::optional<UrlCors> cors;
};

// Reads a stored Cors document (as CreateFunctionUrlConfig accepted it).
std::optional<UrlCors> parse_url_cors(std::string_view json_text);

// The url-id of a request's Host (`<url-id>.lambda-url.…`), or "".
std::string url_id_of_host(std::string_view host);

class FunctionUrlEndpoint final {
 public:
  using Lookup = std::function<std::optional<UrlTarget>(std::string_view url_id)>;
  FunctionUrlEndpoint(invoke::Invoker& invoker, aws::Guard* guard, Names names, Lookup lookup)
      : invoker_(invoker), guard_(guard), names_(std::move(names)), lookup_(std::move(lookup)) {}

  // Claims the requests for function URLs (before every other route).
  void add_routes(http::Router& router);

 private:
  boost::asio::awaitable<http::Response> serve(http::Request& req);

  invoke::Invoker& invoker_;
  aws::Guard* guard_;
  Names names_;
  Lookup lookup_;
};

}  // namespace lambent::lambda

// Account settings, the code download behind GetFunction's Code.Location, and the health check.
#include <boost/json.hpp>
#include <charconv>

#include "services/lambda/errors.h"
#include "services/lambda/lambda_api.h"
#include "base/codec.h"
#include "base/time.h"
#include "blob/zip.h"

namespace lambent::lambda {
namespace json = boost::json;

http::Response LambdaApi::get_account_settings(http::Request&) {
  store::AccountUsage usage = unwrap(deps_.store.account_usage());
  int64_t reserved = 0;
  for (const auto& [name, n] : unwrap(deps_.store.reserved_concurrency())) reserved += n;
  // Quotas of compat §4; the concurrency limit is the one in effect on this node.
  json::object limit{{"TotalCodeSize", int64_t{80'530'636'800}},
                     {"CodeSizeUnzipped", static_cast<int64_t>(blob::kMaxUnzippedBytes)},
                     {"CodeSizeZipped", int64_t{52'428'800}},
                     {"ConcurrentExecutions", deps_.concurrency_limit},
                     {"UnreservedConcurrentExecutions", deps_.concurrency_limit - reserved}};
  json::object use{{"TotalCodeSize", usage.total_code_size},
                   {"FunctionCount", usage.function_count}};
  return json_response(200, json::object{{"AccountLimit", std::move(limit)},
                                         {"AccountUsage", std::move(use)}});
}

http::Response LambdaApi::download_code(http::Request& req) {
  const std::string& digest = req.label("Digest");
  auto expires_text = req.query_param("Expires").value_or("");
  auto signature = req.query_param("Signature").value_or("");
  int64_t expires = 0;
  auto [p, ec] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(),
                                 expires);
  bool valid = ec == std::errc() && p == expires_text.data() + expires_text.size() &&
               blob::is_digest_hex(digest) &&
               equal_constant_time(signature, code_signature(digest, expires));
  if (!valid) throw lambda_error(403, "AccessDeniedException", "The request signature is invalid.");
  if (expires < now_ms() / 1000) {
    throw lambda_error(403, "AccessDeniedException", "Request has expired.");
  }
  std::string zip = unwrap(deps_.code.get(digest));
  http::Response r;
  r.status = 200;
  r.content_type = "application/zip";
  r.body = std::move(zip);
  return r;
}

http::Response LambdaApi::health(http::Request&) {
  return json_response(200, json::object{{"status", "ok"}});
}

}  // namespace lambent::lambda

// The edge's parsers of untrusted input: CloudFront DistributionConfig documents (API callers)
// and what Lambda@Edge functions return (code Lambent did not write). The first byte picks which;
// for function results, the event type too.
#include <cstdint>
#include <string_view>

#include "edge/config.h"
#include "edge/lambda_edge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lambent::edge;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int mode = data[0] % 5;
  if (mode == 0) {
    ParsedConfig parsed = parse_distribution_config(text);
    if (!parsed.error) {
      (void)parsed.config.behavior_for("/a/b.png");
      (void)check_associations(parsed.config, "000000000000",
                               [](const std::string&, const std::string&) {
                                 FunctionFacts f;
                                 f.runtime = "nodejs20.x";
                                 f.role_trusted = true;
                                 return std::optional<FunctionFacts>(f);
                               });
      // What was stored must read back.
      if (parse_distribution_config(parsed.xml).error) __builtin_trap();
    }
    return 0;
  }
  static const char* kTypes[] = {"viewer-request", "origin-request", "origin-response",
                                 "viewer-response"};
  EventContext ctx{"d1.cloudfront.net", "E1", kTypes[mode - 1], "rid", true};
  EdgeRequest request;
  request.client_ip = "203.0.113.1";
  request.method = "GET";
  request.uri = "/index.html";
  request.headers = {{"Host", "d1.cloudfront.net"}, {"Via", "1.1 x"}};
  request.origin.id = "o";
  request.origin.domain_name = "example.org";
  EdgeResponse response{200, "OK", {{"Content-Type", "text/html"}, {"Via", "1.1 x"}}, "body"};
  (void)apply_result(ctx, text, request, mode >= 3 ? &response : nullptr);
  return 0;
}

// SigV4 as the server reads it: the input is a request head ("METHOD TARGET" then "name: value"
// lines, then an empty line and the body); parse, then verify against a fixed secret (the
// canonical request, the time window and scope checks, the signature comparison).
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "base/codec.h"
#include "http/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sigv4 = lambent::aws::sigv4;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  lambent::http::Request req;
  size_t end = in.find('\n');
  std::string_view first = in.substr(0, end);
  size_t space = first.find(' ');
  req.method = std::string(first.substr(0, space));
  req.target = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  if (!lambent::http::parse_target(req.target, req)) return 0;
  while (end != std::string_view::npos) {
    size_t start = end + 1;
    end = in.find('\n', start);
    std::string_view line = in.substr(start, end == std::string_view::npos ? end : end - start);
    if (line.empty()) {
      if (end != std::string_view::npos) req.body = std::string(in.substr(end + 1));
      break;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers.emplace_back(std::move(name), std::string(value));
  }
  auto parsed = sigv4::parse(req);
  if (!parsed.material) return 0;
  static sigv4::KeyCache cache;
  std::string digest = lambent::hex_encode(lambent::as_bytes(lambent::sha256(req.body)));
  for (bool s3 : {false, true}) {
    (void)sigv4::verify(req, *parsed.material, "secret", digest, parsed.material->region,
                        parsed.material->service, parsed.material->time, 900, s3, cache);
  }
  return 0;
}

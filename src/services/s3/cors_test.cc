// CORS rules as S3 applies them: the first matching rule, '*' wildcards in origins and headers
// (headers case-insensitively), "*" answered for any-origin rules.
#include "services/s3/cors.h"

#include <gtest/gtest.h>

namespace lambent::s3 {
namespace {

std::string header(const std::vector<std::pair<std::string, std::string>>& hs,
                   const std::string& name) {
  for (const auto& [k, v] : hs) {
    if (k == name) return v;
  }
  return "";
}

TEST(Cors, RulesMatchAsS3Does) {
  auto rules = parse_cors(
      "<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin>"
      "<AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader>"
      "<AllowedHeader>Content-Type</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
      "<MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>"
      "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
      "</CORSConfiguration>");
  ASSERT_EQ(rules.size(), 2u);
  auto put =
      cors_headers(rules, "https://app.example.com", "PUT", "content-type, X-Amz-Date", true);
  ASSERT_TRUE(put);
  EXPECT_EQ(header(*put, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(header(*put, "Access-Control-Expose-Headers"), "ETag");
  EXPECT_EQ(header(*put, "Access-Control-Max-Age"), "60");
  EXPECT_FALSE(cors_headers(rules, "https://example.org", "PUT", "", true));
  EXPECT_FALSE(cors_headers(rules, "https://app.example.com", "PUT", "authorization", true));
  auto get = cors_headers(rules, "https://anywhere.test", "GET", "", false);
  ASSERT_TRUE(get);
  EXPECT_EQ(header(*get, "Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(cors_headers(rules, "https://anywhere.test", "DELETE", "", false));
  EXPECT_TRUE(parse_cors("not xml").empty());
}

}  // namespace
}  // namespace lambent::s3

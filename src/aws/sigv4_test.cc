#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include "base/codec.h"
#include "http/router.h"

namespace lambent::aws::sigv4 {
namespace {

// Vectors signed by botocore 1.29 (Debian) at 2026-12-01T12:00:00Z with AWS's example key.
constexpr std::string_view kKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr int64_t kNow = 1796126400;  // 2026-12-01T12:00:00Z

http::Request request(std::string method, std::string target,
                      std::vector<std::pair<std::string, std::string>> headers,
                      std::string body = "") {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  EXPECT_TRUE(http::parse_target(r.target, r));
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

std::string body_hash(const http::Request& r) { return hex_encode(as_bytes(sha256(r.body))); }

std::optional<AuthFailure> check(const http::Request& r, std::string_view secret = kSecret,
                                 int64_t now = kNow, std::string_view service = "") {
  Parsed p = parse(r);
  if (p.failure) return p.failure;
  KeyCache cache;
  return verify(r, *p.material, secret, body_hash(r), "us-east-1",
                service.empty() ? p.material->service : service, now, 900, false, cache);
}

http::Request lambda_get() {
  return request(
      "GET",
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/"
      "configuration?Qualifier=%24LATEST",
      {{"host", "127.0.0.1:9777"},
       {"x-amz-date", "20261201T120000Z"},
       {"authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=2e83636d7c2eaa81b0d972223c65d644ba5cb802ec804f277a680b6e1354ee53"}});
}

http::Request sqs_post() {
  return request(
      "POST", "/",
      {{"host", "127.0.0.1:9777"},
       {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
       {"x-amz-date", "20261201T120000Z"},
       {"x-amz-security-token", "TOKEN123"},
       {"authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/us-east-1/sqs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
        "Signature=f47b4b0dfc148bfcba7d577412a71b8879e5bf4daf3c238d801f092dd23329de"}},
      "Action=ListQueues&Version=2012-11-05");
}

TEST(SigV4, BotocoreHeaderSignatureVerifies) {
  http::Request r = lambda_get();
  Parsed p = parse(r);
  ASSERT_TRUE(p.material);
  EXPECT_EQ(p.material->access_key_id, kKey);
  EXPECT_EQ(p.material->service, "lambda");
  EXPECT_EQ(check(r), std::nullopt);
}

TEST(SigV4, BotocoreFormPostWithSessionTokenVerifies) {
  http::Request r = sqs_post();
  EXPECT_EQ(parse(r).material->session_token, "TOKEN123");
  EXPECT_EQ(check(r), std::nullopt);
}

TEST(SigV4, BotocorePresignedUrlVerifies) {
  http::Request r = request(
      "GET",
      "/2015-03-31/functions/?MaxItems=5&Marker=a%20b&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
      "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261201%2Fus-east-1%2Flambda%2Faws4_request&"
      "X-Amz-Date=20261201T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"
      "X-Amz-Signature=6c5040e4540ca2aad208f1e4fc9d36947c58fa4b43dce3142a06b2563702a98c",
      {{"host", "127.0.0.1:9777"}});
  ASSERT_TRUE(parse(r).material);
  EXPECT_TRUE(parse(r).material->presigned);
  EXPECT_EQ(check(r), std::nullopt);
  // Past X-Amz-Date + X-Amz-Expires (300 s) it is refused.
  auto late = check(r, kSecret, kNow + 301);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->kind, Failure::kMismatch);
  EXPECT_NE(late->message.find("Signature expired"), std::string::npos);
}

TEST(SigV4, TamperedSignatureWrongSecretAndChangedBodyAreMismatches) {
  http::Request r = lambda_get();
  r.headers[2].second.back() = r.headers[2].second.back() == '3' ? '4' : '3';
  auto f = check(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, Failure::kMismatch);
  EXPECT_NE(f->message.find("The Canonical String for this request should have been"),
            std::string::npos);

  auto wrong = check(lambda_get(), "another-secret");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->kind, Failure::kMismatch);

  http::Request changed = sqs_post();
  changed.body = "Action=DeleteQueue&Version=2012-11-05";
  auto c = check(changed);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Failure::kMismatch);

  http::Request header_changed = sqs_post();
  header_changed.headers[1].second = "text/plain";
  EXPECT_EQ(check(header_changed)->kind, Failure::kMismatch);
}

TEST(SigV4, TimeWindowIsFifteenMinutesEitherSide) {
  EXPECT_EQ(check(lambda_get(), kSecret, kNow + 14 * 60), std::nullopt);
  EXPECT_EQ(check(lambda_get(), kSecret, kNow - 14 * 60), std::nullopt);
  auto old = check(lambda_get(), kSecret, kNow + 20 * 60);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->kind, Failure::kMismatch);
  EXPECT_EQ(old->message,
            "Signature expired: 20261201T120000Z is now earlier than 20261201T120500Z "
            "(20261201T122000Z - 15 min.)");
  auto future = check(lambda_get(), kSecret, kNow - 20 * 60);
  ASSERT_TRUE(future);
  EXPECT_NE(future->message.find("Signature not yet current"), std::string::npos);
}

TEST(SigV4, ScopeMustNameThisServiceAndRegion) {
  auto f = check(lambda_get(), kSecret, kNow, "sqs");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, Failure::kMismatch);
  EXPECT_EQ(f->message, "Credential should be scoped to correct service: 'sqs'.");
  http::Request r = lambda_get();
  Parsed p = parse(r);
  KeyCache cache;
  auto region =
      verify(r, *p.material, kSecret, body_hash(r), "eu-west-1", "lambda", kNow, 900, false, cache);
  ASSERT_TRUE(region);
  EXPECT_EQ(region->message, "Credential should be scoped to a valid region, not 'us-east-1'.");
}

TEST(SigV4, MissingAndMalformedAuthentication) {
  http::Request none = request("GET", "/2015-03-31/functions/", {{"host", "x"}});
  EXPECT_EQ(parse(none).failure->kind, Failure::kMissing);

  http::Request no_sig = lambda_get();
  no_sig.headers[2].second =
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/us-east-1/lambda/aws4_request, "
      "SignedHeaders=host;x-amz-date";
  auto f = parse(no_sig).failure;
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, Failure::kIncomplete);
  EXPECT_EQ(f->message.rfind("Authorization header requires 'Signature' parameter.", 0), 0u);

  http::Request short_cred = lambda_get();
  short_cred.headers[2].second =
      "AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1, SignedHeaders=host, Signature=ab";
  EXPECT_EQ(parse(short_cred).failure->kind, Failure::kIncomplete);

  http::Request no_date = lambda_get();
  no_date.headers.erase(no_date.headers.begin() + 1);
  EXPECT_NE(parse(no_date).failure->message.find("'X-Amz-Date' or a 'Date' header"),
            std::string::npos);

  http::Request bad_date = lambda_get();
  bad_date.headers[1].second = "2026-12-01";
  EXPECT_EQ(parse(bad_date).failure->kind, Failure::kIncomplete);

  http::Request v2 = lambda_get();
  v2.headers[2].second = "AWS AKIAIOSFODNN7EXAMPLE:abc";
  EXPECT_EQ(parse(v2).failure->message, "Unsupported AWS 'algorithm': 'AWS'");

  http::Request partial = request(
      "GET", "/2015-03-31/functions/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T120000Z",
      {{"host", "x"}});
  EXPECT_EQ(parse(partial).failure->kind, Failure::kIncomplete);
}

TEST(SigV4, SignedByOurSignerVerifies) {
  Credentials creds{"AKIAEXAMPLE000000001", "s3cr3t/+key", "TOKEN"};
  const std::string target = "/2015-03-31/functions/my%3Afn/invocations?Qualifier=v%201";
  const std::string body = R"({"a":1})";
  auto added = sign("POST", target, {{"Host", "localhost:1"}, {"Content-Type", "application/json"}},
                    body, creds, "us-east-1", "lambda", kNow);
  std::vector<std::pair<std::string, std::string>> headers = {{"host", "localhost:1"},
                                                              {"content-type", "application/json"}};
  for (auto& [k, v] : added) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers.emplace_back(lower, v);
  }
  http::Request r = request("POST", target, headers, body);
  EXPECT_EQ(parse(r).material->session_token, "TOKEN");
  EXPECT_EQ(check(r, creds.secret_access_key), std::nullopt);
}

TEST(SigV4, CanonicalUriAndQuery) {
  EXPECT_EQ(canonical_uri("", false), "/");
  EXPECT_EQ(canonical_uri("/a//b/./c/../d/", false), "/a/b/d/");
  EXPECT_EQ(canonical_uri("/f/arn%3Ax", false), "/f/arn%253Ax");
  EXPECT_EQ(canonical_uri("/b/a%20b//c", true), "/b/a%20b//c");
  EXPECT_EQ(canonical_query("b=2&a=1&a=0&X-Amz-Signature=z&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(canonical_query("k=a%20b&m=%2F"), "k=a%20b&m=%2F");
}

TEST(SigV4, KeyCacheGivesTheDerivedKeyAndHonoursTheSecret) {
  KeyCache cache;
  auto mac = [](const std::shared_ptr<const HmacSha256>& k) { return k->mac("message"); };
  auto a = cache.signing_key("AK", "one", "20261201", "us-east-1", "sqs");
  EXPECT_EQ(mac(a),
            HmacSha256(derive_signing_key("one", "20261201", "us-east-1", "sqs")).mac("message"));
  EXPECT_EQ(cache.signing_key("AK", "one", "20261201", "us-east-1", "sqs"), a);  // the same entry
  EXPECT_NE(mac(cache.signing_key("AK", "two", "20261201", "us-east-1", "sqs")), mac(a));
}

TEST(SigV4, AmzDateRoundTrip) {
  EXPECT_EQ(parse_amz_date("20261201T120000Z"), kNow);
  EXPECT_EQ(format_amz_date(kNow), "20261201T120000Z");
  EXPECT_EQ(parse_amz_date("20240229T000000Z"), 1709164800);  // a leap day
  EXPECT_EQ(parse_amz_date("19700101T000000Z"), 0);
  EXPECT_EQ(parse_amz_date("21000301T000000Z"), 4107542400);  // 2100 is not a leap year
  EXPECT_EQ(parse_amz_date("20261301T120000Z"), std::nullopt);
  EXPECT_EQ(parse_amz_date("20261201 120000Z"), std::nullopt);
}

}  // namespace
}  // namespace lambent::aws::sigv4

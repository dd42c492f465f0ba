#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <unistd.h>

#include "base/codec.h"
#include "base/fs.h"
#include "edge/cache.h"
#include "edge/config.h"
#include "edge/headers.h"
#include "edge/lambda_edge.h"

namespace lambent::edge {
namespace {
namespace json = boost::json;

std::string config_xml(std::string behavior_extra = "", std::string cache_behaviors = "") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>ref-1</CallerReference>
  <Origins><Quantity>1</Quantity><Items><Origin><Id>web</Id><DomainName>127.0.0.1</DomainName>
    <CustomOriginConfig><HTTPPort>8080</HTTPPort><HTTPSPort>443</HTTPSPort>
    <OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig></Origin></Items></Origins>
  <DefaultCacheBehavior><TargetOriginId>web</TargetOriginId>
    <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <ForwardedValues><QueryString>true</QueryString><Cookies><Forward>none</Forward></Cookies>
    <QueryStringCacheKeys><Quantity>1</Quantity><Items><Name>v</Name></Items></QueryStringCacheKeys>
    </ForwardedValues>
    <MinTTL>0</MinTTL>)" +
         behavior_extra + R"(</DefaultCacheBehavior>)" + cache_behaviors + R"(
  <Comment>test</Comment><Enabled>true</Enabled>
</DistributionConfig>)";
}

TEST(EdgeConfig, ReadsADistributionAndFillsCloudFrontsDefaults) {
  auto parsed = parse_distribution_config(
      config_xml("", R"(<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior>
      <PathPattern>/img/*.png</PathPattern><TargetOriginId>web</TargetOriginId>
      <ViewerProtocolPolicy>redirect-to-https</ViewerProtocolPolicy>
      <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>
      </CacheBehavior></Items></CacheBehaviors>)"));
  ASSERT_FALSE(parsed.error) << parsed.error->message;
  const auto& c = parsed.config;
  EXPECT_EQ(c.origins[0].http_port, 8080);
  EXPECT_EQ(c.default_behavior.default_ttl, 86400);
  EXPECT_EQ(c.default_behavior.key.query, CacheKey::Items::kList);
  EXPECT_EQ(&c.behavior_for("/img/a/b.png"), &c.behaviors[0]);
  EXPECT_EQ(&c.behavior_for("/img/a.jpg"), &c.default_behavior);
  EXPECT_EQ(c.behaviors[0].min_ttl, 1);
  EXPECT_NE(parsed.xml.find("<PriceClass>PriceClass_All</PriceClass>"), std::string::npos);
  EXPECT_NE(parsed.xml.find("<ConnectionAttempts>3</ConnectionAttempts>"), std::string::npos);
  EXPECT_EQ(parsed.xml.find("xmlns"), std::string::npos);
  // What was stored reads back the same.
  auto again = parse_distribution_config(parsed.xml);
  ASSERT_FALSE(again.error);
  EXPECT_EQ(again.xml, parsed.xml);
}

TEST(EdgeConfig, RefusesWhatCloudFrontRefuses) {
  struct Case {
    std::string xml, code;
  };
  std::vector<Case> cases = {
      {"", "MissingBody"},
      {"<DistributionConfig>", "MalformedInput"},
      {config_xml("<DefaultTTL>10</DefaultTTL><MaxTTL>5</MaxTTL>"), "InvalidTTLOrder"},
      {config_xml("<CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>"),
       "InvalidArgument"},
      {config_xml("<LambdaFunctionAssociations><Quantity>2</Quantity><Items>"
                  "<LambdaFunctionAssociation><LambdaFunctionARN>a</LambdaFunctionARN>"
                  "<EventType>viewer-request</EventType></LambdaFunctionAssociation>"
                  "</Items></LambdaFunctionAssociations>"),
       "InconsistentQuantities"},
      {config_xml("<LambdaFunctionAssociations><Quantity>2</Quantity><Items>"
                  "<LambdaFunctionAssociation><LambdaFunctionARN>a</LambdaFunctionARN>"
                  "<EventType>viewer-request</EventType></LambdaFunctionAssociation>"
                  "<LambdaFunctionAssociation><LambdaFunctionARN>b</LambdaFunctionARN>"
                  "<EventType>viewer-request</EventType></LambdaFunctionAssociation>"
                  "</Items></LambdaFunctionAssociations>"),
       "InvalidLambdaFunctionAssociation"},
  };
  // Found by fuzzing: a Quantity of "-" threw from std::stoll (a 500, not a 400).
  std::string dash = config_xml();
  dash.replace(dash.find("<Quantity>1</Quantity>"), 22, "<Quantity>-</Quantity>");
  cases.push_back({dash, "InvalidArgument"});
  std::string oai = config_xml();
  oai.replace(oai.find("<CustomOriginConfig>"),
              oai.find("</CustomOriginConfig>") + 21 - oai.find("<CustomOriginConfig>"),
              "<S3OriginConfig><OriginAccessIdentity>origin-access-identity/cloudfront/E1</"
              "OriginAccessIdentity></S3OriginConfig>");
  oai.replace(oai.find("<DomainName>127.0.0.1"), 21, "<DomainName>b.s3.amazonaws.com");
  cases.push_back({oai, "InvalidOriginAccessIdentity"});
  std::string no_origin = config_xml();
  no_origin.replace(no_origin.find("<TargetOriginId>web"), 19, "<TargetOriginId>nope");
  cases.push_back({no_origin, "NoSuchOrigin"});
  for (const auto& c : cases) {
    auto parsed = parse_distribution_config(c.xml);
    ASSERT_TRUE(parsed.error) << c.code;
    EXPECT_EQ(parsed.error->code, c.code) << parsed.error->message;
  }
}

TEST(EdgeConfig, PathPatterns) {
  EXPECT_TRUE(path_matches("*", "/anything"));
  EXPECT_TRUE(path_matches("/images/*.jpg", "/images/a/b.jpg"));
  EXPECT_TRUE(path_matches("images/*.jpg", "/images/b.jpg"));
  EXPECT_FALSE(path_matches("/images/*.jpg", "/images/b.JPG"));
  EXPECT_TRUE(path_matches("/a?c", "/abc"));
  EXPECT_FALSE(path_matches("/a?c", "/ac"));
}

FunctionFacts good() {
  FunctionFacts f;
  f.runtime = "nodejs18.x";
  f.role = "arn:aws:iam::000000000000:role/edge";
  f.role_trusted = true;
  return f;
}

std::optional<ConfigError> check(const std::string& arn, const std::string& event_type,
                                 FunctionFacts facts) {
  DistributionConfig c;
  c.default_behavior.associations.push_back({arn, event_type, false});
  return check_associations(
      c, "000000000000",
      [&](const std::string& name, const std::string& version) -> std::optional<FunctionFacts> {
        if (name != "fn" || version != "1") return std::nullopt;
        return facts;
      });
}

TEST(LambdaEdge, AssociationsFollowLambdaEdgesRules) {
  const std::string arn = "arn:aws:lambda:us-east-1:000000000000:function:fn";
  EXPECT_FALSE(check(arn + ":1", "viewer-request", good()));
  for (const std::string& bad : {arn, arn + ":$LATEST", arn + ":live"}) {
    auto e = check(bad, "viewer-request", good());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "InvalidLambdaFunctionAssociation");
    EXPECT_NE(e->message.find("must reference a specific function version"), std::string::npos);
  }
  EXPECT_NE(check("arn:aws:lambda:eu-west-1:000000000000:function:fn:1", "viewer-request", good())
                ->message.find("region 'us-east-1'"),
            std::string::npos);
  EXPECT_NE(check(arn + ":2", "viewer-request", good())->message.find("cannot retrieve"),
            std::string::npos);
  auto f = good();
  f.has_environment = true;
  EXPECT_NE(check(arn + ":1", "origin-request", f)->message.find("environment variables"),
            std::string::npos);
  f = good();
  f.timeout_s = 10;
  EXPECT_NE(check(arn + ":1", "viewer-request", f)->message.find("Max allowed: 5"),
            std::string::npos);
  EXPECT_FALSE(check(arn + ":1", "origin-request", f));
  f = good();
  f.memory_mb = 256;
  EXPECT_TRUE(check(arn + ":1", "viewer-response", f));
  EXPECT_FALSE(check(arn + ":1", "origin-response", f));
  f = good();
  f.role_trusted = false;
  EXPECT_NE(check(arn + ":1", "origin-request", f)->message.find("edgelambda.amazonaws.com"),
            std::string::npos);
  f = good();
  f.runtime = "java17";
  EXPECT_NE(check(arn + ":1", "origin-request", f)->message.find("invalid runtime"),
            std::string::npos);
}

EdgeRequest sample_request() {
  EdgeRequest r;
  r.client_ip = "203.0.113.178";
  r.method = "GET";
  r.uri = "/index.html";
  r.querystring = "a=1";
  r.headers = {
      {"Host", "d123.cloudfront.net"}, {"User-Agent", "curl/7.88"}, {"X-Two", "1"}, {"X-Two", "2"}};
  r.body = "hello";
  r.origin.id = "web";
  r.origin.domain_name = "example.org";
  return r;
}

TEST(LambdaEdge, EventsHaveAwsShape) {
  EventContext ctx{"d123.cloudfront.net", "EDFDVBD6EXAMPLE", "origin-request", "rid", true};
  json::value v = json::parse(build_event(ctx, sample_request(), nullptr));
  const auto& cf = v.at("Records").at(0).at("cf");
  EXPECT_EQ(cf.at("config").at("eventType"), "origin-request");
  const auto& req = cf.at("request");
  EXPECT_EQ(req.at("headers").at("x-two").as_array().size(), 2u);
  EXPECT_EQ(req.at("headers").at("host").at(0).at("key"), "Host");
  EXPECT_EQ(req.at("body").at("data").as_string(), base64_encode("hello"));
  EXPECT_EQ(req.at("origin").at("custom").at("domainName"), "example.org");
  EXPECT_EQ(req.at("origin").at("custom").at("port"), 80);
  EdgeResponse resp{200, "OK", {{"Content-Type", "text/html"}}, "x"};
  ctx.event_type = "viewer-response";
  v = json::parse(build_event(ctx, sample_request(), &resp));
  EXPECT_EQ(v.at("Records").at(0).at("cf").at("response").at("status"), "200");
  EXPECT_FALSE(v.at("Records").at(0).at("cf").at("request").as_object().contains("body"));
}

TEST(LambdaEdge, ResultsAreAppliedOrRefused) {
  EventContext ctx{"d", "E", "viewer-request", "rid", false};
  EdgeRequest req = sample_request();
  // A changed request.
  auto r = apply_result(ctx, R"({"method":"GET","clientIp":"203.0.113.178","uri":"/new",
      "querystring":"","headers":{"host":[{"key":"Host","value":"d123.cloudfront.net"}],
      "x-added":[{"value":"yes"}]}})",
                        req, nullptr);
  ASSERT_FALSE(r.invalid) << *r.invalid;
  EXPECT_EQ(req.uri, "/new");
  EXPECT_EQ(*find_header(req.headers, "x-added"), "yes");
  EXPECT_EQ(req.headers.back().first, "X-Added");
  // A generated response.
  req = sample_request();
  r = apply_result(ctx,
                   R"({"status":"302","headers":{"location":[{"key":"Location","value":"/x"}]}})",
                   req, nullptr);
  ASSERT_TRUE(r.generated);
  EXPECT_EQ(r.generated->status, 302u);
  // Refusals.
  for (const char* bad : {
           "not json",
           "[1]",
           R"({"status":"99"})",
           R"({"status":"200","body":"x","bodyEncoding":"base64"})",
           R"({"uri":"no-slash"})",
           R"({"headers":{"host":[{"key":"Host","value":"other"}]}})",
           R"({"status":"200","headers":{"x-cache":[{"key":"X-Cache","value":"Hit"}]}})",
           R"({"method":"POST"})",
       }) {
    req = sample_request();
    r = apply_result(ctx, bad, req, nullptr);
    EXPECT_TRUE(r.invalid) << bad;
  }
  // A generated response above the viewer limit.
  std::string big = R"({"status":"200","body":")" + std::string(41 * 1024, 'a') + "\"}";
  req = sample_request();
  EXPECT_TRUE(apply_result(ctx, big, req, nullptr).invalid);
  ctx.event_type = "origin-request";
  req = sample_request();
  EXPECT_FALSE(apply_result(ctx, big, req, nullptr).invalid);
  // Response events keep the origin's body unless the function replaces it.
  ctx.event_type = "origin-response";
  EdgeResponse resp{200, "OK", {{"Content-Type", "text/html"}}, "origin body"};
  r = apply_result(ctx, R"({"status":"200","headers":{"content-type":[{"key":"Content-Type",
      "value":"text/html"}],"x-extra":[{"key":"X-Extra","value":"1"}]}})",
                   req, &resp);
  ASSERT_FALSE(r.invalid) << *r.invalid;
  EXPECT_EQ(resp.body, "origin body");
  EXPECT_EQ(*find_header(resp.headers, "x-extra"), "1");
  resp.headers.emplace_back("Via", "1.1 x");
  r = apply_result(ctx, R"({"status":"200","headers":{}})", req, &resp);
  EXPECT_TRUE(r.invalid);  // dropped the read-only Via
}

TEST(EdgeCache, TtlFollowsCloudFrontsRules) {
  const int64_t now = 1'700'000'000'000;
  EXPECT_EQ(ttl_seconds({}, 0, 86400, 31536000, now), 86400);
  EXPECT_EQ(ttl_seconds({{"Cache-Control", "max-age=60"}}, 0, 86400, 31536000, now), 60);
  EXPECT_EQ(ttl_seconds({{"Cache-Control", "max-age=60, s-maxage=30"}}, 0, 86400, 100, now), 30);
  EXPECT_EQ(ttl_seconds({{"Cache-Control", "max-age=600"}}, 0, 86400, 100, now), 100);
  EXPECT_EQ(ttl_seconds({{"Cache-Control", "max-age=5"}}, 10, 86400, 100, now), 10);
  EXPECT_EQ(ttl_seconds({{"Cache-Control", "no-store"}}, 0, 86400, 100, now), 0);
  EXPECT_EQ(ttl_seconds({{"Cache-Control", "private"}}, 7, 86400, 100, now), 7);
  EXPECT_EQ(ttl_seconds({{"Expires", "Tue, 14 Nov 2023 22:14:20 GMT"}}, 0, 86400, 1000, now), 60);
}

TEST(EdgeCache, Ranges) {
  bool unsatisfiable = false;
  auto r = parse_range("bytes=2-5", 10, &unsatisfiable);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 2u);
  EXPECT_EQ(r->last, 5u);
  r = parse_range("bytes=-3", 10, &unsatisfiable);
  EXPECT_EQ(r->first, 7u);
  r = parse_range("bytes=8-", 10, &unsatisfiable);
  EXPECT_EQ(r->last, 9u);
  EXPECT_FALSE(parse_range("bytes=10-", 10, &unsatisfiable));
  EXPECT_TRUE(unsatisfiable);
  EXPECT_FALSE(parse_range("bytes=0-1,3-4", 10, &unsatisfiable));
  EXPECT_FALSE(unsatisfiable);
}

TEST(EdgeCache, MemoryDiskEvictionAndInvalidation) {
  auto dir =
      std::filesystem::temp_directory_path() / ("edge-cache-test-" + std::to_string(::getpid()));
  Cache cache(dir, 64 * 1024, 1 << 20);
  auto object = [](std::string uri, std::string body) {
    auto o = std::make_shared<CachedObject>();
    o->distribution_id = "E1";
    o->uri = std::move(uri);
    o->size = body.size();
    o->body = std::make_shared<const std::string>(std::move(body));
    o->ttl_ms = 1000;
    return o;
  };
  cache.put("a", object("/a", "aaa"));
  cache.put("b", object("/img/b", "bbb"));
  EXPECT_TRUE(cache.find("a"));
  EXPECT_EQ(cache.invalidate("E1", {"/img/*"}), 1u);
  EXPECT_FALSE(cache.find("b"));
  EXPECT_EQ(cache.invalidate("E2", {"/a"}), 0u);
  // A large body lives on disk, sealed.
  std::string large(20 * 1024, 'x');
  ASSERT_TRUE(cache.on_disk(large.size()));
  auto file = cache.write_body(large);
  ASSERT_TRUE(file);
  auto big = object("/big", large);
  big->disk_file = *file;
  cache.put("big", big);
  auto found = cache.find("big");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->body);
  EXPECT_EQ(*cache.read_body(*found), large);
  auto raw = read_file(dir / *file);
  EXPECT_EQ(raw->find("xxxxxxxx"), std::string::npos);
  // Refreshed (revalidated) in place: the same file stays.
  auto refreshed = std::make_shared<CachedObject>(*found);
  refreshed->stored_ms = 5;
  cache.put("big", refreshed);
  EXPECT_TRUE(cache.take_doomed().empty());
  EXPECT_EQ(*cache.read_body(*cache.find("big")), large);
  // Memory is bounded: the least recently used go first.
  for (int i = 0; i < 40; ++i)
    cache.put("k" + std::to_string(i), object("/k", std::string(4000, 'k')));
  EXPECT_LE(cache.memory_used(), 64u * 1024);
  EXPECT_FALSE(cache.find("a"));
  EXPECT_TRUE(cache.find("k39"));
  cache.remove_files(cache.take_doomed());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lambent::edge

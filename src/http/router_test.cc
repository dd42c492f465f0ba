#include "http/router.h"

#include <gtest/gtest.h>

namespace lambent::http {
namespace {

Handler noop() {
  return [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

Request make(std::string method, std::vector<std::string> segs,
             std::vector<std::pair<std::string, std::string>> q = {}) {
  Request r;
  r.method = std::move(method);
  r.segments = std::move(segs);
  r.query = std::move(q);
  return r;
}

TEST(Router, MatchesLabelsMethodsAndQueryDiscriminators) {
  Router router;
  router.add({.name = "Get", .method = "GET", .pattern = "/v1/things/{Name}", .handler = noop()});
  router.add({.name = "List", .method = "GET", .pattern = "/v1/things", .handler = noop()});
  router.add({.name = "Find", .method = "GET", .pattern = "/v1/things", .handler = noop(),
              .query_key = "find", .query_value = "X"});

  auto r = make("GET", {"v1", "things", "arn:aws:x"});
  auto m = router.match(r);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->name, "Get");
  EXPECT_EQ(r.label("Name"), "arn:aws:x");

  r = make("GET", {"v1", "things"}, {{"find", "X"}});
  EXPECT_EQ(router.match(r).route->name, "Find");
  r = make("GET", {"v1", "things"}, {{"find", "Y"}});
  EXPECT_EQ(router.match(r).route->name, "List");

  r = make("DELETE", {"v1", "things"});
  m = router.match(r);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched);

  r = make("GET", {"v2"});
  m = router.match(r);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_matched);
}

TEST(ParseTarget, DirectSplitAgreesWithBoostUrl) {
  const char* targets[] = {
      "/", "//", "/a", "/a/", "/a//b", "/a/b/", "//a", "/2015-03-31/functions/my-fn/invocations",
      "/2018-06-01/runtime/invocation/8f3c2a1e-0000-4000-8000-000000000000/response",
      "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/invocations",
      "/x/a.b_c~d!e$f&g'h(i)j*k+l,m;n=o@p", "/a/b%2Fc", "/a%20b/", "/p?x=1&y=%41", "/p?",
      "/a/b?c#d", "/a b", "/\x7f", "/a\"b", "/a[b]", "/%zz", "a/b", "*"};
  for (const char* t : targets) {
    Request fast, generic;
    bool ok_fast = parse_target(t, fast);
    bool ok_generic = detail::parse_target_generic(t, generic);
    EXPECT_EQ(ok_fast, ok_generic) << t;
    EXPECT_EQ(fast.segments, generic.segments) << t;
    EXPECT_EQ(fast.query, generic.query) << t;
  }
  Request r;
  ASSERT_TRUE(parse_target("/a//b/", r));
  EXPECT_EQ(r.segments, (std::vector<std::string>{"a", "", "b"}));
  Request q;
  ASSERT_TRUE(parse_target("/a%2Fb/c?k=v%21&k=w", q));
  EXPECT_EQ(q.segments, (std::vector<std::string>{"a/b", "c"}));
  EXPECT_EQ(q.query, (std::vector<std::pair<std::string, std::string>>{{"k", "v!"}, {"k", "w"}}));
  Request bad;
  EXPECT_FALSE(parse_target("/%zz", bad));
}

}  // namespace
TEST(Router, ClaimsComeFirstAndTheFallbackTakesUnknownPaths) {
  Router router;
  router.add({.name = "Get", .method = "GET", .pattern = "/v1/things/{Name}", .handler = noop()});
  router.add({.name = "Claimed",
              .method = "",
              .pattern = "",
              .handler = noop(),
              .claim = [](const Request& r) { return r.header("x-mine").has_value(); }});
  router.set_fallback({.name = "Fallback", .method = "", .pattern = "", .handler = noop()});

  auto r = make("GET", {"v1", "things", "a"});
  EXPECT_EQ(router.match(r).route->name, "Get");
  r.headers.emplace_back("x-mine", "1");
  EXPECT_EQ(router.match(r).route->name, "Claimed");
  r = make("PUT", {"bucket", "key"});
  EXPECT_EQ(router.match(r).route->name, "Fallback");
  // A known path with another method is still that path's 405, not the fallback's.
  r = make("DELETE", {"v1", "things", "a"});
  auto m = router.match(r);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched);
}

}  // namespace lambent::http

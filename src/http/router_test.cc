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

}  // namespace
}  // namespace lambent::http

#include "aws/service.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <stdexcept>
#include <thread>

namespace lambent::aws {
namespace {
namespace asio = boost::asio;
namespace json = boost::json;

// Two RPC services on one endpoint, as SQS and CloudWatch share POST /.
class EndpointTest : public ::testing::Test {
 protected:
  EndpointTest()
      : queues_(info("sqs", "AmazonSQS.", "http://queue/"), pool_),
        metrics_(info("monitoring", "", "http://monitoring/"), pool_) {
    queues_.add("Echo", [](Call& c) -> Output { return json::object{{"got", c.input}}; });
    queues_.add("Fail", [](Call&) -> Output {
      ServiceError e(400, "QueueDoesNotExist", "no such queue");
      e.query_code = "AWS.SimpleQueueService.NonExistentQueue";
      throw e;
    });
    queues_.add("Bug", [](Call&) -> Output { throw std::runtime_error("a bug"); });
    queues_.add_async("Wait", [](Call& c) -> asio::awaitable<Output> {
      co_return json::object{{"op", c.operation}};
    });
    queues_.add("Shared", [](Call&) -> Output { return json::object{{"by", "sqs"}}; });
    metrics_.add("Shared", [](Call&) -> Output { return Output::xml("<by>monitoring</by>"); });
    metrics_.add("OnlyHere", [](Call& c) -> Output {
      return json::object{{"n", c.params.size()}};
    });
    endpoint_.add(queues_);
    endpoint_.add(metrics_);
    endpoint_.add_query_path("/123456789012/{QueueName}", queues_);
    endpoint_.add_routes(router_, 1024);
  }

  static ServiceInfo info(std::string name, std::string prefix, std::string xmlns) {
    ServiceInfo s;
    s.name = std::move(name);
    s.target_prefix = std::move(prefix);
    s.json_version = "1.0";
    s.xmlns = std::move(xmlns);
    return s;
  }

  http::Response send(http::Request req) {
    req.request_id = "rid";
    EXPECT_TRUE(http::parse_target(req.target, req));
    auto m = router_.match(req);
    if (!m.route) return http::Response{.status = 404};
    // The I/O thread, as in the server: kept running while work is on the pool.
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    std::thread io([&ioc] { ioc.run(); });
    auto fut = asio::co_spawn(ioc, m.route->handler(req), asio::use_future);
    http::Response r = fut.get();
    guard.reset();
    io.join();
    return r;
  }
  http::Response json_call(std::string op, std::string body) {
    http::Request r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"x-amz-target", "AmazonSQS." + op}};
    r.body = std::move(body);
    return send(std::move(r));
  }
  http::Response query_call(std::string body, std::string auth = "", std::string path = "/") {
    http::Request r;
    r.method = "POST";
    r.target = std::move(path);
    if (!auth.empty()) r.headers = {{"authorization", auth}};
    r.body = std::move(body);
    return send(std::move(r));
  }

  asio::thread_pool pool_{1};
  RpcService queues_;
  RpcService metrics_;
  Endpoint endpoint_;
  http::Router router_;
};

TEST_F(EndpointTest, JsonOperationsRunAndAnswerInJson) {
  auto r = json_call("Echo", R"({"a":1})");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/x-amz-json-1.0");
  EXPECT_EQ(json::parse(r.body).at("got").at("a"), 1);
  EXPECT_EQ(json::parse(json_call("Wait", "").body).at("op"), "Wait");
}

TEST_F(EndpointTest, JsonErrorsAreTheProtocolsShape) {
  auto fail = json_call("Fail", "{}");
  EXPECT_EQ(fail.status, 400u);
  EXPECT_EQ(json::parse(fail.body).at("__type"), "QueueDoesNotExist");
  auto bug = json_call("Bug", "{}");
  EXPECT_EQ(bug.status, 500u);
  EXPECT_EQ(json::parse(bug.body).at("__type"), "InternalFailure");
  EXPECT_EQ(json::parse(json_call("Nope", "{}").body).at("__type"), "UnknownOperationException");
  auto bad = json_call("Echo", "[1]");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(json::parse(bad.body).at("__type"), "SerializationException");
}

TEST_F(EndpointTest, QueryGoesToTheServiceWithTheAction) {
  auto r = query_call("Action=OnlyHere&Version=1&A=1&B=2");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("<OnlyHereResponse xmlns=\"http://monitoring/\"><OnlyHereResult><n>2</n>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<RequestId>rid</RequestId>"), std::string::npos);
}

TEST_F(EndpointTest, QueryActionsInTwoServicesGoByCredentialScope) {
  auto first = query_call("Action=Shared");  // no credentials: the first that has it
  EXPECT_NE(first.body.find("<by>sqs</by>"), std::string::npos) << first.body;
  auto scoped = query_call(
      "Action=Shared", "AWS4-HMAC-SHA256 Credential=AK/20261201/us-east-1/monitoring/aws4_request");
  EXPECT_NE(scoped.body.find("<SharedResult><by>monitoring</by></SharedResult>"),
            std::string::npos)
      << scoped.body;
}

TEST_F(EndpointTest, QueryErrors) {
  auto fail = query_call("Action=Fail");
  EXPECT_EQ(fail.status, 400u);
  EXPECT_NE(fail.body.find("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"),
            std::string::npos);
  EXPECT_NE(query_call("Action=Teleport").body.find("<Code>InvalidAction</Code>"),
            std::string::npos);
  auto malformed = query_call("Action=Echo&X.member.0=1");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_NE(malformed.body.find("<Code>MalformedQueryString</Code>"), std::string::npos);
}

TEST_F(EndpointTest, QueryPathsGoToTheirService) {
  // OnlyHere belongs to the other service: on a queue path it is unknown.
  auto r = query_call("Action=OnlyHere", "", "/123456789012/q1");
  EXPECT_NE(r.body.find("<Code>InvalidAction</Code>"), std::string::npos) << r.body;
  auto ok = query_call("Action=Echo&A=1", "", "/123456789012/q1");
  EXPECT_NE(ok.body.find("<EchoResult><got><A>1</A></got></EchoResult>"), std::string::npos)
      << ok.body;
}

}  // namespace
}  // namespace lambent::aws

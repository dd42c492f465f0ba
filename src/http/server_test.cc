// The HTTP server over real loopback sockets: deadlines close stalled connections (the sweeper),
// a server stopped and destroyed with its sweeper pending leaves nothing behind.
#include "http/server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/client.h"
#include "http/stream.h"

namespace lambent::http {
namespace {

// A response body made of the given pieces, in turn.
struct Pieces : BodySource {
  std::vector<std::string> parts;
  size_t i = 0;
  boost::asio::awaitable<Result<std::string_view>> next() override {
    if (i == parts.size()) co_return std::string_view();
    co_return std::string_view(parts[i++]);
  }
};

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  timeval tv{20, 0};  // a hang guard only: the server is expected to close much sooner
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Writes all of `data` in one write(2) (small requests: one segment on loopback).
bool send_text(int fd, std::string_view data) {
  return ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
}

// Everything the server sends until it closes the connection ("" on a hang-guard timeout too,
// told apart by `closed`).
std::string read_to_close(int fd, bool* closed) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    *closed = n == 0;
    return out;
  }
}

struct Fixture {
  Router router;
  boost::asio::io_context ioc;
  std::unique_ptr<Server> server;
  std::thread thread;

  explicit Fixture(ServerOptions options) {
    router.add({.name = "Echo", .method = "POST", .pattern = "/echo", .body_limit = 1024,
                .handler = [](Request& r) -> boost::asio::awaitable<Response> {
                  Response res;
                  res.body = r.body;
                  co_return res;
                }});
    router.add({.name = "Slow", .method = "POST", .pattern = "/slow", .body_limit = 1024,
                .handler = [this](Request& r) -> boost::asio::awaitable<Response> {
                  boost::asio::steady_timer t(ioc, std::chrono::milliseconds(2500));
                  co_await t.async_wait(boost::asio::use_awaitable);
                  Response res;
                  res.body = r.body;
                  co_return res;
                }});
    // Streams the body back as a streamed response: its length, then the bytes in pieces.
    router.add({.name = "Stream",
                .method = "PUT",
                .pattern = "/stream",
                .body_limit = 1 << 20,
                .handler = [](Request& r) -> boost::asio::awaitable<Response> {
                  auto src = std::make_shared<Pieces>();
                  uint64_t total = 0;
                  char buf[7];
                  for (;;) {
                    auto n = co_await r.body_stream->read(buf, sizeof buf);
                    if (!n) throw std::runtime_error(n.error().message);
                    if (*n == 0) break;
                    src->parts.emplace_back(buf, *n);
                    total += *n;
                  }
                  Response res;
                  res.stream = src;
                  res.content_length = total;
                  co_return res;
                },
                .stream_body = true});
    // Echoes a chunked body as a chunked response of unknown length, its trailer last.
    router.add({.name = "Chunked",
                .method = "PUT",
                .pattern = "/chunked",
                .body_limit = 1 << 20,
                .handler = [](Request& r) -> boost::asio::awaitable<Response> {
                  auto src = std::make_shared<Pieces>();
                  char buf[5];
                  for (;;) {
                    auto n = co_await r.body_stream->read(buf, sizeof buf);
                    if (!n) throw std::runtime_error(n.error().message);
                    if (*n == 0) break;
                    src->parts.emplace_back(buf, *n);
                  }
                  src->parts.push_back("|" + r.body_stream->trailer("x-note").value_or("none"));
                  Response res;
                  res.stream = src;
                  co_return res;
                },
                .stream_body = true});
    // Answers without reading the body.
    router.add({.name = "Refuse",
                .method = "PUT",
                .pattern = "/refuse",
                .body_limit = 1 << 20,
                .handler = [](Request&) -> boost::asio::awaitable<Response> {
                  Response res;
                  res.status = 404;
                  res.body = "no";
                  co_return res;
                },
                .stream_body = true});
    router.set_error_responder([](unsigned status, const std::string& m, const Route*) {
      Response r;
      r.status = status;
      r.body = m;
      return r;
    });
    options.log_requests = false;
    server = std::make_unique<Server>(ioc, router, options);
    EXPECT_TRUE(server->listen());
    server->start();
    thread = std::thread([this] { ioc.run(); });
  }
  uint16_t port() const { return server->local_endpoint().port(); }
  ~Fixture() {
    boost::asio::post(ioc, [this] { server->stop(true); });
    thread.join();  // run() returns once every session and the sweeper have ended
  }
};

TEST(HttpServer, IdleAndStalledBodyConnectionsAreClosedAtTheirDeadline) {
  Fixture f({.idle_timeout_seconds = 1, .body_timeout_seconds = 1});
  // Idle: nothing sent after connecting.
  int idle = connect_to(f.port());
  // Stalled body: a header announcing 10 bytes, then only 3.
  int stalled = connect_to(f.port());
  std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
  ASSERT_TRUE(send_text(stalled, head));
  // A healthy request on a third connection is answered meanwhile.
  int ok = connect_to(f.port());
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
  ASSERT_TRUE(send_text(ok, req));
  bool closed = false;
  std::string reply = read_to_close(ok, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\nContent-Length: 5\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\nConnection: close\r\n"), std::string::npos) << reply;
  EXPECT_EQ(reply.substr(reply.size() - 5), "hello");

  closed = false;
  EXPECT_EQ(read_to_close(idle, &closed), "");
  EXPECT_TRUE(closed) << "the idle connection was not closed";
  closed = false;
  EXPECT_EQ(read_to_close(stalled, &closed), "");
  EXPECT_TRUE(closed) << "the stalled body's connection was not closed";
  ::close(idle);
  ::close(stalled);
  ::close(ok);
}

TEST(HttpServer, StreamedBodiesInBothDirections) {
  Fixture f({});
  int fd = connect_to(f.port());
  // Chunked, then Content-Length with 100-continue, then a refusal whose body is drained, then
  // a last request on the same connection.
  std::string chunked =
      "PUT /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n11\r\n, streamed world!\r\n0\r\n\r\n";
  ASSERT_TRUE(send_text(fd, chunked));
  std::string sized = "PUT /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  ASSERT_TRUE(send_text(fd, sized));
  std::string refused = "PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd";
  ASSERT_TRUE(send_text(fd, refused));
  std::string last =
      "PUT /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  ASSERT_TRUE(send_text(fd, last));
  bool closed = false;
  std::string reply = read_to_close(fd, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(reply.find("Content-Length: 22\r\n\r\nhello, streamed world!"), std::string::npos)
      << reply;
  EXPECT_NE(reply.find("Content-Length: 3\r\n\r\nabc"), std::string::npos) << reply;
  EXPECT_NE(reply.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Content-Length: 2\r\nConnection: close\r\n\r\nok"), std::string::npos)
      << reply;
  ::close(fd);

  // A client waiting for `100 Continue` gets it on the handler's first read; a refusal sent
  // instead leaves the connection closed after the answer (the body never comes).
  fd = connect_to(f.port());
  ASSERT_TRUE(send_text(fd,
                        "PUT /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                        "Expect: 100-continue\r\n\r\n"));
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(send_text(fd, "hi"));
  // The head and the streamed body are separate writes: read until the body is in.
  std::string answer;
  while (answer.find("\r\n\r\nhi") == std::string::npos) {
    n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0) << answer;
    answer.append(buf, static_cast<size_t>(n));
  }
  ASSERT_TRUE(send_text(fd,
                        "PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                        "Expect: 100-continue\r\n\r\n"));
  closed = false;
  reply = read_to_close(fd, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  ::close(fd);
}

TEST(HttpServer, ChunkedTrailersInAndAChunkedStreamOut) {
  Fixture f({});
  int fd = connect_to(f.port());
  ASSERT_TRUE(send_text(fd,
                        "PUT /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Trailer: X-Note\r\n\r\n7\r\nabcdefg\r\n0\r\nX-Note: the end\r\n\r\n"));
  // Without a trailer, on the same connection.
  ASSERT_TRUE(send_text(fd,
                        "PUT /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Connection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n"));
  bool closed = false;
  std::string reply = read_to_close(fd, &closed);
  EXPECT_TRUE(closed);
  const std::string first =
      "Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n2\r\nfg\r\n8\r\n|the end\r\n0\r\n\r\n";
  EXPECT_NE(reply.find(first), std::string::npos) << reply;
  EXPECT_EQ(reply.find("Content-Length"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\n\r\n2\r\nhi\r\n5\r\n|none\r\n0\r\n\r\n"), std::string::npos) << reply;
  ::close(fd);
}

TEST(HttpClient, PostsAndReadsTheStatusWithADeadline) {
  Fixture f({});
  auto run = [&](ClientRequest req) {
    return boost::asio::co_spawn(f.ioc, fetch(f.ioc.get_executor(), std::move(req), nullptr),
                                 boost::asio::use_future)
        .get();
  };
  auto ok = run({.method = "POST",
                 .url = "http://127.0.0.1:" + std::to_string(f.port()) + "/echo",
                 .headers = {{"X-A", "1"}},
                 .body = "ping"});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200u);
  EXPECT_EQ(ok->body, "ping");
  auto missing = run({.url = "http://127.0.0.1:" + std::to_string(f.port()) + "/nowhere"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404u);
  // A server that accepts and never answers: the deadline ends the exchange.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(silent, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  auto slow = run({.url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/",
                   .timeout = std::chrono::milliseconds(300)});
  EXPECT_FALSE(slow);
  ::close(silent);
  EXPECT_EQ(run({.url = "ftp://x/"}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(run({.url = "https://127.0.0.1:1/"}).error().code, Errc::kInvalidArgument);
}

TEST(HttpServer, AHandlerOutlivesTheReadAndWriteDeadlines) {
  // Deadlines cover I/O only: a handler slower than them (an Invoke of a slow function) still
  // answers. The body comes after a pause, so it is read under a (1 s) deadline first.
  Fixture f({.idle_timeout_seconds = 1, .body_timeout_seconds = 1});
  int fd = connect_to(f.port());
  std::string head = "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(send_text(fd, head));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(send_text(fd, "slow"));
  bool closed = false;
  std::string reply = read_to_close(fd, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_EQ(reply.substr(reply.size() > 4 ? reply.size() - 4 : 0), "slow");
  ::close(fd);
}

TEST(HttpServer, WithoutADeadlineAnIdleConnectionStaysOpen) {
  Fixture f({.idle_timeout_seconds = 0, .body_timeout_seconds = 1});
  int fd = connect_to(f.port());
  // A request (its response write arms a deadline and starts the sweeper), then silence.
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
  ASSERT_TRUE(send_text(fd, req));
  char buf[512];
  ASSERT_GT(::read(fd, buf, sizeof(buf)), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past several sweeps
  // Still served on the same connection.
  ASSERT_TRUE(send_text(fd, req));
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 200");
  ::close(fd);
}

// Sends one request on `fd` and waits up to `ms` for the first bytes of its answer.
bool answered_within(int fd, int ms) {
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
  if (!send_text(fd, req)) return false;
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[512];
  return ::read(fd, buf, sizeof(buf)) > 0;
}

TEST(HttpServer, AtItsConnectionCapItStopsAcceptingUntilOneCloses) {
  Fixture f({.idle_timeout_seconds = 30, .max_connections = 2});
  int a = connect_to(f.port()), b = connect_to(f.port());
  ASSERT_TRUE(answered_within(a, 5000));
  ASSERT_TRUE(answered_within(b, 5000));
  // The third waits in the backlog: connected by the kernel, never served...
  int c = connect_to(f.port());
  EXPECT_FALSE(answered_within(c, 400)) << "a third connection was served over the cap of 2";
  // ...until one of the two closes.
  ::close(a);
  EXPECT_TRUE(answered_within(c, 5000))
      << "the waiting connection was not served after a slot freed";
  EXPECT_TRUE(answered_within(b, 5000));
  ::close(b);
  ::close(c);
}

TEST(HttpServer, ServersSharingABudgetHoldAtMostItsLimitTogether) {
  auto budget = std::make_shared<ConnectionBudget>(2);
  Fixture one({.idle_timeout_seconds = 30, .budget = budget});
  Fixture two({.idle_timeout_seconds = 30, .budget = budget});
  int a = connect_to(one.port()), b = connect_to(two.port());
  ASSERT_TRUE(answered_within(a, 5000));
  ASSERT_TRUE(answered_within(b, 5000));
  // Over the limit: left in the backlog, or (when an accept was already pending) closed.
  int c = connect_to(two.port());
  EXPECT_FALSE(answered_within(c, 400)) << "served over the shared limit";
  EXPECT_EQ(budget->used.load(), 2u);
  ::close(c);  // (if still in the backlog, it is accepted later and ends at once)
  ::close(a);  // a slot frees on the other server
  int d = connect_to(two.port());
  EXPECT_TRUE(answered_within(d, 5000)) << "not served after a slot freed";
  ::close(b);
  ::close(d);
}

TEST(HttpServer, DestroyedRightAfterAForcedStopWithItsSweeperPending) {
  for (int i = 0; i < 20; ++i) {
    Router router;
    boost::asio::io_context ioc;
    auto server = std::make_unique<Server>(
        ioc, router, ServerOptions{.idle_timeout_seconds = 30, .log_requests = false});
    ASSERT_TRUE(server->listen());
    server->start();
    int fd = connect_to(server->local_endpoint().port());
    // Run until the session is reading its first header (its deadline armed, sweeper waiting).
    ioc.run_for(std::chrono::milliseconds(20));
    server->stop(true);
    server.reset();  // what an environment does once its Runtime API is stopped
    ioc.run();       // the remaining completions must not touch the destroyed server
    ::close(fd);
  }
}

}  // namespace
}  // namespace lambent::http

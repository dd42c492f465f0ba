// An HTTP/1.1 server on Boost.Beast with one coroutine per connection, keep-alive, per-route body
// limits checked before the body is read, `Expect: 100-continue`, a request id on every response,
// one log line per request, and a stop() that lets in-flight requests finish.
// Thread: everything here runs on the io_context it is given (one thread).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/error.h"
#include "http/router.h"

namespace lambent::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  size_t header_limit = 64 * 1024;
  std::string request_id_header = "x-amzn-RequestId";  // empty: no request ids
  int idle_timeout_seconds = 60;  // 0: wait forever (Runtime API: a frozen runtime sends nothing)
  int body_timeout_seconds = 300;
  bool log_requests = true;
  // At most this many connections at once (0: no cap). At the cap the server stops accepting
  // until one closes: further clients wait in the listen backlog, costing the server nothing.
  size_t max_connections = 0;
  // Shared by several servers (e.g. every environment's Runtime API): together they hold at most
  // `limit` connections, so that descriptors stay for the control plane. Null: no shared cap.
  std::shared_ptr<struct ConnectionBudget> budget;
  // Serve HTTPS with this context (certificate and key loaded); null: plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // At most this many connections from one peer address at once (0: no cap); one more is closed
  // as soon as it is accepted. Shared by the servers that share `peer_counts`.
  size_t max_connections_per_peer = 0;
  std::shared_ptr<struct PeerCounts> peer_counts;
};

// Connections per peer address, shared by several servers on one thread (e.g. the platform
// endpoint's HTTP and HTTPS listeners: one environment's share covers both).
struct PeerCounts {
  std::unordered_map<std::string, size_t> open;
};

// A cap on connections shared by several servers (see ServerOptions::budget).
struct ConnectionBudget {
  explicit ConnectionBudget(size_t limit) : limit(limit) {}
  const size_t limit;
  std::atomic<size_t> used{0};  // atomic: the servers may run on different threads
};

class Server final {
 public:
  Server(boost::asio::io_context& ioc, const Router& router, ServerOptions options);
  ~Server();

  // Binds and listens; the chosen port is then available from local_endpoint().
  Result<void> listen();
  // Serves an already listening socket instead (e.g. one created in another network namespace).
  Result<void> adopt(int listening_fd);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  // Stops accepting, closes idle connections, and lets busy ones finish their current request
  // (or, with `force`, closes those too).
  void stop(bool force = false);

 private:
  struct Session;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(std::shared_ptr<Session> s);
  template <typename Stream>
  boost::asio::awaitable<void> serve_on(std::shared_ptr<Session> s, Stream& stream,
                                        const std::string& peer);
  boost::asio::awaitable<Response> dispatch(Request& req, const Route* route);
  // Sets the session's deadline `seconds` from now (none when <= 0) and starts the sweeper.
  void arm(Session& s, int seconds);
  bool at_capacity() const;
  // A connection ended: its share of the caps is free again.
  void release_slot(const std::string& peer_address);
  boost::asio::awaitable<void> sweep_loop();

  boost::asio::io_context& ioc_;
  const Router& router_;
  ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::list<std::weak_ptr<Session>> sessions_;
  boost::asio::steady_timer sweeper_;
  bool sweeping_ = false;
  size_t live_ = 0;  // connections being served
  // The accept loop waits on it while at a cap; a closing connection cancels the wait.
  boost::asio::steady_timer slot_;
  bool waiting_for_slot_ = false;
  // Expires with the server: coroutines that can outlive a stopped server (accept, sessions, the
  // sweeper) check it after a wait that a stop and destruction can interrupt.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopping_ = false;
};

}  // namespace lambent::http

#include "http/server.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "base/codec.h"
#include "base/log.h"
#include "http/stream.h"

namespace lambent::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

struct Server::Session {
  explicit Session(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  bool busy = false;  // between having read a request header and having written its response
  std::string peer_address;  // counted in ServerOptions::peer_counts ("" = not counted)
  // When the current read or write must have finished; the sweeper closes the socket after it.
  // (One clock read per phase instead of a timer armed and cancelled around every operation.)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint64_t kMaxDrainBytes = 256ull << 20;
// What is read and dropped of a streamed body its handler did not read (an upload refused
// before 100 Continue sends none); past it the connection closes.
constexpr uint64_t kMaxStreamDrainBytes = 8ull << 20;

bool body_forbidden(unsigned status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  // A value never ends a header line early: CR and LF become spaces (they cannot come from a
  // parsed request header, but a handler could copy them from a body).
  size_t start = out.size();
  out.append(value);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
  out.append("\r\n");
}

// The response head (status line, headers, Content-Length, Connection), formatted by hand: Beast's
// generic serializer cost ~3 µs per response, a tenth of the I/O thread's time on a warm invoke.
// Same framing as Beast's prepare_payload: no Content-Length (and no body) for 1xx, 204 and 304.
std::string format_head(const Response& res, std::string_view id_header, std::string_view id,
                        bool keep_alive) {
  std::string out;
  out.reserve(256);
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  if (reason == "<unknown-status>") reason = {};  // a status Beast has no phrase for (418)
  out.append("HTTP/1.1 ");
  out.append(std::to_string(res.status));
  out.push_back(' ');
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  if (!id_header.empty()) append_header(out, id_header, id);
  if (!res.content_type.empty()) append_header(out, "Content-Type", res.content_type);
  for (const auto& [k, v] : res.headers) append_header(out, k, v);
  if (!body_forbidden(res.status) && res.stream && !res.content_length) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (!body_forbidden(res.status)) {
    out.append("Content-Length: ");
    out.append(std::to_string(res.content_length ? *res.content_length : res.body.size()));
    out.append("\r\n");
  }
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n");
  return out;
}

// The body of a `stream_body` route, read into the handler's buffer as it pulls: straight from
// the socket when its length is declared, through Beast's parser when it is chunked.
template <typename Stream>
class StreamReader final : public BodyReader {
 public:
  StreamReader(Stream& stream, beast::flat_buffer& buffer,
               bhttp::request_parser<bhttp::buffer_body>& parser, bool expect_continue,
               unsigned version, std::function<void(int)> arm, int timeout)
      : stream_(stream),
        buffer_(buffer),
        parser_(parser),
        expect_continue_(expect_continue),
        version_(version),
        arm_(std::move(arm)),
        timeout_(timeout) {
    // A body of known length is read straight from the socket into the handler's buffer (no
    // second copy through the parser); chunked framing goes through Beast's parser.
    if (!parser_.chunked() && parser_.content_length()) remaining_ = *parser_.content_length();
  }

  asio::awaitable<Result<size_t>> read(char* out, size_t cap) override {
    if (failed_) co_return make_error(Errc::kIo, "the request body was not read");
    if (done() || cap == 0) co_return size_t{0};
    if (expect_continue_ && !continued_) {
      continued_ = true;
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version_};
      arm_(timeout_);
      auto [cec, cn] = co_await bhttp::async_write(stream_, cont, kTuple);
      arm_(0);
      if (cec) {
        failed_ = true;
        co_return make_error(Errc::kIo, "the client went away");
      }
    }
    if (remaining_) {
      if (*remaining_ == 0) co_return size_t{0};
      size_t want = static_cast<size_t>(std::min<uint64_t>(cap, *remaining_));
      if (buffer_.size() > 0) {  // what came with the header
        size_t n = asio::buffer_copy(asio::buffer(out, want), buffer_.data());
        buffer_.consume(n);
        *remaining_ -= n;
        co_return n;
      }
      arm_(timeout_);
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(out, want), kTuple);
      arm_(0);
      if (ec) {
        failed_ = true;
        co_return make_error(Errc::kIo, "the request body ended early: " + ec.message());
      }
      *remaining_ -= n;
      co_return n;
    }
    for (;;) {
      auto& body = parser_.get().body();
      body.data = out;
      body.size = cap;
      body.more = true;
      arm_(timeout_);
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, kTuple);
      arm_(0);
      if (ec == bhttp::error::need_buffer) ec = {};
      size_t got = cap - parser_.get().body().size;
      if (ec) {
        failed_ = true;
        if (ec == bhttp::error::body_limit) {
          co_return make_error(Errc::kInvalidArgument, "the request body is too large");
        }
        co_return make_error(Errc::kIo, "the request body ended early: " + ec.message());
      }
      if (got > 0 || parser_.is_done()) co_return got;
    }
  }
  std::optional<uint64_t> content_length() const override {
    auto n = parser_.content_length();
    return n ? std::optional<uint64_t>(*n) : std::nullopt;
  }
  bool done() const override { return remaining_ ? *remaining_ == 0 : parser_.is_done(); }
  std::optional<std::string> trailer(std::string_view name) const override {
    // Beast adds a chunked body's trailer fields to the message's fields as it parses them.
    if (remaining_ || !parser_.is_done()) return std::nullopt;
    auto it = parser_.get().find(name);
    if (it == parser_.get().end()) return std::nullopt;
    return std::string(it->value());
  }
  bool failed() const { return failed_; }
  // Whether the client holds its body back until it sees `100 Continue` that was not sent.
  bool withheld() const { return expect_continue_ && !continued_; }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  bool expect_continue_;
  bool continued_ = false;
  bool failed_ = false;
  std::optional<uint64_t> remaining_;  // a body of known length, read directly
  unsigned version_;
  std::function<void(int)> arm_;
  int timeout_;
};

}  // namespace

Server::Server(asio::io_context& ioc, const Router& router, ServerOptions options)
    : ioc_(ioc),
      router_(router),
      options_(std::move(options)),
      acceptor_(ioc),
      sweeper_(ioc),
      slot_(ioc) {}

Server::~Server() {
  // Connections still open give their share of a shared budget back with the server (they end
  // without touching it once it is gone).
  if (options_.budget) options_.budget->used -= live_;
}

Result<void> Server::listen() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options_.host, ec);
  if (ec) return make_error(Errc::kInvalidArgument, "bad listen address " + options_.host);
  tcp::endpoint ep(addr, options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::kIo, "listen on " + options_.host + ":" +
                                     std::to_string(options_.port) + ": " + ec.message());
  }
  return {};
}

Result<void> Server::adopt(int fd) {
  boost::system::error_code ec;
  acceptor_.assign(tcp::v4(), fd, ec);
  if (ec) return make_error(Errc::kIo, "adopt listening socket: " + ec.message());
  return {};
}

tcp::endpoint Server::local_endpoint() const { return acceptor_.local_endpoint(); }

void Server::start() { asio::co_spawn(ioc_, accept_loop(), asio::detached); }

void Server::stop(bool force) {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& w : sessions_) {
    auto s = w.lock();
    if (!s) continue;
    if (force || !s->busy) s->socket.close(ec);
    if (force) s->deadline = std::chrono::steady_clock::time_point::max();
  }
  sweeper_.cancel();  // it exits once no live session has a deadline
  slot_.cancel();     // an accept loop waiting for a free slot sees stopping_
}

bool Server::at_capacity() const {
  return (options_.max_connections > 0 && live_ >= options_.max_connections) ||
         (options_.budget && options_.budget->used >= options_.budget->limit);
}

void Server::release_slot(const std::string& peer_address) {
  --live_;
  if (options_.peer_counts && !peer_address.empty()) {
    auto it = options_.peer_counts->open.find(peer_address);
    if (it != options_.peer_counts->open.end() && --it->second == 0) {
      options_.peer_counts->open.erase(it);
    }
  }
  if (options_.budget) --options_.budget->used;
  // Another server sharing the budget may be the one waiting; it polls (below).
  if (waiting_for_slot_) slot_.cancel();
}

asio::awaitable<void> Server::accept_loop() {
  std::weak_ptr<bool> alive = alive_;
  // Accept failures that are about resources (descriptors, memory) are retried after a pause,
  // not at once (a busy loop writing a log line per try), and logged once per episode.
  auto failing_since = std::chrono::steady_clock::time_point{};
  uint64_t failures = 0;
  while (!stopping_) {
    while (at_capacity() && !stopping_) {
      // Wake when one of our connections closes, or poll: a shared budget frees up elsewhere.
      waiting_for_slot_ = true;
      slot_.expires_after(std::chrono::milliseconds(100));
      co_await slot_.async_wait(kTuple);
      if (alive.expired()) co_return;
      waiting_for_slot_ = false;
    }
    if (stopping_) break;
    auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
    if (alive.expired()) co_return;  // stopped and destroyed while the accept was pending
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      if (failures++ == 0) {
        failing_since = std::chrono::steady_clock::now();
        log::warn("accept: {} (retrying every 50 ms; logged once until it recovers)", ec.message());
      }
      slot_.expires_after(std::chrono::milliseconds(50));
      co_await slot_.async_wait(kTuple);
      if (alive.expired()) co_return;
      continue;
    }
    if (failures > 0) {
      log::warn(
          "accept: recovered after {} failed attempts over {:.1f} s", failures,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - failing_since).count());
      failures = 0;
    }
    if (options_.budget && options_.budget->used >= options_.budget->limit) {
      // Another server sharing the budget filled it while our accept was pending: refuse
      // this one (closed at once) rather than hold a descriptor over the limit.
      sock.close(ec);
      continue;
    }
    std::string peer_address;
    if (options_.max_connections_per_peer > 0 && options_.peer_counts) {
      // One peer (e.g. one execution environment on the platform endpoint) may not take the
      // whole budget: past its share, its new connections are closed at once.
      auto ep = sock.remote_endpoint(ec);
      if (!ec) {
        peer_address = ep.address().to_string();
        size_t& open = options_.peer_counts->open[peer_address];
        if (open >= options_.max_connections_per_peer) {
          sock.close(ec);
          continue;
        }
        ++open;
      }
    }
    sock.set_option(tcp::no_delay(true), ec);
    ++live_;
    if (options_.budget) ++options_.budget->used;
    auto s = std::make_shared<Session>(std::move(sock));
    s->peer_address = std::move(peer_address);
    sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
    sessions_.push_back(s);
    asio::co_spawn(ioc_, serve(s), asio::detached);
  }
}

void Server::arm(Session& s, int seconds) {
  if (seconds <= 0) {
    s.deadline = std::chrono::steady_clock::time_point::max();
    return;
  }
  s.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  if (!sweeping_) {
    sweeping_ = true;
    asio::co_spawn(ioc_, sweep_loop(), asio::detached);
  }
}

asio::awaitable<void> Server::sweep_loop() {
  // Once a second, close the sockets of sessions past their deadline (their pending operation
  // then fails and the session ends). Runs only while some session has a deadline.
  std::weak_ptr<bool> alive = alive_;
  for (;;) {
    sweeper_.expires_after(std::chrono::seconds(1));
    co_await sweeper_.async_wait(kTuple);
    if (alive.expired()) co_return;  // the server is gone (its timer's destructor woke us)
    auto now = std::chrono::steady_clock::now();
    bool any = false;
    sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
    for (auto& w : sessions_) {
      auto s = w.lock();
      if (!s || s->deadline == std::chrono::steady_clock::time_point::max()) continue;
      if (s->deadline <= now) {
        boost::system::error_code ec;
        s->socket.close(ec);
        s->deadline = std::chrono::steady_clock::time_point::max();
      } else {
        any = true;
      }
    }
    if (!any) break;
  }
  sweeping_ = false;
}

asio::awaitable<Response> Server::dispatch(Request& req, const Route* route) {
  try {
    co_return co_await route->handler(req);
  } catch (const std::exception& e) {
    // Handlers report expected failures as responses; reaching here is a bug worth a loud log.
    log::error("{} {}: unhandled exception: {}", route->name, req.request_id, e.what());
    co_return router_.error(500, "Internal error", route);
  }
}

asio::awaitable<void> Server::serve(std::shared_ptr<Session> s) {
  std::weak_ptr<bool> alive = alive_;
  std::string peer;
  {
    boost::system::error_code ec;
    auto ep = s->socket.remote_endpoint(ec);
    if (!ec) peer = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  if (options_.tls) {
    asio::ssl::stream<tcp::socket&> tls(s->socket, *options_.tls);
    arm(*s, 10);  // a handshake not done in 10 s is closed (it holds a connection slot)
    auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (alive.expired()) co_return;
    if (!hec) co_await serve_on(s, tls, peer);
  } else {
    co_await serve_on(s, s->socket, peer);
  }
  if (alive.expired()) co_return;
  boost::system::error_code ec;
  s->socket.shutdown(tcp::socket::shutdown_send, ec);
  s->socket.close(ec);
  s->deadline = std::chrono::steady_clock::time_point::max();
  release_slot(s->peer_address);
  // A stopping server's sweeper ends with its last deadline.
  if (stopping_) sweeper_.cancel();
}

template <typename Stream>
asio::awaitable<void> Server::serve_on(std::shared_ptr<Session> s, Stream& stream,
                                       const std::string& peer) {
  std::weak_ptr<bool> alive = alive_;
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options_.header_limit));
    // Beast checks Content-Length against the body limit while parsing the header; the real,
    // per-route limit is applied once the route is known.
    parser.body_limit(boost::none);
    s->busy = false;
    if (stopping_) break;
    arm(*s, options_.idle_timeout_seconds);
    auto [rec, rn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    if (rec) break;  // closed, timed out, or a malformed header: nothing sensible to answer
    s->busy = true;
    auto started = std::chrono::steady_clock::now();

    Request req;
    if (!options_.request_id_header.empty()) req.request_id = uuid4();
    req.peer = peer;
    req.secure = static_cast<bool>(options_.tls);
    auto& hdr = parser.get();
    req.method = std::string(hdr.method_string());
    req.target = std::string(hdr.target());
    for (const auto& f : hdr) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    bool keep_alive = hdr.keep_alive();
    const Route* route = nullptr;
    Response res;
    bool close_after = false;
    size_t drain = 0;  // bytes of a refused body to read and discard after answering

    if (!parse_target(req.target, req)) {
      res = router_.error(400, "Malformed request target", nullptr);
      close_after = true;
    } else {
      auto m = router_.match(req);
      route = m.route;
      size_t limit = route ? route->body_limit : 64 * 1024;
      auto declared = parser.content_length();
      if (declared && *declared > limit) {
        // Refuse before reading: the client may still be sending, so the connection must close.
        res = router_.error(413, "", route);
        close_after = true;
        if (*declared <= kMaxDrainBytes) drain = static_cast<size_t>(*declared);
      } else if (route && route->stream_body) {
        auto expect = req.header("expect");
        bool expect_continue = expect && beast::iequals(*expect, "100-continue");
        unsigned version = hdr.version();
        bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(parser));
        body_parser.body_limit(limit);
        // Beast reads as much as the buffer's free capacity (512 bytes at least): give it room
        // for large reads, or a 64 MB upload takes 130,000 recv calls.
        buffer.reserve(buffer.size() + 256 * 1024);
        StreamReader<Stream> reader(
            stream, buffer, body_parser, expect_continue, version,
            [this, s](int seconds) { arm(*s, seconds); }, options_.body_timeout_seconds);
        req.body_stream = &reader;
        res = co_await dispatch(req, route);
        req.body_stream = nullptr;
        if (alive.expired()) co_return;
        if (!reader.done()) {
          // What the handler left unread: a client holding its body back for `100 Continue`
          // sends nothing more; one already sending is read to the end (bounded) so that it
          // sees the answer rather than a reset; otherwise the connection closes after it.
          close_after = true;
          if (!reader.failed() && !reader.withheld()) {
            std::vector<char> sink(64 * 1024);
            uint64_t left = kMaxStreamDrainBytes;
            while (left > 0 && !reader.done()) {
              auto r = co_await reader.read(sink.data(), sink.size());
              if (!r || *r == 0) break;
              left -= std::min<uint64_t>(left, *r);
            }
            if (reader.done()) close_after = false;
          }
        }
      } else {
        if (auto expect = req.header("expect");
            expect && beast::iequals(*expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, hdr.version()};
          co_await bhttp::async_write(stream, cont, kTuple);
        }
        parser.body_limit(limit);
        // A small body usually arrived with its header: parse what is buffered first and only
        // wait on the socket for the rest.
        boost::system::error_code bec;
        if (!parser.is_done() && buffer.size() > 0) {
          parser.eager(true);
          buffer.consume(parser.put(buffer.data(), bec));
          if (bec == bhttp::error::need_more) bec = {};
        }
        if (!bec && !parser.is_done()) {
          arm(*s, options_.body_timeout_seconds);
          auto [rec2, rn2] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
          bec = rec2;
        }
        // No deadline while the handler runs (an Invoke may take up to 900 s): deadlines cover
        // reading and writing only.
        arm(*s, 0);
        if (bec == bhttp::error::body_limit) {
          res = router_.error(413, "", route);
          close_after = true;
        } else if (bec) {
          break;  // the client went away mid-body
        } else {
          req.body = std::move(parser.get().body());
          if (route) {
            res = co_await dispatch(req, route);
          } else {
            res = router_.error(m.path_matched ? 405 : 404,
                                "No operation matches " + req.method + " " + req.target, nullptr);
          }
        }
      }
    }

    bool keep = keep_alive && !close_after && !stopping_;
    bool no_body = body_forbidden(res.status) || req.method == "HEAD";
    uint64_t body_size = res.content_length ? *res.content_length : res.body.size();
    std::string head = format_head(res, options_.request_id_header, req.request_id, keep);
    std::array<asio::const_buffer, 2> out{
        asio::buffer(head), no_body || res.stream ? asio::const_buffer() : asio::buffer(res.body)};
    arm(*s, options_.body_timeout_seconds);
    auto [wec, wn] = co_await asio::async_write(stream, out, kTuple);
    if (alive.expired()) co_return;  // stopped and destroyed while the write was pending
    if (!wec && res.stream && !no_body) {
      // A streamed body: its pieces as the source makes them, each write under the deadline
      // (not the wait for the next piece: a function may take its time). A source that fails
      // mid-way can only end the connection (the length, or the last chunk, is promised).
      const bool chunked = !res.content_length;
      uint64_t sent = 0;
      for (;;) {
        arm(*s, 0);
        auto piece = co_await res.stream->next();
        if (alive.expired()) co_return;
        if (!piece) {
          log::warn("{} {}: response body failed after {} bytes: {}", route ? route->name : "-",
                    req.request_id, sent, piece.error().message);
          wec = asio::error::broken_pipe;
          break;
        }
        arm(*s, options_.body_timeout_seconds);
        if (piece->empty()) {
          if (chunked) {
            auto [eec, en] =
                co_await asio::async_write(stream, asio::buffer("0\r\n\r\n", 5), kTuple);
            if (alive.expired()) co_return;
            wec = eec;
          }
          break;
        }
        char size_line[24];
        int size_len =
            chunked ? std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece->size()) : 0;
        std::array<asio::const_buffer, 3> chunk{
            asio::buffer(size_line, static_cast<size_t>(size_len)), asio::buffer(*piece),
            chunked ? asio::buffer("\r\n", 2) : asio::const_buffer()};
        auto [pec, pn] = co_await asio::async_write(stream, chunk, kTuple);
        if (alive.expired()) co_return;
        if (pec) {
          wec = pec;
          break;
        }
        sent += piece->size();
      }
      if (!wec && !chunked && sent != body_size)
        wec = asio::error::broken_pipe;  // a source that lied
      res.stream.reset();
    }

    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    if (options_.log_requests) {
      log::info("http {} {} {} {} {}B {:.3f}ms {} {}", peer, req.method, req.target, res.status,
                body_size, us / 1000.0, route ? route->name : "-", req.request_id);
    }
    if (!wec && drain > 0) {
      // The client may still be pushing a body we refused; read it to the end (bounded) so that it
      // sees our 413 instead of a connection reset, as nginx's lingering close does.
      size_t left = drain > buffer.size() ? drain - buffer.size() : 0;
      std::vector<char> sink(64 * 1024);
      arm(*s, 30);
      while (left > 0) {
        auto [dec, dn] = co_await stream.async_read_some(
            asio::buffer(sink.data(), std::min(left, sink.size())), kTuple);
        if (dec) break;
        left -= dn;
      }
    }
    if (wec || !keep) break;
  }
  // The caller closes the connection. (A session whose server was stopped and destroyed while
  // its read was pending ends there without touching the server.)
}

}  // namespace lambent::http

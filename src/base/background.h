// Blocking work started on the worker pool now and awaited later on the I/O thread, so that the
// I/O thread goes on meanwhile (reading the next piece of an upload while the last one is hashed
// and written; reading the next piece of a download while the last one is sent).
// Thread: start() and wait() on the I/O thread that owns `io`; the work runs on the pool.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <utility>

namespace lambent {

template <class T>
class Background final {
 public:
  Background() = default;

  // Runs `f` (returning T) on `pool`; its result is handed back on `io`.
  template <class F>
  void start(boost::asio::thread_pool& pool, const boost::asio::any_io_executor& io, F f) {
    auto st = std::make_shared<State>(io);
    state_ = st;
    boost::asio::post(pool, [st, f = std::move(f)]() mutable {
      T result = f();
      auto ex = st->timer.get_executor();
      boost::asio::post(ex, [st, result = std::move(result)]() mutable {
        st->result = std::move(result);
        st->done = true;
        st->timer.cancel();
      });
    });
  }
  bool started() const { return static_cast<bool>(state_); }

  // The work's result (call once per start).
  boost::asio::awaitable<T> wait() {
    auto st = std::move(state_);
    while (!st->done) {
      co_await st->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return std::move(st->result);
  }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& io) : timer(io) {
      timer.expires_at(boost::asio::steady_timer::time_point::max());
    }
    boost::asio::steady_timer timer;
    T result{};
    bool done = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace lambent

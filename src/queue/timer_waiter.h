// A Waiter for a coroutine on an io_context: wake() (any thread) cancels the timer the coroutine
// waits on; a wake that arrives while the coroutine is not waiting is remembered, so the next
// wait() returns at once. Spurious returns are possible: callers re-check.
#pragma once

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "queue/queue_service.h"

namespace lambent::queue {

class TimerWaiter final : public Waiter, public std::enable_shared_from_this<TimerWaiter> {
 public:
  explicit TimerWaiter(boost::asio::any_io_executor ex) : timer_(ex) {}

  void wake() override {
    woken_ = true;
    boost::asio::post(timer_.get_executor(),
                      [self = shared_from_this()] { self->timer_.cancel(); });
  }
  // Returns when woken or at the deadline.
  boost::asio::awaitable<void> wait(boost::asio::steady_timer::time_point deadline) {
    if (woken_.exchange(false)) co_return;
    timer_.expires_at(deadline);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    woken_ = false;
  }

 private:
  std::atomic<bool> woken_{false};
  boost::asio::steady_timer timer_;
};

}  // namespace lambent::queue

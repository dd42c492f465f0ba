// A wake-up for one waiting coroutine on one io_context: wait() suspends until notify() or the
// deadline. The waiter re-checks its condition in a loop; with one thread there is no lost wake-up
// between the check and the wait. One waiter at a time (expires_at cancels a pending wait).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lambent::scheduler {

class Signal final {
 public:
  explicit Signal(boost::asio::any_io_executor ex) : timer_(ex) {
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
  }
  // Returns false when the deadline passed.
  boost::asio::awaitable<bool> wait(boost::asio::steady_timer::time_point deadline) {
    timer_.expires_at(deadline);
    auto [ec] = co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return static_cast<bool>(ec);  // operation_aborted = notified; no error = deadline
  }
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace lambent::scheduler

// Runs blocking work (SQLite, fsync, hashing, zip extraction) on the worker pool and resumes the
// calling coroutine on its own executor when done, so the I/O loop never blocks.
//
// GCC 12 destroys a lambda temporary written inside a co_await expression twice: callers pass a
// named callable (std::move'd) whenever it captures anything with a destructor (e.g. a string).
// The result type must be default-constructible (co_spawn's completion on an exception).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace lambent {

template <class F>
auto offload(boost::asio::thread_pool& pool, F&& f) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  return boost::asio::co_spawn(
      pool,
      [fn = Fn(std::forward<F>(f))]() mutable -> boost::asio::awaitable<R> { co_return fn(); },
      boost::asio::use_awaitable);
}

}  // namespace lambent

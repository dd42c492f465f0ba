// Runs blocking work (SQLite, fsync, hashing, zip extraction) on the worker pool and resumes the
// calling coroutine on its own executor when done, so the I/O loop never blocks.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <type_traits>

namespace lambent::http {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> offload(boost::asio::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F>;
  // co_spawn's completion passes a default-constructed value on exception; optional makes any R fit.
  auto out = co_await boost::asio::co_spawn(
      pool,
      [f = std::move(f)]() mutable -> boost::asio::awaitable<std::optional<R>> {
        co_return std::optional<R>(f());
      },
      boost::asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace lambent::http

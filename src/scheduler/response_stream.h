// The bytes of a streamed response on their way from an environment's Runtime API (the runtime
// POSTs /response with Lambda-Runtime-Function-Response-Mode: streaming) to the caller that
// invoked (InvokeWithResponseStream, a RESPONSE_STREAM function URL), piece by piece while the
// function still runs. The writer waits while more than `window` bytes are unread, so a slow
// reader slows the function's writes, never the server's memory; a reader that goes away
// (cancel) turns further writes into no-ops.
// Thread: one io_context; one writer and one reader at a time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "scheduler/signal.h"

namespace lambent::scheduler {

class ResponseStream final {
 public:
  static constexpr size_t kDefaultWindow = 1 << 20;

  explicit ResponseStream(boost::asio::any_io_executor ex, size_t window = kDefaultWindow)
      : readable_(ex), writable_(ex), window_(window) {}

  // Writer. The runtime's Content-Type, when it begins (application/octet-stream by default;
  // application/vnd.awslambda.http-integration-response for an HTTP prelude).
  void begin(std::string content_type) {
    content_type_ = std::move(content_type);
    begun_ = true;
    readable_.notify();
  }
  // Copies `data`; false when the reader went away or the stream was closed.
  boost::asio::awaitable<bool> write(std::string_view data) {
    while (!cancelled_ && !closed_ && unread_ >= window_) {
      co_await writable_.wait(boost::asio::steady_timer::time_point::max());
    }
    if (cancelled_ || closed_) co_return false;
    if (!data.empty()) {
      chunks_.emplace_back(data);
      unread_ += data.size();
      written_ += data.size();
      readable_.notify();
    }
    co_return true;
  }
  // No more bytes: the invocation finished (the reader then looks at its outcome).
  void close() {
    closed_ = true;
    readable_.notify();
    writable_.notify();
  }

  // Reader. Waits until the runtime began streaming or the stream closed.
  boost::asio::awaitable<void> wait_begun() {
    while (!begun_ && !closed_) {
      co_await readable_.wait(boost::asio::steady_timer::time_point::max());
    }
  }
  // The next piece (what is buffered, joined up to `max` bytes); nullopt once closed and drained.
  boost::asio::awaitable<std::optional<std::string>> read(size_t max = 256 * 1024) {
    while (chunks_.empty() && !closed_) {
      co_await readable_.wait(boost::asio::steady_timer::time_point::max());
    }
    if (chunks_.empty()) co_return std::nullopt;
    std::string out = std::move(chunks_.front());
    chunks_.pop_front();
    while (!chunks_.empty() && out.size() + chunks_.front().size() <= max) {
      out += chunks_.front();
      chunks_.pop_front();
    }
    unread_ -= out.size();
    writable_.notify();
    co_return out;
  }
  void cancel() {
    cancelled_ = true;
    chunks_.clear();
    unread_ = 0;
    writable_.notify();
  }

  bool begun() const { return begun_; }
  bool closed() const { return closed_; }
  bool cancelled() const { return cancelled_; }
  size_t written() const { return written_; }
  const std::string& content_type() const { return content_type_; }

 private:
  Signal readable_;  // the reader waits on it
  Signal writable_;  // the writer waits on it
  size_t window_;
  std::deque<std::string> chunks_;
  size_t unread_ = 0;
  size_t written_ = 0;
  std::string content_type_;
  bool begun_ = false;
  bool closed_ = false;
  bool cancelled_ = false;
};

}  // namespace lambent::scheduler

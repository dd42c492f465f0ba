// An invocation whose response is streamed on as it is made (InvokeWithResponseStream,
// RESPONSE_STREAM function URLs): it runs in the background while the caller reads the
// response's pieces; once they end, the result is there. A caller that goes away (the handle is
// destroyed) cancels the stream: the function's further writes are dropped, the invocation runs
// to its end as on AWS.
// Thread: the io_context thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "invoke/invoker.h"
#include "scheduler/response_stream.h"

namespace lambent::invoke {

class StreamingCall final {
 public:
  static std::unique_ptr<StreamingCall> start(boost::asio::any_io_executor ex, Invoker& invoker,
                                              Resolved target, InvokeInput input);
  ~StreamingCall();

  // Until the runtime begins streaming, or the invocation ended without (result() then set).
  boost::asio::awaitable<void> wait_begun() { return state_->stream.wait_begun(); }
  // The next piece; nullopt at the end (result() then set).
  boost::asio::awaitable<std::optional<std::string>> read() { return state_->stream.read(); }
  // The runtime's Content-Type for its streamed response ("" when it did not stream).
  const std::string& content_type() const { return state_->stream.content_type(); }
  bool streamed() const { return state_->stream.begun(); }
  const std::optional<InvokeResult>& result() const { return state_->result; }

 private:
  struct State {
    explicit State(boost::asio::any_io_executor ex) : stream(ex) {}
    scheduler::ResponseStream stream;
    std::optional<InvokeResult> result;
  };
  explicit StreamingCall(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace lambent::invoke

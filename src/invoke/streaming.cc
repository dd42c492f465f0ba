#include "invoke/streaming.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace lambent::invoke {

std::unique_ptr<StreamingCall> StreamingCall::start(boost::asio::any_io_executor ex,
                                                    Invoker& invoker, Resolved target,
                                                    InvokeInput input) {
  auto state = std::make_shared<State>(ex);
  // The stream is shared by the environment (input.stream) and the reader; the state outlives
  // a reader that went away.
  input.stream = std::shared_ptr<scheduler::ResponseStream>(state, &state->stream);
  auto run = [](std::shared_ptr<State> s, Invoker& inv, Resolved t,
                InvokeInput in) -> boost::asio::awaitable<void> {
    InvokeResult r;
    try {
      r = co_await inv.invoke(t, std::move(in));
    } catch (const std::exception& e) {
      r.status = InvokeResult::kServiceError;
      r.message = e.what();
    }
    s->result = std::move(r);
    s->stream.close();
  };
  boost::asio::co_spawn(ex, run(state, invoker, std::move(target), std::move(input)),
                        boost::asio::detached);
  return std::unique_ptr<StreamingCall>(new StreamingCall(std::move(state)));
}

StreamingCall::~StreamingCall() { state_->stream.cancel(); }

}  // namespace lambent::invoke

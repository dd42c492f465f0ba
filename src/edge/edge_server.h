// The edge: one HTTP listener for every distribution (by Host — `<label>.cloudfront.<domain>`,
// `<distribution-id>.cloudfront.<domain>` or an alternate domain name — or by the path form
// `/_lambent/edge/<distribution-id>/<path>`), serving each request as CloudFront does: the
// behaviour its path selects, the viewer protocol policy, the viewer-request trigger, then the
// cache (by the behaviour's cache key; fresh objects answer with `X-Cache: Hit from cloudfront`
// and `Age`, stale ones are revalidated with the origin), and on a miss the origin-request
// trigger, the origin (HTTP, or a Lambent bucket read in process), the origin-response trigger and
// the TTL; concurrent misses for one key wait for one origin request. Then the viewer-response
// trigger, conditional answers (304) and byte ranges (206/416). Trigger failures answer
// CloudFront's 502/503 pages (LambdaValidationError, LambdaExecutionError, LambdaLimitExceeded).
// Thread: the I/O thread; disk reads and writes of the cache go to the worker pool.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "edge/cache.h"
#include "edge/distributions.h"
#include "http/router.h"

namespace lambent::edge {

// What running a trigger's function gave.
struct TriggerOutcome {
  enum Kind { kOk, kFunctionError, kThrottled, kUnavailable } kind = kOk;
  std::string payload;  // kOk: the function's answer; otherwise why
};
// Runs function `name` version `version` synchronously with `event` (a Lambda@Edge replica:
// its log group is /aws/lambda/us-east-1.<name>).
using RunTrigger = std::function<boost::asio::awaitable<TriggerOutcome>(
    const std::string& name, const std::string& version, std::string event,
    const std::string& request_id)>;
// Serves a request to a Lambent bucket in process (a path-style GET /<bucket>/<key>).
using LocalOrigin = std::function<boost::asio::awaitable<http::Response>(http::Request&)>;

struct EdgeCounters {
  std::atomic<uint64_t> requests{0}, hits{0}, misses{0}, errors{0}, origin_requests{0},
      lambda_invocations{0}, lambda_errors{0}, collapsed{0};
};

class EdgeServer final {
 public:
  struct Deps {
    boost::asio::thread_pool& pool;
    Distributions& distributions;
    Cache& cache;
    RunTrigger run_trigger;
    LocalOrigin local_origin;
    boost::asio::ssl::context* tls = nullptr;  // for https origins
  };
  explicit EdgeServer(Deps deps) : deps_(std::move(deps)) {}

  // Every request on the router is the edge's.
  void add_routes(http::Router& router);
  const EdgeCounters& counters() const { return counters_; }
  // Prometheus text: the edge's counters and cache sizes.
  std::string metrics_text() const;

 private:
  struct Ctx;
  struct Pending;
  boost::asio::awaitable<http::Response> serve(http::Request& req);
  // Runs the trigger for `event_type`, if the behaviour has one. False: the request ends with
  // `ctx.failure` (an error page) or `ctx.generated`.
  boost::asio::awaitable<bool> trigger(Ctx& ctx, const char* event_type, EdgeResponse* response);
  // The object for the request from the origin (through the origin triggers), stored when
  // cacheable; concurrent callers for one key share one fetch.
  boost::asio::awaitable<std::shared_ptr<const CachedObject>> miss(Ctx& ctx);
  boost::asio::awaitable<std::shared_ptr<CachedObject>> fetch(Ctx& ctx,
                                                              const CachedObject* revalidate);
  boost::asio::awaitable<Result<EdgeResponse>> call_origin(Ctx& ctx, const EdgeRequest& request,
                                                           const CachedObject* revalidate);
  boost::asio::awaitable<std::shared_ptr<const std::string>> body_of(const CachedObject& object);
  boost::asio::awaitable<http::Response> answer(Ctx& ctx, EdgeResponse response,
                                                std::shared_ptr<const std::string> body,
                                                const char* x_cache, int64_t age_s);
  void remove_doomed();

  Deps deps_;
  EdgeCounters counters_;
  std::unordered_map<std::string, std::shared_ptr<Pending>> pending_;
};

// CloudFront's error page for `status`, with the reason line.
std::string error_page(unsigned status, std::string_view reason, std::string_view request_id);

}  // namespace lambent::edge

// Concurrency admission (compat §1.10): executions in flight per function. A function with
// reserved concurrency may run that many (0 disables it); the others share what the reservations
// leave of the account limit. Beyond that an invocation is throttled with AWS's Reason.
// Thread: the io_context thread; throttle_counts() from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "telemetry/metrics.h"

namespace lambent::invoke {

class Admission final {
 public:
  Admission(int64_t account_limit, telemetry::Metrics* metrics)
      : limit_(account_limit), metrics_(metrics) {}

  // The function's reservation (nullopt: none).
  void set_reserved(const std::string& name, std::optional<int64_t> reserved);

  // Counts an execution in: nullptr when admitted (`unreserved` says from which pool, for
  // leave()), else the TooManyRequestsException Reason, and the throttle is counted.
  const char* admit(const std::string& name, bool& unreserved);
  void leave(const std::string& name, bool unreserved);

  // Invocations refused for concurrency, per function (for metrics).
  std::map<std::string, uint64_t> throttle_counts() const;

 private:
  int64_t limit_;
  telemetry::Metrics* metrics_;
  std::map<std::string, int64_t> reserved_;
  int64_t reserved_total_ = 0;
  std::map<std::string, int64_t> inflight_;
  int64_t inflight_unreserved_ = 0;
  int64_t inflight_total_ = 0;
  mutable std::mutex throttles_mu_;
  std::map<std::string, uint64_t> throttles_;
};

}  // namespace lambent::invoke

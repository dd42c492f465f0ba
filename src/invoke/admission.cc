#include "invoke/admission.h"

#include <algorithm>

namespace lambent::invoke {

void Admission::set_reserved(const std::string& name, std::optional<int64_t> reserved) {
  if (auto it = reserved_.find(name); it != reserved_.end()) {
    reserved_total_ -= it->second;
    reserved_.erase(it);
  }
  if (reserved) {
    reserved_[name] = *reserved;
    reserved_total_ += *reserved;
  }
}

const char* Admission::admit(const std::string& name, bool& unreserved) {
  int64_t& inflight = inflight_[name];
  const char* refused = nullptr;
  if (auto it = reserved_.find(name); it != reserved_.end()) {
    if (inflight >= it->second) refused = "ReservedFunctionConcurrentInvocationLimitExceeded";
    unreserved = false;
  } else {
    if (inflight_unreserved_ >= limit_ - reserved_total_) {
      refused = "ConcurrentInvocationLimitExceeded";
    }
    unreserved = true;
  }
  if (refused) {
    if (inflight == 0) inflight_.erase(name);
    std::lock_guard lock(throttles_mu_);
    ++throttles_[name];
    return refused;
  }
  if (unreserved) ++inflight_unreserved_;
  ++inflight;
  ++inflight_total_;
  if (metrics_) metrics_->concurrency(name, inflight, inflight_total_, inflight_unreserved_);
  return nullptr;
}

void Admission::leave(const std::string& name, bool unreserved) {
  int64_t now_inflight = 0;
  if (auto it = inflight_.find(name); it != inflight_.end()) {
    now_inflight = --it->second;
    if (now_inflight <= 0) inflight_.erase(it);
  }
  if (unreserved) --inflight_unreserved_;
  --inflight_total_;
  if (metrics_) {
    metrics_->concurrency(name, std::max<int64_t>(now_inflight, 0), inflight_total_,
                          inflight_unreserved_);
  }
}

std::map<std::string, uint64_t> Admission::throttle_counts() const {
  std::lock_guard lock(throttles_mu_);
  return throttles_;
}

}  // namespace lambent::invoke

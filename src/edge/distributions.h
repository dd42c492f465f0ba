// Distributions: held in memory (parsed once) and written through to the store, with CloudFront's
// control-plane rules — unique caller references (the same request again answers the same
// distribution), version tokens checked on update and delete (If-Match), aliases owned by one
// distribution, deletion only once disabled, Lambda@Edge associations checked against the
// functions — and invalidations, which the edge applies at once (the cache drops what they cover
// before the batch is answered, so it is Completed when created).
// Thread: any; calls that write block on the store (the worker pool). Readers take a snapshot
// (a shared_ptr) under a mutex; the edge reads them on the I/O thread.
#pragma once

#include <boost/system/result.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/node.h"
#include "edge/config.h"
#include "edge/lambda_edge.h"
#include "store/store.h"

namespace lambent::edge {

[[noreturn]] void throw_exception_from_error(const ConfigError& e,
                                             const boost::source_location& loc);
template <class T>
using EdgeResult = boost::system::result<T, ConfigError>;

struct Distribution {
  store::DistributionRecord record;
  DistributionConfig config;
  std::string domain_name;  // <label>.cloudfront.<domain>
  std::string arn;
};

struct Invalidation {
  store::InvalidationRecord record;
};

class Distributions final {
 public:
  // `domain`: the edge's DNS domain ("" = cloudfront.net names, reachable by Host header or the
  // path form only).
  Distributions(store::Store& store, NodeIdentity node, std::string domain);
  Result<void> load();

  // Called after an invalidation is stored (the edge drops the cached objects).
  void set_invalidated(
      std::function<void(const std::string& id, const std::vector<std::string>&)> f) {
    invalidated_ = std::move(f);
  }
  // Called after a distribution changed or (null) was deleted (the edge drops its objects).
  void set_changed(std::function<void(const std::string& id)> f) { changed_ = std::move(f); }

  // Create, from a request body (its Lambda@Edge associations checked through `lookup`)
  // (DistributionConfig, or with `with_tags` DistributionConfigWithTags). The same request again
  // answers the same distribution.
  EdgeResult<std::shared_ptr<const Distribution>> create(std::string_view body, bool with_tags,
                                                         const FunctionLookup& lookup);
  EdgeResult<std::shared_ptr<const Distribution>> update(const std::string& id,
                                                         const std::string& if_match,
                                                         std::string_view body,
                                                         const FunctionLookup& lookup);
  EdgeResult<void> remove(const std::string& id, const std::string& if_match);
  EdgeResult<std::shared_ptr<const Distribution>> get(const std::string& id) const;
  std::vector<std::shared_ptr<const Distribution>> list() const;

  EdgeResult<Invalidation> invalidate(const std::string& id, std::string_view body);
  EdgeResult<Invalidation> invalidation(const std::string& id, const std::string& inv) const;
  EdgeResult<std::vector<Invalidation>> invalidations(const std::string& id) const;

  EdgeResult<std::map<std::string, std::string>> tags(const std::string& arn) const;
  EdgeResult<void> tag(const std::string& arn, const std::map<std::string, std::string>& add,
                       const std::vector<std::string>& remove);

  // The edge's lookups (I/O thread).
  std::shared_ptr<const Distribution> by_host(std::string_view host) const;
  std::shared_ptr<const Distribution> by_id(std::string_view id) const;

  std::string arn_of(const std::string& id) const;

 private:
  std::shared_ptr<const Distribution> make(store::DistributionRecord record,
                                           DistributionConfig config) const;
  std::optional<ConfigError> check_aliases(const DistributionConfig& c,
                                           const std::string& self) const;
  void index(std::shared_ptr<const Distribution> d);
  void unindex(const std::string& id);

  store::Store& store_;
  NodeIdentity node_;
  std::string domain_;
  std::function<void(const std::string&, const std::vector<std::string>&)> invalidated_;
  std::function<void(const std::string&)> changed_;
  mutable std::mutex mu_;
  std::mutex write_mu_;  // one control-plane change at a time (checks, then the store)
  std::map<std::string, std::shared_ptr<const Distribution>> by_id_;
  std::map<std::string, std::string, std::less<>> by_host_;  // label, id (lower) or alias → id
  std::map<std::string, std::vector<store::InvalidationRecord>> invalidations_;
};

// CloudFront-style identifiers: a letter and 13 upper-case letters and digits.
std::string new_id(char first);

}  // namespace lambent::edge

#include "invoke/provisioning.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cmath>
#include <set>

#include "base/log.h"

namespace lambent::invoke {
namespace asio = boost::asio;

void Provisioning::reconcile(const std::string& name,
                             const std::shared_ptr<const store::Function>& now) {
  uint64_t generation = ++generation_[name];
  std::set<scheduler::ProvisionKey> wanted;
  if (now) {
    for (const auto& p : now->provisioned) {
      std::vector<std::pair<std::string, int64_t>> parts;  // version, count
      if (const store::Alias* a = now->find_alias(p.qualifier)) {
        int64_t extra_count = 0;
        if (!a->additional_weights.empty()) {
          const auto& [extra, weight] = *a->additional_weights.begin();
          extra_count = std::llround(static_cast<double>(p.requested) * weight);
          if (extra_count > 0) parts.emplace_back(extra, extra_count);
        }
        parts.emplace(parts.begin(), a->function_version, p.requested - extra_count);
      } else {
        parts.emplace_back(p.qualifier, p.requested);
      }
      for (size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].second <= 0) continue;
        scheduler::ProvisionKey key{name, p.qualifier, i == 0 ? "" : parts[i].first};
        wanted.insert(key);
        asio::co_spawn(ioc_, provision(key, parts[i].first, now, parts[i].second, generation),
                       asio::detached);
      }
    }
  }
  for (const auto& key : scheduler_.provisioned_keys(name)) {
    if (!wanted.count(key)) scheduler_.unprovision(key);
  }
}

asio::awaitable<void> Provisioning::provision(scheduler::ProvisionKey key, std::string version,
                                              std::shared_ptr<const store::Function> f,
                                              int64_t count, uint64_t generation) {
  const store::FunctionVersion* v = f->find_version(version);
  if (!v) co_return;
  log::debug("provisioned concurrency {}:{}: {} environment(s) of version {}", key.function,
             key.qualifier, count, version);
  InvokeResult failure;
  auto spec = co_await contract_.build(*f, *v, failure);
  auto current = generation_.find(key.function);
  if (current == generation_.end() || current->second != generation) co_return;  // superseded
  if (!spec) {
    log::warn("provisioned concurrency {}:{} cannot start: {}", key.function, key.qualifier,
              failure.message.empty() ? failure.outcome.payload : failure.message);
    co_return;
  }
  scheduler_.provision(key, std::move(*spec), count);
}

}  // namespace lambent::invoke

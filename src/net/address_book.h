// Which environment has which address, as far as the platform endpoint's DNS needs to know:
// whether names beyond the platform may be resolved for it. Entries are written when an
// environment is spawned and overwritten when its address is given to the next one (an
// address nobody has sends nothing).
// Thread: any.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "net/egress.h"

namespace lambent::net {

class AddressBook final {
 public:
  void set(uint32_t address, bool resolves_outside) {
    std::lock_guard lock(mu_);
    entries_[address] = resolves_outside;
  }
  bool resolves_outside(uint32_t address) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(address);
    return it != entries_.end() && it->second;
  }
  // The policy an environment ends up with: the node's mode unless its own says otherwise;
  // names outside are resolved when it can reach anything outside.
  static bool reaches_outside(const Egress& node, const Egress& own) {
    return own.mode.value_or(*node.mode) == EgressMode::kInternet || !own.allow.empty() ||
           (!own.mode && !node.allow.empty());
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, bool> entries_;
};

}  // namespace lambent::net

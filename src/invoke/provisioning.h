// Provisioned concurrency, reconciled: after every change of a function, the sets of environments
// its configurations want (one per configuration; an alias with weighted routing splits its
// environments between its two versions by weight, as AWS does) are started, resized or stopped
// in the scheduler. Statuses are the scheduler's (Scheduler::provisioned_status).
// Thread: the io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>

#include "invoke/contract.h"
#include "scheduler/scheduler.h"

namespace lambent::invoke {

class Provisioning final {
 public:
  Provisioning(boost::asio::io_context& ioc, scheduler::Scheduler& scheduler,
               EnvironmentContract& contract)
      : ioc_(ioc), scheduler_(scheduler), contract_(contract) {}

  // `name` changed (nullptr: deleted).
  void reconcile(const std::string& name, const std::shared_ptr<const store::Function>& now);

 private:
  boost::asio::awaitable<void> provision(scheduler::ProvisionKey key, std::string version,
                                         std::shared_ptr<const store::Function> f, int64_t count,
                                         uint64_t generation);

  boost::asio::io_context& ioc_;
  scheduler::Scheduler& scheduler_;
  EnvironmentContract& contract_;
  std::map<std::string, uint64_t> generation_;  // per function: a newer reconcile wins
};

}  // namespace lambent::invoke

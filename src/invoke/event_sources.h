// Event source mappings on built-in queues (compat §5.2–5.3): per enabled mapping, pollers that
// receive batches (BatchSize, MaximumBatchingWindowInSeconds, 6 MB), invoke the function
// synchronously with the SQS event ({"Records":[…]}), delete the batch on success, leave it for
// redelivery after the visibility timeout on failure (and so, through the queue's redrive policy,
// to its dead-letter queue after maxReceiveCount), and honour ReportBatchItemFailures.
// ScalingConfig.MaximumConcurrency caps the batches in flight (default 5, the pollers SQS mappings
// start with on AWS).
// Mappings are stored; State moves through Creating/Updating/Enabling/Disabling/Deleting to
// Enabled or Disabled once the pollers have started or stopped.
// Thread: the API calls (put/remove/get/list) from any thread; pollers on the io_context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "invoke/invoker.h"
#include "queue/queue_service.h"
#include "store/store.h"

namespace lambent::invoke {

struct MappingConfig {
  std::string uuid;
  std::string function;   // name
  std::string qualifier;  // "" = unqualified
  std::string source_arn;
  int64_t batch_size = 10;
  int64_t window_seconds = 0;
  int64_t max_concurrency = 0;  // 0: not set (ScalingConfig absent)
  bool enabled = true;
  bool report_failures = false;  // FunctionResponseTypes ["ReportBatchItemFailures"]
  int64_t last_modified_ms = 0;
};

struct MappingView {
  MappingConfig config;
  std::string state;
  std::string last_result;
};

class EventSourceMappings final {
 public:
  EventSourceMappings(boost::asio::io_context& ioc, boost::asio::thread_pool& pool,
                      store::Store& store, Invoker& invoker, queue::QueueService& queues,
                      NodeIdentity node);

  // Loads the stored mappings and starts the enabled ones.
  Result<void> restore();
  void stop();

  // Stores the mapping and (re)starts or stops its pollers; `transition` is the state reported
  // until that happened (Creating, Updating, Enabling, Disabling). Blocking (store).
  Result<MappingView> put(const MappingConfig& m, const char* transition);
  // Removes the mapping; its pollers stop. Returns it in state Deleting. kNotFound when absent.
  Result<MappingView> remove(const std::string& uuid);
  std::optional<MappingView> get(const std::string& uuid) const;
  std::vector<MappingView> list() const;

 private:
  struct Runner;
  void apply(const std::string& uuid);  // io thread: start/stop pollers to match the config
  boost::asio::awaitable<void> poll(std::shared_ptr<Runner> r, size_t index);
  boost::asio::awaitable<void> process(std::shared_ptr<Runner> r, const Resolved& target,
                                       std::vector<queue::ReceivedMessage> batch);
  void set_result(const std::string& uuid, std::string result);

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  store::Store& store_;
  Invoker& invoker_;
  queue::QueueService& queues_;
  NodeIdentity node_;

  struct Entry {
    MappingConfig config;
    std::string transition;  // "" once applied
    std::string last_result = "No records processed";
  };
  static MappingView view(const Entry& e);
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::shared_ptr<Runner>> runners_;  // io thread only
  bool stopping_ = false;
};

}  // namespace lambent::invoke

// One execution environment: a sandboxed runtime process for one function version, serving one
// invocation at a time through its Runtime API, frozen while idle, and writing START/END/REPORT
// and the function's output to its log stream.
// Life: starting (spawned, runtime initializing) -> ready (between invocations) <-> busy ->
// dead (exited, killed, timed out, init failed). A dead environment is never reused.
// Thread: the io_context thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "runtime/runtime_api.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawner.h"
#include "scheduler/response_stream.h"
#include "scheduler/signal.h"
#include "telemetry/log_store.h"

namespace lambent::scheduler {

// The outcome of one invocation, as the Invoke response needs it.
struct Outcome {
  // kSandboxError: the platform could not build the environment (payload: why); the invocation
  // fails with a ServiceException, not as a function error.
  enum Kind { kSuccess, kFunctionError, kTimeout, kInitTimeout, kSandboxError } kind = kSuccess;
  std::string payload;   // response bytes or error JSON
  std::string log_tail;  // this invocation's log text (START..REPORT), for LogType=Tail
  std::string executed_version;
  double duration_ms = 0;    // the invocation's Duration (REPORT)
  bool provisioned = false;  // ran in a provisioned-concurrency environment
};

struct EnvironmentInfo {
  std::string function_name;
  std::string version;        // $LATEST or N
  std::string log_group;
  int64_t memory_mb = 128;
  int64_t timeout_s = 3;
  std::string fingerprint;    // code + configuration this environment was built from
  // LoggingConfig: JSON platform records instead of START/END/REPORT text, at or above this
  // level (SystemLogLevel DEBUG, INFO or WARN; the platform's records are INFO).
  bool json_logs = false;
  std::string system_log_level = "INFO";
};

class Environment final : public runtime::Host,
                          public std::enable_shared_from_this<Environment> {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kInitLimit = std::chrono::seconds(10);

  Environment(boost::asio::io_context& ioc, boost::asio::thread_pool& pool, EnvironmentInfo info,
              telemetry::LogStore& logs, std::string id);
  ~Environment() override;

  // Takes over the spawned process and its cgroup, and starts serving the Runtime API.
  Result<void> adopt(const sandbox::SpawnResult& spawned, std::unique_ptr<sandbox::Cgroup> cgroup,
                     Clock::time_point spawn_started);

  // Runs one invocation: waits for Init on a cold environment (at most `init_limit` from spawn),
  // delivers the event, waits for the outcome or the deadline. A timeout, crash or init failure
  // leaves the environment dead. kInitTimeout asks the caller to retry Init as AWS does.
  // `stream`, when given, receives a streamed response's bytes as the runtime posts them (the
  // outcome's payload then holds none of them); without it a streamed response is collected
  // into the payload, up to the buffered limit, as Invoke answers a streaming function.
  boost::asio::awaitable<Outcome> invoke(runtime::Invocation inv, Clock::duration init_limit,
                                         std::shared_ptr<ResponseStream> stream = nullptr);

  // Runs Init ahead of any invocation (provisioned concurrency): waits until the runtime asks for
  // its first event. Returns "" when ready, else why it failed (the environment is then dead).
  // The first invocation then reports no Init Duration, as on AWS.
  boost::asio::awaitable<std::string> initialize(Clock::duration init_limit);
  // Provisioned environments are kept warm: never reaped or evicted.
  bool provisioned() const { return provisioned_; }
  void set_provisioned(bool p) { provisioned_ = p; }

  // Kills the process tree; the environment becomes dead at once.
  void kill(const char* why);
  bool dead() const { return state_ == State::kDead; }
  bool reusable() const { return state_ == State::kReady; }
  bool initialized() const { return initialized_; }
  const EnvironmentInfo& info() const { return info_; }
  const std::string& id() const { return id_; }
  const std::string& log_stream() const { return log_stream_; }
  Clock::time_point last_used() const { return last_used_; }
  Clock::time_point spawn_started() const { return spawn_started_; }
  // Freezes the environment once it has been idle (runtime parked in /next) for `after`; a
  // runtime that comes back to /next later than that is frozen `after` its return.
  void schedule_freeze(Clock::duration after);

  // runtime::Host
  boost::asio::awaitable<std::optional<runtime::Invocation>> next() override;
  Accept response(const std::string& request_id, std::string body) override;
  Accept error(const std::string& request_id, std::string body, std::string error_type) override;
  Accept init_error(std::string body, std::string error_type) override;
  void response_too_large() override;
  std::shared_ptr<void> keep_alive() override;
  Accept stream_begin(const std::string& request_id, std::string content_type) override;
  boost::asio::awaitable<bool> stream_write(const std::string& request_id,
                                            std::string_view data) override;
  void stream_end(const std::string& request_id, std::string error_type, std::string error_body,
                  bool truncated) override;

 private:
  enum class State { kStarting, kReady, kBusy, kDead };
  struct Current {
    runtime::Invocation inv;
    bool delivered = false;
    std::optional<Outcome> outcome;
    std::string log;  // this invocation's log text
    Clock::time_point started;
    std::shared_ptr<ResponseStream> stream;  // the caller reading a streamed response
    bool streaming = false;                  // the runtime is streaming its response
    std::string collected;                   // a streamed response nobody streams on
  };
  // The invocation `request_id` names, delivered and without an outcome yet; else null.
  Current* answerable(const std::string& request_id);

  boost::asio::awaitable<void> watch_exit();
  // Reads the environment's output into log events, a slice at a time (the I/O thread serves
  // others between slices), and not at all while the log store is congested with this
  // environment's lines: the function's writes then wait on its full pipe, not the server.
  boost::asio::awaitable<void> read_output();
  // Reads what the pipe holds now, at most `max_bytes`; closes it at EOF.
  void drain_output(size_t max_bytes = kDrainAllBytes);
  static constexpr size_t kOutputSliceBytes = 64 * 1024;
  static constexpr size_t kDrainAllBytes = 1 << 20;
  void log_line(std::string line);
  // START / END / REPORT as text, or as platform.* JSON records under LoggingConfig JSON.
  void log_start(const std::string& id);
  void log_end_and_report(const std::string& id, double duration_ms, uint64_t peak_bytes,
                          bool with_init, const char* status);
  void finish(Outcome::Kind kind, std::string payload);
  std::string exit_description() const;
  // What a sandbox that failed before its runtime started reported (start_error_): a bad
  // executable is the function's error (Runtime.InvalidEntrypoint), anything else the platform's.
  Outcome start_failure(const std::string& request_id) const;
  void thaw();

  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& pool_;
  EnvironmentInfo info_;
  telemetry::LogStore& logs_;
  std::string id_;
  std::string log_stream_;
  telemetry::StreamRef log_ref_;
  State state_ = State::kStarting;
  std::shared_ptr<sandbox::Cgroup> cgroup_;  // shared with writes posted to pool_
  std::unique_ptr<runtime::RuntimeApiServer> api_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> output_;
  Signal next_signal_;    // wakes the runtime's /next
  Signal invoke_signal_;  // wakes invoke() (init done, outcome, exit)
  boost::asio::steady_timer freeze_timer_;
  std::optional<Current> current_;
  bool runtime_waiting_ = false;  // the runtime is parked in /next
  bool frozen_ = false;
  Clock::duration freeze_after_{0};  // zero until the scheduler first released it idle
  bool initialized_ = false;
  std::optional<std::pair<std::string, std::string>> init_error_;  // body, type
  UniqueFd start_error_fd_;  // the sandbox's error pipe, until its runtime first calls the API
  std::string start_error_;  // "step: reason" read from it after an early exit
  std::optional<int> exit_status_;  // waitid status: >= 0 exit code, < 0 -signal
  uint64_t oom_kills_at_start_ = 0;
  Clock::time_point spawn_started_;
  double init_ms_ = 0;
  bool report_init_ = false;
  bool provisioned_ = false;
  Clock::time_point last_used_ = Clock::now();
  std::string partial_line_;
};

// Formats for log lines (compat §3.5).
std::string iso8601_ms(int64_t epoch_ms);

}  // namespace lambent::scheduler

#include "scheduler/environment.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <ctime>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"

namespace lambent::scheduler {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr size_t kTailBytes = 4096;
// CloudWatch Logs' largest event: 256 KiB, of which 26 bytes are its per-event overhead.
constexpr size_t kMaxEventBytes = 256 * 1024 - 26;

std::string error_json(const std::string& type, const std::string& message) {
  return json::serialize(json::object{{"errorMessage", message}, {"errorType", type}});
}

double ms_since(Environment::Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Environment::Clock::now() - t).count();
}
}  // namespace

std::string iso8601_ms(int64_t epoch_ms) {
  std::string s = format_timestamp(epoch_ms);  // 2020-04-10T19:06:32.563+0000
  return s.substr(0, 23) + "Z";
}

Environment::Environment(asio::io_context& ioc, asio::thread_pool& pool, EnvironmentInfo info,
                         telemetry::LogStore& logs, std::string id)
    : ioc_(ioc),
      pool_(pool),
      info_(std::move(info)),
      logs_(logs),
      id_(std::move(id)),
      next_signal_(ioc.get_executor()),
      invoke_signal_(ioc.get_executor()),
      freeze_timer_(ioc) {
  // Stream name: YYYY/MM/DD/[version]<32 hex>, dated at environment creation (compat §3.5).
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof(date), "%Y/%m/%d", &tm);
  log_stream_ = std::string(date) + "/[" + info_.version + "]" + hex_encode(random_bytes(16));
  log_ref_ = telemetry::LogStore::stream_ref(info_.log_group, log_stream_);
}

Environment::~Environment() = default;

Result<void> Environment::adopt(const sandbox::SpawnResult& spawned,
                                std::unique_ptr<sandbox::Cgroup> cgroup,
                                Clock::time_point spawn_started) {
  cgroup_ = std::move(cgroup);
  spawn_started_ = spawn_started;
  oom_kills_at_start_ = cgroup_->oom_kills();
  pidfd_ = std::make_unique<asio::posix::stream_descriptor>(ioc_, spawned.pidfd);
  output_ = std::make_unique<asio::posix::stream_descriptor>(ioc_, spawned.output_fd);
  start_error_fd_.reset(spawned.start_error_fd);
  boost::system::error_code ec;
  output_->non_blocking(true, ec);
  api_ = std::make_unique<runtime::RuntimeApiServer>(ioc_, *this);
  auto started = api_->start(spawned.listen_fd);
  auto self = shared_from_this();
  asio::co_spawn(ioc_, [self]() { return self->watch_exit(); }, asio::detached);
  asio::co_spawn(ioc_, [self]() { return self->read_output(); }, asio::detached);
  if (!started) {
    kill("runtime api failed");
    return started.error();
  }
  return {};
}

asio::awaitable<void> Environment::watch_exit() {
  auto self = shared_from_this();
  // Readable once the process has exited (or on cancellation at shutdown: waitid then reaps it
  // after the kill below).
  co_await pidfd_->async_wait(asio::posix::stream_descriptor::wait_read,
                              asio::as_tuple(asio::use_awaitable));
  siginfo_t si{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_->native_handle()), &si, WEXITED) == 0) {
    exit_status_ = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
  } else {
    exit_status_ = -SIGKILL;
  }
  if (start_error_fd_) {
    // Exited before its runtime ever called the API: did building the sandbox or exec fail? The
    // only writer has exited, so this read ends at once.
    char buf[1024];
    ssize_t n;
    while ((n = ::read(start_error_fd_.get(), buf, sizeof(buf))) > 0) {
      start_error_.append(buf, static_cast<size_t>(n));
    }
    start_error_fd_.reset();
    if (!start_error_.empty()) {
      log::warn("environment {} of {} did not start: {}", id_, info_.function_name, start_error_);
    }
  }
  bool was_dead = state_ == State::kDead;
  state_ = State::kDead;
  if (!was_dead) log::debug("environment {} of {} exited ({})", id_, info_.function_name, exit_description());
  drain_output();
  if (current_ && current_->delivered && !current_->outcome) {
    bool oom = cgroup_ && cgroup_->oom_kills() > oom_kills_at_start_;
    finish(Outcome::kFunctionError,
           error_json(oom ? "Runtime.OutOfMemory" : "Runtime.ExitError",
                      "RequestId: " + current_->inv.request_id +
                          " Error: Runtime exited with error: " + exit_description()));
  }
  next_signal_.notify();
  invoke_signal_.notify();
  if (api_) api_->stop(true);
  // Give the Runtime API sessions a moment to unwind before this object can go away.
  asio::steady_timer grace(ioc_, std::chrono::milliseconds(200));
  co_await grace.async_wait(asio::as_tuple(asio::use_awaitable));
  if (cgroup_) {
    asio::post(pool_, [cg = std::move(cgroup_)] { cg->destroy(); });
  }
  boost::system::error_code ignored;
  output_->close(ignored);
}

asio::awaitable<void> Environment::read_output() {
  auto self = shared_from_this();
  asio::steady_timer pause(ioc_);
  for (;;) {
    if (logs_.congested(log_ref_)) {
      // The writer is behind with this environment's lines (or everyone's): wait for it.
      pause.expires_after(std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!output_->is_open()) break;
      continue;
    }
    auto [ec] = co_await output_->async_wait(asio::posix::stream_descriptor::wait_read,
                                             asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    drain_output(kOutputSliceBytes);  // closes the descriptor at EOF
    if (!output_->is_open()) break;
  }
}

void Environment::drain_output(size_t max_bytes) {
  if (!output_ || !output_->is_open()) return;
  char buf[16384];
  for (size_t taken = 0; taken < max_bytes;) {
    ssize_t n = ::read(output_->native_handle(), buf, std::min(sizeof(buf), max_bytes - taken));
    if (n > 0) {
      taken += static_cast<size_t>(n);
      partial_line_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = partial_line_.find('\n', start)) != std::string::npos; start = nl + 1) {
        log_line(partial_line_.substr(start, nl - start));
      }
      partial_line_.erase(0, start);
      if (partial_line_.size() >= kMaxEventBytes) {  // a line without end: cut it into events
        log_line(std::move(partial_line_));
        partial_line_.clear();
      }
      continue;
    }
    if (n == 0) {  // EOF: every process of the environment has closed its output
      if (!partial_line_.empty()) log_line(std::move(partial_line_));
      partial_line_.clear();
      boost::system::error_code ec;
      output_->close(ec);
    }
    return;  // EAGAIN or error
  }
}

void Environment::log_line(std::string line) {
  // CloudWatch's event size: a longer line becomes several events.
  while (line.size() > kMaxEventBytes) {
    log_line(line.substr(0, kMaxEventBytes));
    line.erase(0, kMaxEventBytes);
  }
  if (current_) {
    // Only the invocation's tail is ever shown (LogType=Tail): keep that much, not all of it.
    std::string& log = current_->log;
    log += line;
    log += '\n';
    if (log.size() > 2 * kTailBytes) log.erase(0, log.size() - kTailBytes);
  }
  logs_.append(log_ref_, now_ms(), std::move(line));
}

void Environment::log_start(const std::string& id) {
  if (!info_.json_logs) {
    log_line("START RequestId: " + id + " Version: " + info_.version);
    return;
  }
  if (info_.system_log_level == "WARN") return;
  log_line(json::serialize(json::object{
      {"time", iso8601_ms(now_ms())},
      {"type", "platform.start"},
      {"record", json::object{{"requestId", id}, {"version", info_.version}}}}));
}

void Environment::log_end_and_report(const std::string& id, double duration_ms,
                                     uint64_t peak_bytes, bool with_init, const char* status) {
  int64_t billed = static_cast<int64_t>(std::ceil(duration_ms));
  int64_t max_mb = static_cast<int64_t>((peak_bytes + (1 << 20) - 1) >> 20);
  if (!info_.json_logs) {
    log_line("END RequestId: " + id);
    std::string r = fmt::format(
        "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory Size: {} MB\t"
        "Max Memory Used: {} MB\t",
        id, duration_ms, billed, info_.memory_mb, max_mb);
    if (with_init) r += fmt::format("Init Duration: {:.2f} ms\t", init_ms_);
    if (std::string_view(status) == "timeout") r += "Status: timeout";
    log_line(std::move(r));
    return;
  }
  if (info_.system_log_level == "WARN") return;
  auto rounded = [](double v) { return std::round(v * 100) / 100; };
  std::string time = iso8601_ms(now_ms());
  log_line(json::serialize(json::object{
      {"time", time},
      {"type", "platform.runtimeDone"},
      {"record", json::object{{"requestId", id},
                              {"status", status},
                              {"metrics", json::object{{"durationMs", rounded(duration_ms)}}}}}}));
  json::object metrics{{"durationMs", rounded(duration_ms)},
                       {"billedDurationMs", billed},
                       {"memorySizeMB", info_.memory_mb},
                       {"maxMemoryUsedMB", max_mb}};
  if (with_init) metrics["initDurationMs"] = rounded(init_ms_);
  log_line(json::serialize(json::object{
      {"time", time},
      {"type", "platform.report"},
      {"record", json::object{{"requestId", id}, {"metrics", std::move(metrics)}, {"status", status}}}}));
}

std::string Environment::exit_description() const {
  if (!exit_status_) return "unknown";
  if (*exit_status_ >= 0) return "exit status " + std::to_string(*exit_status_);
  return *exit_status_ == -SIGKILL ? "signal: killed" : "signal: " + std::to_string(-*exit_status_);
}

Outcome Environment::start_failure(const std::string& request_id) const {
  Outcome o;
  o.executed_version = info_.version;
  // The sandbox writes "exec <path>: <strerror>" when exec itself fails: the package's
  // executable cannot run (not a binary nor a script, not executable, a missing interpreter).
  // AWS reports that as Go's "fork/exec <path>: exec format error".
  if (start_error_.rfind("exec ", 0) == 0) {
    std::string what = start_error_.substr(5);
    auto colon = what.rfind(": ");
    if (colon != std::string::npos && colon + 2 < what.size()) {
      what[colon + 2] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[colon + 2])));
    }
    o.kind = Outcome::kFunctionError;
    o.payload = error_json("Runtime.InvalidEntrypoint",
                           "RequestId: " + request_id + " Error: fork/exec " + what);
  } else {
    o.kind = Outcome::kSandboxError;
    o.payload = "the execution environment could not be built: " + start_error_;
  }
  return o;
}

void Environment::thaw() {
  if (frozen_ && cgroup_) {
    (void)cgroup_->thaw();
    frozen_ = false;
  }
}

void Environment::schedule_freeze(Clock::duration after) {
  freeze_after_ = after;
  freeze_timer_.expires_after(after);
  std::weak_ptr<Environment> weak = weak_from_this();
  freeze_timer_.async_wait([weak, after](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or cancelled
    auto self = weak.lock();
    if (!self) return;
    if (self->state_ == State::kReady && self->runtime_waiting_ && !self->frozen_ &&
        self->cgroup_ && Clock::now() - self->last_used_ >= after) {
      self->frozen_ = static_cast<bool>(self->cgroup_->freeze());
    }
  });
}

void Environment::kill(const char* why) {
  if (state_ == State::kDead && exit_status_) return;
  freeze_timer_.cancel();
  log::debug("environment {} of {}: killing ({})", id_, info_.function_name, why);
  state_ = State::kDead;
  if (pidfd_) ::syscall(SYS_pidfd_send_signal, pidfd_->native_handle(), SIGKILL, nullptr, 0);
  thaw();  // frozen tasks only die once thawed
  next_signal_.notify();
  invoke_signal_.notify();
  if (api_) api_->stop(true);
}

void Environment::finish(Outcome::Kind kind, std::string payload) {
  if (!current_ || current_->outcome) return;
  drain_output();  // output written before the response belongs to this invocation
  Outcome o;
  o.kind = kind;
  o.payload = std::move(payload);
  o.executed_version = info_.version;
  current_->outcome = std::move(o);
  invoke_signal_.notify();
}

asio::awaitable<Outcome> Environment::invoke(runtime::Invocation inv, Clock::duration init_limit,
                                             std::shared_ptr<ResponseStream> stream) {
  auto self = shared_from_this();
  last_used_ = Clock::now();
  if (state_ == State::kDead) {
    Outcome dead{Outcome::kFunctionError,
                 error_json("Runtime.ExitError", "RequestId: " + inv.request_id +
                                                     " Error: Runtime exited with error: " +
                                                     exit_description())};
    dead.executed_version = info_.version;
    co_return dead;
  }
  current_.emplace();
  current_->inv = std::move(inv);
  current_->stream = std::move(stream);
  const std::string id = current_->inv.request_id;

  auto finish_record = [&](Outcome out, bool report) {
    // END and REPORT close the invocation's log; the tail goes back with LogType=Tail.
    out.provisioned = provisioned_;
    if (report) {
      double duration = ms_since(current_->started);
      out.duration_ms = duration;
      uint64_t peak = cgroup_ ? cgroup_->memory_peak_bytes() : 0;
      const char* status = out.kind == Outcome::kTimeout         ? "timeout"
                           : out.kind == Outcome::kFunctionError ? "error"
                                                                 : "success";
      log_end_and_report(id, duration, peak, report_init_, status);
    }
    report_init_ = false;
    std::string& log = current_->log;
    out.log_tail = log.size() > kTailBytes ? log.substr(log.size() - kTailBytes) : log;
    out.executed_version = info_.version;
    current_.reset();
    last_used_ = Clock::now();
    if (state_ == State::kBusy) state_ = State::kReady;
    return out;
  };

  if (!initialized_) {
    auto deadline = spawn_started_ + init_limit;
    while (!initialized_ && !init_error_ && state_ != State::kDead) {
      if (!co_await invoke_signal_.wait(deadline)) break;
    }
    current_->started = Clock::now();
    if (init_error_) {
      // The runtime reported its own Init failure (e.g. Runtime.ImportModuleError).
      init_ms_ = ms_since(spawn_started_);
      report_init_ = true;
      log_start(id);
      std::string body = init_error_->first.empty()
                             ? error_json(init_error_->second.empty() ? "Runtime.Unknown"
                                                                      : init_error_->second,
                                          "Init failed")
                             : init_error_->first;
      kill("init error");
      co_return finish_record(Outcome{Outcome::kFunctionError, body}, true);
    }
    if (state_ == State::kDead && !start_error_.empty()) {
      report_init_ = true;
      init_ms_ = ms_since(spawn_started_);
      log_start(id);
      Outcome failed = start_failure(id);
      if (failed.kind == Outcome::kFunctionError) log_line(failed.payload);
      co_return finish_record(std::move(failed), true);
    }
    if (state_ == State::kDead) {
      log_start(id);
      bool oom = cgroup_ && cgroup_->oom_kills() > oom_kills_at_start_;
      std::string body =
          error_json(oom ? "Runtime.OutOfMemory" : "Runtime.ExitError",
                     "RequestId: " + id + " Error: Runtime exited with error: " + exit_description());
      co_return finish_record(Outcome{Outcome::kFunctionError, body}, true);
    }
    if (!initialized_) {
      double limit_ms = std::chrono::duration<double, std::milli>(init_limit).count();
      log_line(fmt::format("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: timeout",
                           limit_ms));
      kill("init timeout");
      co_return finish_record(Outcome{Outcome::kInitTimeout, ""}, false);
    }
    report_init_ = true;
  }

  // Deliver.
  thaw();
  if (cgroup_) cgroup_->reset_memory_peak();
  state_ = State::kBusy;
  current_->started = Clock::now();
  current_->inv.deadline_ms = now_ms() + info_.timeout_s * 1000;
  auto deadline = current_->started + std::chrono::seconds(info_.timeout_s);
  log_start(id);
  next_signal_.notify();
  while (!current_->outcome && state_ != State::kDead) {
    if (!co_await invoke_signal_.wait(deadline)) break;
  }
  if (!current_->outcome) {
    if (state_ != State::kDead || !exit_status_) {
      // Timed out: AWS reports it, logs it, and resets the environment.
      double secs = std::chrono::duration<double>(Clock::now() - current_->started).count();
      std::string msg = fmt::format("{} {} Task timed out after {:.2f} seconds",
                                    iso8601_ms(now_ms()), id, secs);
      log_line(msg);
      kill("timeout");
      current_->outcome = Outcome{Outcome::kTimeout, error_json("Sandbox.Timedout", msg)};
    } else {
      current_->outcome = Outcome{
          Outcome::kFunctionError,
          error_json("Runtime.ExitError",
                     "RequestId: " + id + " Error: Runtime exited with error: " + exit_description())};
    }
  }
  Outcome out = std::move(*current_->outcome);
  co_return finish_record(std::move(out), true);
}

asio::awaitable<std::string> Environment::initialize(Clock::duration init_limit) {
  auto self = shared_from_this();
  auto deadline = spawn_started_ + init_limit;
  while (!initialized_ && !init_error_ && state_ != State::kDead) {
    if (!co_await invoke_signal_.wait(deadline)) break;
  }
  if (initialized_ && state_ != State::kDead) {
    log_line(fmt::format("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: success",
                         init_ms_));
    last_used_ = Clock::now();
    co_return std::string();
  }
  std::string why;
  if (init_error_) {
    why = "FUNCTION_ERROR_INIT_FAILED: " +
          (init_error_->second.empty() ? std::string("Runtime.Unknown") : init_error_->second);
    log_line(fmt::format("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: error\t"
                         "Error Type: {}",
                         ms_since(spawn_started_), init_error_->second));
  } else if (state_ == State::kDead && !start_error_.empty()) {
    Outcome failed = start_failure("");
    why = failed.kind == Outcome::kFunctionError
              ? "FUNCTION_ERROR_INIT_FAILED: Runtime.InvalidEntrypoint"
              : failed.payload;
  } else if (state_ == State::kDead) {
    why = "FUNCTION_ERROR_INIT_FAILED: Runtime exited with error: " + exit_description();
  } else {
    why = "FUNCTION_ERROR_INIT_FAILED: Init timed out";
    log_line(fmt::format("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: timeout",
                         std::chrono::duration<double, std::milli>(init_limit).count()));
  }
  kill("init failed");
  co_return why;
}

asio::awaitable<std::optional<runtime::Invocation>> Environment::next() {
  auto self = shared_from_this();
  if (!initialized_ && state_ == State::kStarting) {
    initialized_ = true;
    start_error_fd_.reset();  // the runtime runs: the sandbox was built and exec succeeded
    init_ms_ = ms_since(spawn_started_);
    state_ = State::kReady;
    invoke_signal_.notify();
    // Init ran with a whole CPU (sandbox::init_cpu_quota); from here on the share of a CPU is
    // proportional to memory, as on AWS. Written off this thread: one cgroup write can take a
    // few hundred microseconds. (A write that loses a race with destroy() just fails.)
    int64_t quota = sandbox::cpu_quota_for_memory(info_.memory_mb);
    if (cgroup_ && quota != sandbox::init_cpu_quota(info_.memory_mb)) {
      asio::post(pool_, [cg = cgroup_, quota] { (void)cg->set_cpu_quota(quota); });
    }
  }
  runtime_waiting_ = true;
  // Idle and not frozen: the runtime came back after the freeze was due (a slow or throttled
  // runtime, or one that lingers after its response). Freeze it now too, whatever it did since.
  if (state_ == State::kReady && freeze_after_.count() > 0 && !frozen_) {
    schedule_freeze(freeze_after_);
  }
  for (;;) {
    if (state_ == State::kDead) {
      runtime_waiting_ = false;
      co_return std::nullopt;
    }
    if (current_ && state_ == State::kBusy && !current_->delivered) {
      current_->delivered = true;
      runtime_waiting_ = false;
      co_return current_->inv;
    }
    co_await next_signal_.wait(asio::steady_timer::time_point::max());
  }
}

Environment::Current* Environment::answerable(const std::string& request_id) {
  if (!current_ || !current_->delivered || current_->inv.request_id != request_id ||
      current_->outcome) {
    return nullptr;
  }
  return &*current_;
}

runtime::Host::Accept Environment::response(const std::string& request_id, std::string body) {
  Current* c = answerable(request_id);
  if (!c || c->streaming) return Accept::kUnknownId;
  finish(Outcome::kSuccess, std::move(body));
  return Accept::kOk;
}

runtime::Host::Accept Environment::error(const std::string& request_id, std::string body,
                                         std::string error_type) {
  Current* c = answerable(request_id);
  if (!c || c->streaming) return Accept::kUnknownId;
  if (body.empty()) body = error_json(error_type.empty() ? "Runtime.Unknown" : error_type, "");
  finish(Outcome::kFunctionError, std::move(body));
  return Accept::kOk;
}

std::shared_ptr<void> Environment::keep_alive() { return shared_from_this(); }

runtime::Host::Accept Environment::stream_begin(const std::string& request_id,
                                                std::string content_type) {
  Current* c = answerable(request_id);
  if (!c || c->streaming) return Accept::kUnknownId;
  c->streaming = true;
  if (c->stream) c->stream->begin(std::move(content_type));
  return Accept::kOk;
}

asio::awaitable<bool> Environment::stream_write(const std::string& request_id,
                                                std::string_view data) {
  auto self = shared_from_this();
  Current* c = answerable(request_id);
  if (!c || !c->streaming) co_return false;
  if (auto stream = c->stream) {
    // The caller's window: the runtime's next piece waits until the caller has read this one.
    co_return co_await stream->write(data);
  }
  // Nobody streams it on (Invoke of a streaming function): the response as one payload, within
  // the buffered limit.
  if (c->collected.size() + data.size() > runtime::kMaxResponseBytes) {
    response_too_large();
    co_return false;
  }
  c->collected.append(data);
  co_return true;
}

void Environment::stream_end(const std::string& request_id, std::string error_type,
                             std::string error_body, bool truncated) {
  Current* c = answerable(request_id);
  if (!c || !c->streaming) return;
  if (truncated) {
    finish(Outcome::kFunctionError,
           error_json("Runtime.TruncatedResponse",
                      "RequestId: " + request_id + " Error: the streamed response ended early"));
  } else if (!error_type.empty() || !error_body.empty()) {
    if (error_body.empty()) error_body = error_json(error_type, "");
    finish(Outcome::kFunctionError, std::move(error_body));
  } else {
    finish(Outcome::kSuccess, std::move(c->collected));
  }
}

runtime::Host::Accept Environment::init_error(std::string body, std::string error_type) {
  if (initialized_) return Accept::kWrongState;
  init_error_ = std::make_pair(std::move(body), std::move(error_type));
  invoke_signal_.notify();
  return Accept::kOk;
}

void Environment::response_too_large() {
  if (current_ && current_->delivered && !current_->outcome) {
    finish(Outcome::kFunctionError,
           error_json("Function.ResponseSizeTooLarge",
                      "Response payload size exceeded maximum allowed payload size (" +
                          std::to_string(runtime::kMaxResponseBytes) + " bytes)."));
  }
}

}  // namespace lambent::scheduler

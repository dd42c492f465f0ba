// The scheduler's logic without root: environments are plain processes (a small Runtime API
// client in Python) started by a test launcher, with a cgroup that does nothing, and keep-alive
// time moved on by a test clock. What is checked: warm reuse, LRU eviction under the memory
// budget, keep-alive reaping, retirement when a function changes, and provisioned concurrency
// (fill, replacement of a dead environment, FAILED on an Init error).
#include "scheduler/scheduler.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>

#include "base/codec.h"

extern char** environ;

namespace lambent::scheduler {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Echoes each event; with FAKE_INIT_ERROR set, reports an Init error and exits.
constexpr const char* kRuntime = R"py(
import http.client, os, sys
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
c = http.client.HTTPConnection(host, int(port))
def call(method, path, body=None, headers={}):
    c.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers)
    r = c.getresponse()
    return r, r.read()
if os.environ.get("FAKE_INIT_ERROR"):
    call("POST", "/init/error", b'{"errorMessage":"boom","errorType":"Boom"}',
         {"Lambda-Runtime-Function-Error-Type": "Runtime.Boom"})
    sys.exit(1)
while True:
    r, body = call("GET", "/invocation/next")
    call("POST", "/invocation/%s/response" % r.getheader("Lambda-Runtime-Aws-Request-Id"), body)
)py";

class NoCgroup final : public sandbox::Cgroup {
 public:
  Result<void> set_limits(const sandbox::CgroupLimits&) override { return {}; }
  Result<void> set_cpu_quota(int64_t) override { return {}; }
  std::vector<std::string> procs_files() const override { return {}; }
  Result<void> freeze() override { return {}; }
  Result<void> thaw() override { return {}; }
  uint64_t memory_peak_bytes() override { return 0; }
  void reset_memory_peak() override {}
  uint64_t oom_kills() override { return 0; }
  void destroy() override {}
};

// Starts the runtime above as a plain child process, its Runtime API on 127.0.0.1:<any port>.
class ProcessLauncher final : public Launcher {
 public:
  Result<Launched> launch(const sandbox::EnvironmentSpec& spec) override {
    ++launches;
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener, 16) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return make_error(Errc::kIo, "listen");
    }
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      return make_error(Errc::kIo, "pipe");
    }
    std::vector<std::string> env;
    for (const auto& kv : spec.env) {
      if (kv.rfind("AWS_LAMBDA_RUNTIME_API=", 0) != 0) env.push_back(kv);
    }
    env.push_back("AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
    std::vector<char*> envp;
    for (auto& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    std::string python = "/usr/bin/python3", dash_c = "-c", script = kRuntime;
    char* argv[] = {python.data(), dash_c.data(), script.data(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, python.c_str(), &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);  // the "error pipe": EOF, as after a successful exec
    if (rc != 0) return make_error(Errc::kIo, "posix_spawn");
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    sandbox::SpawnResult r;
    r.pid = pid;
    r.pidfd = pidfd;
    r.listen_fd = listener;
    r.output_fd = out[0];
    r.start_error_fd = err[0];
    return Launched{r, std::make_unique<NoCgroup>()};
  }
  std::atomic<int> launches{0};
};

// steady_clock moved on by the test.
class TestClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now() + offset; }
  std::chrono::steady_clock::duration offset{};
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lambent-sched-" + hex_encode(random_bytes(4)));
    std::filesystem::create_directories(dir_);
    auto logs = telemetry::LogStore::open((dir_ / "logs.db").string());
    ASSERT_TRUE(logs);
    logs_ = std::move(*logs);
  }
  void TearDown() override {
    if (sched_) {
      sched_->stop();
      run_for(50ms);  // the killed processes are reaped
      sched_.reset();
    }
    logs_.reset();
    std::filesystem::remove_all(dir_);
  }
  void make(int64_t budget_mb, std::chrono::seconds keep_alive = 300s) {
    SchedulerOptions o;
    o.keep_alive = keep_alive;
    o.memory_budget_mb = budget_mb;
    sched_ = std::make_unique<Scheduler>(ioc_, pool_, &launcher_, *logs_, dir_, o, "", &clock_);
  }
  static VersionSpec spec(const std::string& function, const std::string& fingerprint,
                          int64_t memory_mb = 128, bool init_error = false) {
    VersionSpec s;
    s.info.function_name = function;
    s.info.version = "$LATEST";
    s.info.log_group = "/aws/lambda/" + function;
    s.info.memory_mb = memory_mb;
    s.info.timeout_s = 10;
    s.info.fingerprint = fingerprint;
    s.env = {"PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001"};
    if (init_error) s.env.push_back("FAKE_INIT_ERROR=1");
    return s;
  }
  // Runs the I/O loop until `f` is ready (environments keep it busy forever).
  template <class T>
  T wait(std::future<T> f) {
    while (f.wait_for(0s) != std::future_status::ready) ioc_.run_one_for(10ms);
    return f.get();
  }
  void run_for(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) ioc_.run_one_for(5ms);
  }
  std::shared_ptr<Environment> acquire(const VersionSpec& s) {
    auto r = wait(asio::co_spawn(ioc_, sched_->acquire(s), asio::use_future));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : nullptr;
  }
  Outcome invoke(const std::shared_ptr<Environment>& env, std::string payload) {
    runtime::Invocation inv;
    inv.request_id = uuid4();
    inv.payload = std::move(payload);
    return wait(asio::co_spawn(ioc_, env->invoke(inv, Environment::kInitLimit), asio::use_future));
  }
  // Acquires, invokes once and releases: the environment that served.
  std::shared_ptr<Environment> use(const VersionSpec& s) {
    auto env = acquire(s);
    if (!env) return nullptr;
    Outcome o = invoke(env, R"({"n":1})");
    EXPECT_EQ(o.kind, Outcome::kSuccess) << o.payload;
    EXPECT_EQ(o.payload, R"({"n":1})");
    sched_->release(env);
    return env;
  }
  // Runs the loop until `ready` says the configuration's status is what the test waits for
  // (at most 10 s).
  ProvisionedStatus settle(const std::string& function,
                           const std::function<bool(const ProvisionedStatus&)>& ready) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      ioc_.run_one_for(10ms);
      auto st = sched_->provisioned_status(function, "live");
      if (ready(st)) return st;
    }
    ADD_FAILURE() << "provisioned concurrency of " << function << " did not settle";
    return sched_->provisioned_status(function, "live");
  }
  static bool done(const ProvisionedStatus& st) { return st.status != "IN_PROGRESS"; }

  std::filesystem::path dir_;
  asio::io_context ioc_;
  asio::thread_pool pool_{2};
  ProcessLauncher launcher_;
  TestClock clock_;
  std::unique_ptr<telemetry::LogStore> logs_;
  std::unique_ptr<Scheduler> sched_;
};

TEST_F(SchedulerTest, AWarmEnvironmentIsReusedAndConcurrentOnesAreSeparate) {
  make(1024);
  auto a = spec("f", "f:1");
  auto first = use(a);
  ASSERT_TRUE(first);
  auto second = use(a);
  EXPECT_EQ(second, first);  // the same warm environment
  EXPECT_EQ(launcher_.launches, 1);
  // Two at once: the second gets a new environment.
  auto x = acquire(a);
  auto y = acquire(a);
  ASSERT_TRUE(x && y);
  EXPECT_NE(x, y);
  EXPECT_EQ(launcher_.launches, 2);
  // Another version of the same function never shares an environment.
  auto other = use(spec("f", "f:2"));
  EXPECT_NE(other, first);
  EXPECT_EQ(launcher_.launches, 3);
  sched_->release(x);
  sched_->release(y);
}

TEST_F(SchedulerTest, TheLeastRecentlyUsedIdleEnvironmentIsEvictedForMemory) {
  make(256);
  auto a = use(spec("a", "a:1"));
  auto b = use(spec("b", "b:1"));
  ASSERT_TRUE(a && b);
  use(spec("a", "a:1"));  // a is now the more recently used
  auto c = use(spec("c", "c:1"));
  ASSERT_TRUE(c);
  EXPECT_FALSE(a->dead());
  EXPECT_TRUE(b->dead());  // the least recently used went
  // With every environment busy there is nothing to evict: the budget refuses.
  auto busy1 = acquire(spec("a", "a:1"));
  auto busy2 = acquire(spec("c", "c:1"));
  auto refused = wait(asio::co_spawn(ioc_, sched_->acquire(spec("d", "d:1")), asio::use_future));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kConflict);
  sched_->release(busy1);
  sched_->release(busy2);
}

TEST_F(SchedulerTest, IdleEnvironmentsAreReapedAfterTheKeepAlive) {
  make(1024, 300s);
  auto env = use(spec("k", "k:1"));
  ASSERT_TRUE(env);
  clock_.offset = 299s;
  sched_->reap();
  EXPECT_FALSE(env->dead());
  clock_.offset = 301s;
  sched_->reap();
  EXPECT_TRUE(env->dead());
  // The next invocation starts a new one.
  auto next = use(spec("k", "k:1"));
  EXPECT_NE(next, env);
  EXPECT_EQ(launcher_.launches, 2);
}

TEST_F(SchedulerTest, AChangedFunctionsEnvironmentsAreRetired) {
  make(1024);
  auto busy = acquire(spec("r", "r:old"));
  auto idle = use(spec("r", "r:old"));  // a second environment: the first is busy
  auto other = use(spec("s", "s:1"));
  ASSERT_TRUE(idle && busy && other);
  ASSERT_NE(idle, busy);
  sched_->retire("r", {"r:new"});
  EXPECT_TRUE(idle->dead());    // idle: at once
  EXPECT_FALSE(busy->dead());   // busy: its invocation finishes
  EXPECT_EQ(invoke(busy, "{}").kind, Outcome::kSuccess);
  sched_->release(busy);
  EXPECT_TRUE(busy->dead());    // ... and it does not go back to a pool
  EXPECT_FALSE(other->dead());  // other functions are untouched
  EXPECT_EQ(sched_->take_idle("r:old"), nullptr);
}

TEST_F(SchedulerTest, ProvisionedSetsFillReplaceTheDeadAndFailOnInitErrors) {
  make(1024);
  sched_->provision(ProvisionKey{"p", "live", ""}, spec("p", "p:1"), 2);
  auto st = settle("p", done);
  EXPECT_EQ(st.status, "READY");
  EXPECT_EQ(st.allocated, 2);
  EXPECT_EQ(st.available, 2);
  EXPECT_EQ(launcher_.launches, 2);
  // Invocations take provisioned environments first, and they are never reaped.
  auto env = sched_->take_idle("p:1");
  ASSERT_TRUE(env);
  EXPECT_TRUE(env->provisioned());
  EXPECT_EQ(invoke(env, "{}").kind, Outcome::kSuccess);
  sched_->release(env);
  clock_.offset = 3600s;
  sched_->reap();
  EXPECT_FALSE(env->dead());
  // One dies during an invocation: it is replaced as soon as it comes back.
  auto dying = sched_->take_idle("p:1");
  ASSERT_TRUE(dying);
  dying->kill("test");
  sched_->release(dying);
  auto replaced = settle("p", [&](const ProvisionedStatus& s) {
    return s.status == "READY" && launcher_.launches == 3;
  });
  EXPECT_EQ(replaced.available, 2);
  // One dies while idle: the maintenance tick replaces it.
  auto idle = sched_->take_idle("p:1");
  ASSERT_TRUE(idle);
  sched_->release(idle);
  idle->kill("test");
  sched_->reap();
  replaced = settle("p", [&](const ProvisionedStatus& s) {
    return s.status == "READY" && launcher_.launches == 4;
  });
  EXPECT_EQ(replaced.available, 2);
  EXPECT_EQ(launcher_.launches, 4);
  // A version whose Init fails: FAILED, with the reason.
  sched_->provision(ProvisionKey{"q", "live", ""}, spec("q", "q:1", 128, true), 1);
  auto failed = settle("q", done);
  EXPECT_EQ(failed.status, "FAILED");
  EXPECT_NE(failed.reason.find("Runtime.Boom"), std::string::npos) << failed.reason;
  // Removed: its environments go and its status with them.
  sched_->unprovision(ProvisionKey{"p", "live", ""});
  EXPECT_EQ(sched_->provisioned_status("p", "live").allocated, 0);
  EXPECT_TRUE(sched_->provisioned_keys("p").empty());
}

}  // namespace
}  // namespace lambent::scheduler

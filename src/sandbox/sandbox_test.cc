#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/codec.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawner.h"

namespace lambent::sandbox {
namespace {
namespace fs = std::filesystem;

// Runs `script` with /bin/sh in a fresh environment; returns (exit status, output).
std::pair<int, std::string> run_in_sandbox(Spawner& spawner, CgroupBackend& cgroups,
                                           const std::string& script, int64_t memory_mb = 128) {
  auto code = fs::temp_directory_path() / ("lambent-sbx-" + hex_encode(random_bytes(4)));
  fs::create_directories(code);
  std::ofstream(code / "marker.txt") << "code-marker";
  std::string id = hex_encode(random_bytes(6));
  EnvironmentSpec spec;
  spec.id = id;
  spec.code_dir = code.string();
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  spec.uid = 12345;
  spec.memory_mb = memory_mb;
  auto r = spawner.spawn(spec);
  EXPECT_TRUE(r) << r.error().message;
  if (!r) return {-1, ""};
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(r->output_fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(r->pidfd), &info, WEXITED);
  for (int fd : {r->pidfd, r->listen_fd, r->output_fd, r->start_error_fd}) ::close(fd);
  cgroups.attach(r->cgroup)->destroy();
  fs::remove_all(code);
  int status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  return {status, out};
}

class SandboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    parent_ = "lambent-test/" + hex_encode(random_bytes(4));
    auto s = Spawner::start(parent_, 12345, 1);
    ASSERT_TRUE(s) << s.error().message;
    spawner_ = new Spawner(std::move(*s));
    auto c = detect_cgroups(parent_);
    ASSERT_TRUE(c) << c.error().message;
    cgroups_ = c->release();
  }
  static void TearDownTestSuite() {
    delete spawner_;
    delete cgroups_;
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "namespaces and cgroups need root (CI runs as root)";
  }
  static Spawner* spawner_;
  static CgroupBackend* cgroups_;
  static std::string parent_;
};
std::string SandboxTest::parent_;
Spawner* SandboxTest::spawner_ = nullptr;
CgroupBackend* SandboxTest::cgroups_ = nullptr;

TEST_F(SandboxTest, RunsWithItsOwnRootUserAndEnvironment) {
  auto [status, out] = run_in_sandbox(*spawner_, *cgroups_,
                                      "cat /var/task/marker.txt; echo; id -u; echo $GREETING; "
                                      "echo pid=$$; hostname; pwd; ls /");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("code-marker\n12345\nhello\npid=1\nlocalhost\n/var/task\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("work"), std::string::npos) << "host directories visible: " << out;
}

TEST_F(SandboxTest, CannotSeeSecretsHostProcessesOrWriteOutsideTmp) {
  auto [status, out] = run_in_sandbox(
      *spawner_, *cgroups_,
      "cat /etc/shadow 2>&1; ls /proc | grep -c '^[0-9]'; "
      "touch /var/task/x 2>&1; touch /usr/x 2>&1; touch /x 2>&1; "
      "echo data > /tmp/ok && cat /tmp/ok; "
      "unshare -n true 2>&1; echo unshare=$?");
  EXPECT_NE(out.find("No such file"), std::string::npos) << out;  // no /etc/shadow at all
  EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
  EXPECT_NE(out.find("data\n"), std::string::npos) << out;
  EXPECT_NE(out.find("unshare=1"), std::string::npos) << out;
  // Only the sandbox's own processes: sh, ls, grep (and perhaps a subshell).
  auto pos = out.find_first_of("0123456789");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_LE(std::stoi(out.substr(pos)), 4) << out;
}

TEST_F(SandboxTest, ReportsExecFailureAsAStructuredError) {
  auto code = fs::temp_directory_path() / ("lambent-sbx-" + hex_encode(random_bytes(4)));
  fs::create_directories(code);
  EnvironmentSpec spec;
  spec.id = "badexec";
  spec.code_dir = code.string();
  spec.argv = {"/var/task/does-not-exist"};
  // The spawner answers before the exec; the failure arrives on the error pipe, which ends at
  // EOF when the sandbox exits.
  auto r = spawner_->spawn(spec);
  ASSERT_TRUE(r) << r.error().message;
  std::string message;
  char buf[512];
  ssize_t n;
  while ((n = ::read(r->start_error_fd, buf, sizeof(buf))) > 0) {
    message.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(message.find("exec /var/task/does-not-exist: No such file or directory"),
            std::string::npos)
      << message;
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PIDFD, static_cast<id_t>(r->pidfd), &info, WEXITED), 0);
  EXPECT_EQ(info.si_status, 127);
  for (int fd : {r->pidfd, r->listen_fd, r->output_fd, r->start_error_fd}) ::close(fd);
  cgroups_->attach(r->cgroup)->destroy();
  fs::remove_all(code);
}

TEST_F(SandboxTest, MemoryHogIsKilledAtTheLimit) {
  // Allocate ~200 MB in a 64 MB environment.
  auto [status, out] = run_in_sandbox(*spawner_, *cgroups_,
                                      "/usr/bin/python3 -c 'x = b\"a\" * (200 << 20); print(len(x))'",
                                      64);
  EXPECT_EQ(status, 128 + SIGKILL) << out;
  EXPECT_EQ(out.find("209715200"), std::string::npos) << out;
}

// On cgroup v1 one empty cgroup at the freezer hierarchy's root stays frozen, so that the
// kernel's freezer key stays on and freezing or thawing an environment never switches it (which
// cost ~1.5 ms per freeze and per thaw).
TEST_F(SandboxTest, OnCgroupV1AnEmptyCgroupStaysFrozenBesideTheEnvironments) {
  if (std::string(cgroups_->name()) != "cgroup v1") {
    GTEST_SKIP() << "cgroup v2 freezes without the v1 freezer's static key";
  }
  std::string freezer;
  std::ifstream mounts("/proc/self/mounts");
  for (std::string dev, dir, type, options; mounts >> dev >> dir >> type >> options;) {
    mounts.ignore(1 << 10, '\n');
    if (type == "cgroup" && ("," + options + ",").find(",freezer,") != std::string::npos) {
      freezer = dir;
    }
  }
  ASSERT_FALSE(freezer.empty());
  auto text = [](const std::string& path) {  // cgroup files report no size: read to the end
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  EXPECT_EQ(text(freezer + "/lambent-freezer-pin/freezer.state"), "FROZEN\n");
  EXPECT_EQ(text(freezer + "/lambent-freezer-pin/cgroup.procs"), "");
  // Environments still freeze and thaw (the pin changes only what it costs).
  auto group = cgroups_->create("pin-check", CgroupLimits{128, 100000, 64});
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_TRUE((*group)->freeze());
  EXPECT_EQ(text(freezer + "/" + parent_ + "/pin-check/freezer.state"), "FROZEN\n");
  EXPECT_TRUE((*group)->thaw());
  EXPECT_EQ(text(freezer + "/" + parent_ + "/pin-check/freezer.state"), "THAWED\n");
  (*group)->destroy();
}

}  // namespace
}  // namespace lambent::sandbox

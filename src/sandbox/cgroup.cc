#include "sandbox/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <signal.h>

#include "base/fs.h"

namespace lambent::sandbox {
namespace {

Result<void> write_text(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return make_error(Errc::kIo, "open " + path + ": " + std::strerror(errno));
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return make_error(Errc::kIo, "write " + value + " to " + path + ": " + std::strerror(errno));
  }
  return {};
}

std::string read_text(const std::string& path) {
  char buf[4096];
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string read_text_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t read_u64(const std::string& path) {
  std::string t = read_text(path);
  return t.empty() ? 0 : std::strtoull(t.c_str(), nullptr, 10);
}

// The value of `key` in "key value" lines (memory.events, memory.oom_control), if present.
std::optional<uint64_t> keyed_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

uint64_t read_keyed(const std::string& path, const std::string& key) {
  return keyed_value(read_text(path), key).value_or(0);
}

// Kills every process listed in `procs_file` (a group being cleared after a crash).
void kill_all(const std::string& procs_file) {
  std::istringstream in(read_text_all(procs_file));
  long pid;
  while (in >> pid) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

void remove_dir_retrying(const std::string& dir) {
  // The namespace's processes die asynchronously after its init is killed.
  for (int i = 0; i < 200; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Mount points of the cgroup v1 controllers, from /proc/self/mountinfo.
std::map<std::string, std::string> v1_mounts() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string fstype, source, options;
    rest >> fstype >> source >> options;
    if (fstype != "cgroup") continue;
    std::istringstream pre(line.substr(0, dash));
    std::string id, parent, devno, root, mountpoint;
    pre >> id >> parent >> devno >> root >> mountpoint;
    std::stringstream opts(options);
    std::string opt;
    while (std::getline(opts, opt, ',')) {
      if (opt == "memory" || opt == "cpu" || opt == "pids" || opt == "freezer" ||
          opt == "cpuacct") {
        out[opt] = mountpoint;
      }
    }
  }
  return out;
}

// Files touched on every invocation stay open (pread/pwrite): no path walk on the invoke path.
class HotFile {
 public:
  explicit HotFile(std::string path) : path_(std::move(path)) {}
  bool write(std::string_view v) {
    if (!fd_) fd_.reset(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    return fd_ && ::pwrite(fd_.get(), v.data(), v.size(), 0) == static_cast<ssize_t>(v.size());
  }
  uint64_t read_u64() {
    if (!fd_) fd_.reset(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    char buf[32];
    ssize_t n = fd_ ? ::pread(fd_.get(), buf, sizeof(buf) - 1, 0) : -1;
    if (n <= 0) return 0;
    buf[n] = 0;
    return std::strtoull(buf, nullptr, 10);
  }
  void close() { fd_.reset(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

class CgroupV1 final : public Cgroup {
 public:
  explicit CgroupV1(std::map<std::string, std::string> dirs)
      : dirs_(std::move(dirs)),
        peak_(dirs_.at("memory") + "/memory.max_usage_in_bytes"),
        freezer_(dirs_.at("freezer") + "/freezer.state") {}
  std::vector<std::string> procs_files() const override {
    std::vector<std::string> out;
    for (const auto& [c, d] : dirs_) out.push_back(d + "/cgroup.procs");
    return out;
  }
  // Writes only what differs from the limits this handle last applied: each write to these files
  // takes a cgroup-wide lock (the CPU ones ~0.2-0.4 ms each on these machines), and a blank
  // sandbox made with the limits its environment will have needs none at all on the cold path.
  Result<void> set_limits(const CgroupLimits& limits) override {
    const std::string& m = dirs_.at("memory");
    if (!applied_ || applied_->memory_mb != limits.memory_mb) {
      std::string mem = std::to_string(limits.memory_mb * 1024 * 1024);
      // memsw must stay >= the memory limit: raise memsw first, lower it last.
      if (!applied_) has_memsw_ = ::access((m + "/memory.memsw.limit_in_bytes").c_str(), W_OK) == 0;
      uint64_t current = applied_ ? static_cast<uint64_t>(applied_->memory_mb) * 1024 * 1024
                                  : read_u64(m + "/memory.limit_in_bytes");
      bool raising = current < static_cast<uint64_t>(limits.memory_mb) * 1024 * 1024;
      if (has_memsw_ && raising) (void)write_text(m + "/memory.memsw.limit_in_bytes", mem);
      LAMBENT_TRY_VOID(write_text(m + "/memory.limit_in_bytes", mem));
      if (has_memsw_ && !raising) (void)write_text(m + "/memory.memsw.limit_in_bytes", mem);
    }
    if (!applied_) {
      LAMBENT_TRY_VOID(write_text(dirs_.at("cpu") + "/cpu.cfs_period_us", "100000"));
    }
    if (!applied_ || applied_->cpu_quota_us != limits.cpu_quota_us) {
      LAMBENT_TRY_VOID(write_text(dirs_.at("cpu") + "/cpu.cfs_quota_us",
                                  std::to_string(limits.cpu_quota_us)));
    }
    if (!applied_ || applied_->pids_max != limits.pids_max) {
      LAMBENT_TRY_VOID(write_text(dirs_.at("pids") + "/pids.max", std::to_string(limits.pids_max)));
    }
    applied_ = limits;
    return {};
  }
  Result<void> set_cpu_quota(int64_t quota_us) override {
    LAMBENT_TRY_VOID(write_text(dirs_.at("cpu") + "/cpu.cfs_quota_us", std::to_string(quota_us)));
    if (applied_) applied_->cpu_quota_us = quota_us;
    return {};
  }
  Result<void> freeze() override {
    if (!freezer_.write("FROZEN")) return make_error(Errc::kIo, "freeze: " + std::string(std::strerror(errno)));
    return {};
  }
  Result<void> thaw() override {
    if (!freezer_.write("THAWED")) return make_error(Errc::kIo, "thaw: " + std::string(std::strerror(errno)));
    return {};
  }
  uint64_t memory_peak_bytes() override { return peak_.read_u64(); }
  void reset_memory_peak() override { peak_.write("0"); }
  uint64_t oom_kills() override {
    // memory.oom_control has "oom_kill N" on kernels >= 4.13; failcnt is the fallback signal.
    if (auto n = keyed_value(read_text(dirs_.at("memory") + "/memory.oom_control"), "oom_kill")) {
      return *n;
    }
    return read_u64(dirs_.at("memory") + "/memory.failcnt") > 0 ? 1 : 0;
  }
  void destroy() override {
    (void)thaw();  // frozen tasks cannot die; SIGKILL takes effect once thawed
    peak_.close();
    freezer_.close();
    for (const auto& [c, d] : dirs_) remove_dir_retrying(d);
  }

 private:
  std::map<std::string, std::string> dirs_;  // controller -> group directory
  HotFile peak_, freezer_;
  std::optional<CgroupLimits> applied_;  // what set_limits last wrote through this handle
  bool has_memsw_ = false;
};

class BackendV1 final : public CgroupBackend {
 public:
  explicit BackendV1(std::map<std::string, std::string> parents) : parents_(std::move(parents)) {}
  const char* name() const override { return "cgroup v1"; }
  Result<std::unique_ptr<Cgroup>> create(const std::string& name,
                                         const CgroupLimits& limits) override {
    std::map<std::string, std::string> dirs;
    for (const auto& [c, parent] : parents_) {
      std::string d = parent + "/" + name;
      if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
        for (const auto& [c2, d2] : dirs) ::rmdir(d2.c_str());
        return make_error(Errc::kIo, "mkdir " + d + ": " + std::strerror(errno));
      }
      dirs[c] = d;
    }
    auto group = std::make_unique<CgroupV1>(dirs);
    // Swap would let an environment exceed MemorySize; set_limits caps memsw too where it exists.
    if (auto r = group->set_limits(limits); !r) {
      group->destroy();
      return r.error();
    }
    return std::unique_ptr<Cgroup>(std::move(group));
  }
  std::unique_ptr<Cgroup> attach(const std::string& name) override {
    std::map<std::string, std::string> dirs;
    for (const auto& [c, parent] : parents_) dirs[c] = parent + "/" + name;
    return std::make_unique<CgroupV1>(dirs);
  }
  void remove_stale() override {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(parents_.at("freezer"), ec)) {
      if (!e.is_directory(ec)) continue;
      std::string name = e.path().filename().string();
      // Frozen tasks ignore SIGKILL until thawed.
      (void)write_text(parents_.at("freezer") + "/" + name + "/freezer.state", "THAWED");
      kill_all(parents_.at("freezer") + "/" + name + "/cgroup.procs");
      attach(name)->destroy();
    }
  }
  void remove_parent() override {
    for (const auto& [c, parent] : parents_) ::rmdir(parent.c_str());
  }

 private:
  std::map<std::string, std::string> parents_;
};

class CgroupV2 final : public Cgroup {
 public:
  explicit CgroupV2(std::string dir) : dir_(std::move(dir)) {}
  std::vector<std::string> procs_files() const override { return {dir_ + "/cgroup.procs"}; }
  // Like v1: writes only what differs from what this handle last applied.
  Result<void> set_limits(const CgroupLimits& limits) override {
    if (!applied_ || applied_->memory_mb != limits.memory_mb) {
      LAMBENT_TRY_VOID(
          write_text(dir_ + "/memory.max", std::to_string(limits.memory_mb * 1024 * 1024)));
    }
    if (!applied_) (void)write_text(dir_ + "/memory.swap.max", "0");
    if (!applied_ || applied_->cpu_quota_us != limits.cpu_quota_us) {
      LAMBENT_TRY_VOID(
          write_text(dir_ + "/cpu.max", std::to_string(limits.cpu_quota_us) + " 100000"));
    }
    if (!applied_ || applied_->pids_max != limits.pids_max) {
      LAMBENT_TRY_VOID(write_text(dir_ + "/pids.max", std::to_string(limits.pids_max)));
    }
    applied_ = limits;
    return {};
  }
  Result<void> set_cpu_quota(int64_t quota_us) override {
    LAMBENT_TRY_VOID(write_text(dir_ + "/cpu.max", std::to_string(quota_us) + " 100000"));
    if (applied_) applied_->cpu_quota_us = quota_us;
    return {};
  }
  Result<void> freeze() override { return write_text(dir_ + "/cgroup.freeze", "1"); }
  Result<void> thaw() override { return write_text(dir_ + "/cgroup.freeze", "0"); }
  uint64_t memory_peak_bytes() override {
    uint64_t peak = read_u64(dir_ + "/memory.peak");  // kernel >= 5.19
    return peak ? peak : read_u64(dir_ + "/memory.current");
  }
  void reset_memory_peak() override { (void)write_text(dir_ + "/memory.peak", "0"); }  // >= 6.12
  uint64_t oom_kills() override { return read_keyed(dir_ + "/memory.events", "oom_kill"); }
  void destroy() override {
    (void)thaw();
    (void)write_text(dir_ + "/cgroup.kill", "1");  // kernel >= 5.14
    remove_dir_retrying(dir_);
  }

 private:
  std::string dir_;
  std::optional<CgroupLimits> applied_;
};

class BackendV2 final : public CgroupBackend {
 public:
  explicit BackendV2(std::string parent) : parent_(std::move(parent)) {}
  const char* name() const override { return "cgroup v2"; }
  Result<std::unique_ptr<Cgroup>> create(const std::string& name,
                                         const CgroupLimits& limits) override {
    std::string d = parent_ + "/" + name;
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      return make_error(Errc::kIo, "mkdir " + d + ": " + std::strerror(errno));
    }
    auto group = std::make_unique<CgroupV2>(d);
    if (auto r = group->set_limits(limits); !r) {
      group->destroy();
      return r.error();
    }
    return std::unique_ptr<Cgroup>(std::move(group));
  }
  std::unique_ptr<Cgroup> attach(const std::string& name) override {
    return std::make_unique<CgroupV2>(parent_ + "/" + name);
  }
  void remove_stale() override {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(parent_, ec)) {
      if (!e.is_directory(ec)) continue;
      (void)write_text(e.path().string() + "/cgroup.freeze", "0");
      kill_all(e.path().string() + "/cgroup.procs");
      attach(e.path().filename().string())->destroy();
    }
  }
  void remove_parent() override { ::rmdir(parent_.c_str()); }

 private:
  std::string parent_;
};

}  // namespace

int64_t cpu_quota_for_memory(int64_t memory_mb) {
  return std::max<int64_t>(1000, memory_mb * 100'000 / 1769);
}

int64_t init_cpu_quota(int64_t memory_mb) {
  return std::max<int64_t>(100'000, cpu_quota_for_memory(memory_mb));
}

Result<std::unique_ptr<CgroupBackend>> detect_cgroups(const std::string& parent) {
  std::string controllers = read_text("/sys/fs/cgroup/cgroup.controllers");
  if (controllers.find("memory") != std::string::npos &&
      controllers.find("pids") != std::string::npos) {
    // v2: our own group is in /proc/self/cgroup as "0::/path"; environments go in a sibling
    // subtree so that the "no internal processes" rule does not bite.
    std::string self = read_text("/proc/self/cgroup");
    auto pos = self.find("0::");
    std::string rel = pos == std::string::npos ? "/" : self.substr(pos + 3);
    rel = rel.substr(0, rel.find('\n'));
    std::string base = "/sys/fs/cgroup" + (rel == "/" ? "" : rel.substr(0, rel.rfind('/')));
    std::string dir = base + "/" + parent;
    LAMBENT_TRY_VOID(make_dirs(dir, 0755));
    // Enable the controllers down the path to our parent, then for its children.
    std::string cur = base;
    (void)write_text(cur + "/cgroup.subtree_control", "+memory +cpu +pids");
    for (const auto& part : std::filesystem::path(parent)) {
      cur += "/" + part.string();
      (void)write_text(cur + "/cgroup.subtree_control", "+memory +cpu +pids");
    }
    LAMBENT_TRY_VOID(write_text(dir + "/cgroup.subtree_control", "+memory +cpu +pids"));
    return std::unique_ptr<CgroupBackend>(new BackendV2(dir));
  }
  auto mounts = v1_mounts();
  for (const char* c : {"memory", "cpu", "pids", "freezer"}) {
    if (!mounts.count(c)) {
      return make_error(Errc::kInvalidArgument,
                        std::string("no cgroup controller '") + c + "' is mounted");
    }
  }
  std::map<std::string, std::string> parents;
  for (const auto& [c, mp] : mounts) {
    if (c == "cpuacct" && mounts.at("cpu") == mp) continue;  // co-mounted cpu,cpuacct
    std::string dir = mp + "/" + parent;
    LAMBENT_TRY_VOID(make_dirs(dir, 0755));
    parents[c] = dir;
  }
  if (parents.count("memory")) {
    // Children count against this group's limit too (hierarchical accounting).
    (void)write_text(parents["memory"] + "/memory.use_hierarchy", "1");
  }
  // The kernel's freezer is a static key (6.1 and later), switched on while any cgroup is
  // frozen; switching it patches code on every CPU, which made each freeze and each thaw of an
  // environment cost ~1.5 ms here — on the I/O thread, and a warm invocation's thaw on its path.
  // One empty cgroup kept frozen at the hierarchy's root (shared by every server on the host,
  // left in place) keeps the key on: freezing and thawing are then a change of state, ~0.1 ms.
  // Nothing depends on it: without it (older kernels, a failed write) freezing works as before.
  if (const std::string pin = mounts.at("freezer") + "/lambent-freezer-pin";
      ::mkdir(pin.c_str(), 0755) == 0 || errno == EEXIST) {
    (void)write_text(pin + "/freezer.state", "FROZEN");
  }
  return std::unique_ptr<CgroupBackend>(new BackendV1(parents));
}

}  // namespace lambent::sandbox

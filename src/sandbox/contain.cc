// Child side of an execution environment, as a flat recipe (after nsjail's containProc): build a
// fresh root on a tmpfs from read-only binds with /proc and a minimal /dev, set the hostname and
// rlimits, empty the capability bounding set -- all ahead of time, while the blank waits -- then,
// once the spawner sends the environment, bind its code, runtime and layers, mount /tmp, pivot
// into the root, drop to an unprivileged uid with no capabilities and no_new_privs, install
// seccomp, exec the runtime. Any failure is written to err_fd as "step: reason" and the child
// exits; the spawner reports it to the server.
#include "sandbox/contain.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sandbox/scratch.h"
#include "sandbox/spawner.h"

namespace lambent::sandbox {
namespace {

[[noreturn]] void fail(int err_fd, const std::string& step, int err = errno) {
  std::string msg = step + ": " + std::strerror(err);
  [[maybe_unused]] auto n = ::write(err_fd, msg.data(), msg.size());
  ::_exit(127);
}

[[noreturn]] void fail_msg(int err_fd, const std::string& msg) {
  [[maybe_unused]] auto n = ::write(err_fd, msg.data(), msg.size());
  ::_exit(127);
}

void must(bool ok, int err_fd, const std::string& step) {
  if (!ok) fail(err_fd, step);
}

bool write_file(const std::string& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  return ok;
}

// Bind `src` read-only (and nosuid, nodev) onto `dst`, creating `dst` as a dir or empty file.
void bind_ro(const std::string& src, const std::string& dst, int err_fd, bool recursive = false) {
  struct stat st {};
  must(::stat(src.c_str(), &st) == 0, err_fd, "stat " + src);
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(dst.c_str(), 0755) != 0 && errno != EEXIST) fail(err_fd, "mkdir " + dst);
  } else if (!write_file(dst, "", 0644)) {
    fail(err_fd, "create " + dst);
  }
  unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);
  must(::mount(src.c_str(), dst.c_str(), nullptr, flags, nullptr) == 0, err_fd, "bind " + src);
  must(::mount(nullptr, dst.c_str(), nullptr,
               MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | (recursive ? MS_REC : 0),
               nullptr) == 0,
       err_fd, "remount read-only " + dst);
}

std::string read_host(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<EtcPlan> make_etc_plan(const std::string& dir, uint32_t uid_base, uint32_t uid_count,
                              const EtcNetwork& network) {
  namespace fs = std::filesystem;
  EtcPlan plan{dir};
  ::chmod(plan.dir.c_str(), 0755);
  std::string passwd = "root:x:0:0:root:/root:/sbin/nologin\n";
  std::string group = "root:x:0:\n";
  // AWS's sandbox user is sbx_user1051; every uid of this server's range carries that name.
  for (uint32_t i = 0; i < uid_count; ++i) {
    std::string uid = std::to_string(uid_base + i);
    passwd += "sbx_user1051:x:" + uid + ":" + uid + "::/tmp:/sbin/nologin\n";
    group += "sbx_user1051:x:" + uid + ":\n";
  }
  const std::pair<const char*, std::string> files[] = {
      {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
      {"hostname", "localhost\n"},
      {"nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"},
      {"resolv.conf", network.nameserver.empty() ? read_host("/etc/resolv.conf")
                                                 : "nameserver " + network.nameserver +
                                                       "\noptions timeout:2 attempts:2\n"},
      {"passwd", passwd},
      {"group", group},
  };
  for (const auto& [name, content] : files) {
    if (!write_file(plan.dir + "/" + name, content, 0644)) {
      return make_error(Errc::kIo, "write " + plan.dir + "/" + name);
    }
  }
  // What runtimes need from the host's /etc; never shadow, sudoers, or private keys.
  for (const char* name : {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates",
                           "alternatives", "python3", "python3.11", "mono", "mime.types",
                           "services", "protocols", "os-release", "localtime", "timezone"}) {
    std::error_code ec;
    fs::path src = fs::path("/etc") / name;
    if (!fs::exists(fs::symlink_status(src, ec))) continue;
    fs::copy(src, fs::path(plan.dir) / name,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  }
  std::error_code ec;
  // The JDKs' configuration (their jvm.cfg and security properties are links into /etc).
  for (const auto& entry : fs::directory_iterator("/etc", ec)) {
    if (entry.path().filename().string().rfind("java-", 0) != 0) continue;
    std::error_code copy_ec;
    fs::copy(entry.path(), fs::path(plan.dir) / entry.path().filename(),
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, copy_ec);
  }
  fs::remove_all(fs::path(plan.dir) / "ssl" / "private", ec);
  if (!network.ca_pem.empty()) {
    // The bundle every TLS library reads by default, with Lambent's authority added (the copy
    // above may be a symlink into /usr/share: replaced by a file).
    fs::path certs = fs::path(plan.dir) / "ssl" / "certs";
    fs::create_directories(certs, ec);
    std::string bundle = read_host(kCaBundleFile) + "\n" + network.ca_pem;
    fs::remove(certs / "ca-certificates.crt", ec);
    if (!write_file((certs / "ca-certificates.crt").string(), bundle, 0644) ||
        !write_file((certs / "lambent-ca.pem").string(), network.ca_pem, 0644)) {
      return make_error(Errc::kIo, "write the sandbox's CA bundle");
    }
  }
  LAMBENT_TRY(prog, compile_seccomp());
  plan.seccomp = std::move(prog);
  return plan;
}

void contain(const EtcPlan& etc, int sync_fd, int err_fd, const std::string& tmp_image) {
  const pid_t server = ::getppid();  // our parent is the server (CLONE_PARENT)

  // Steps 1-5 do not depend on the function and run while the blank waits for its spec, off the
  // cold path: only the binds of step 7 and what follows them happen after it arrives.
  // 1. A private mount tree and a fresh root on a tmpfs.
  const std::string r = kRootMountpoint;
  must(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, err_fd,
       "make / private");
  must(::mount("tmpfs", r.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755") == 0,
       err_fd, "mount root tmpfs");
  for (const char* d : {"/usr", "/etc", "/var", "/var/task", "/var/runtime", "/opt", "/tmp",
                        "/dev", "/proc", "/home", "/root", "/.old"}) {
    must(::mkdir((r + d).c_str(), 0755) == 0, err_fd, std::string("mkdir ") + d);
  }
  // ES modules ignore NODE_PATH: a bare import from /var/task looks in /var/task/node_modules,
  // then /var/node_modules, then /node_modules. These two links give it NODE_PATH's order (the
  // layers' packages, then the SDK the runtime carries) at no cost; dangling for other runtimes.
  must(::symlink("/opt/nodejs/node_modules", (r + "/var/node_modules").c_str()) == 0, err_fd,
       "symlink /var/node_modules");
  must(::symlink("/var/runtime/node_modules", (r + "/node_modules").c_str()) == 0, err_fd,
       "symlink /node_modules");
  // Debian's merged /usr: /bin, /lib, /lib64, /sbin are links into /usr.
  for (const char* l : {"bin", "lib", "lib64", "sbin"}) {
    char target[256];
    ssize_t n = ::readlink((std::string("/") + l).c_str(), target, sizeof(target) - 1);
    if (n > 0) {
      must(::symlink(std::string(target, static_cast<size_t>(n)).c_str(),
                     (r + "/" + l).c_str()) == 0,
           err_fd, std::string("symlink /") + l);
    } else {
      bind_ro(std::string("/") + l, r + "/" + l, err_fd);
    }
  }
  bind_ro("/usr", r + "/usr", err_fd, true);
  // What the host installed by hand (/usr/local: its configuration, npm's global settings with
  // registry tokens, pip's packages) and kernel sources are not the runtimes' business: empty.
  for (const char* hidden : {"/usr/local", "/usr/src"}) {
    struct stat st {};
    if (::stat((r + hidden).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    must(::mount("tmpfs", (r + hidden).c_str(), "tmpfs",
                 MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755") == 0,
         err_fd, std::string("hide ") + hidden);
  }

  // 1b. The default disk-backed /tmp, made ahead (scratch.h).
  if (!tmp_image.empty()) {
    std::string failed = mount_scratch(tmp_image, r + "/tmp");
    if (!failed.empty()) fail_msg(err_fd, failed);
  }

  // 2. /etc, prepared once by the spawner.
  bind_ro(etc.dir, r + "/etc", err_fd);

  // 3. A minimal /dev.
  must(::mount("tmpfs", (r + "/dev").c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC,
               "size=64k,mode=0755") == 0,
       err_fd, "mount /dev");
  for (auto [dev, minor] : {std::pair{"null", 3}, {"zero", 5}, {"full", 7}, {"random", 8},
                             {"urandom", 9}}) {
    std::string dst = r + "/dev/" + dev;
    must(::mknod(dst.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0, err_fd,
         std::string("mknod /dev/") + dev);
    ::chmod(dst.c_str(), 0666);  // mknod applies the umask
  }
  must(::mkdir((r + "/dev/shm").c_str(), 01777) == 0, err_fd, "mkdir /dev/shm");
  must(::mount("tmpfs", (r + "/dev/shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
               "size=64m,mode=1777") == 0,
       err_fd, "mount /dev/shm");
  for (auto [name, target] : {std::pair{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
                              {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}}) {
    must(::symlink(target, (r + "/dev/" + name).c_str()) == 0, err_fd,
         std::string("symlink /dev/") + name);
  }

  // 4. A /proc of our own pid namespace: host processes are not visible.
  must(::mount("proc", (r + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) ==
           0,
       err_fd, "mount /proc");
  // runc's masked and read-only paths, and the kernel's symbols, build configuration and
  // command line: files read as empty (/dev/null over them), directories as an empty read-only
  // tmpfs; the kernel's tunables read-only.
  for (const char* f : {"kcore", "keys", "latency_stats", "timer_list", "timer_stats",
                        "sched_debug", "kallsyms", "config.gz", "cmdline", "modules", "interrupts",
                        "kpageflags", "kpagecount", "kpagecgroup", "sysrq-trigger"}) {
    std::string dst = r + "/proc/" + f;
    if (::access(dst.c_str(), F_OK) != 0) continue;
    must(::mount((r + "/dev/null").c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) == 0, err_fd,
         std::string("mask /proc/") + f);
  }
  for (const char* d : {"acpi", "asound", "scsi", "firmware", "driver"}) {
    std::string dst = r + "/proc/" + d;
    struct stat st {};
    if (::stat(dst.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    must(::mount("tmpfs", dst.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "size=4k,mode=0555") == 0,
         err_fd, std::string("mask /proc/") + d);
  }
  for (const char* d : {"bus", "fs", "irq", "sys"}) {
    std::string dst = r + "/proc/" + d;
    if (::access(dst.c_str(), F_OK) != 0) continue;
    must(::mount(dst.c_str(), dst.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0, err_fd,
         std::string("bind /proc/") + d);
    must(::mount(nullptr, dst.c_str(), nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC,
                 nullptr) == 0,
         err_fd, std::string("read-only /proc/") + d);
  }

  // 5. Identity and limits that hold for any function; the bounding set only matters at exec,
  // so emptying it now leaves the capabilities the mounts below still need.
  must(::sethostname("localhost", 9) == 0, err_fd, "sethostname");
  struct rlimit fds {1024, 1024}, procs{1024, 1024};
  must(::setrlimit(RLIMIT_NOFILE, &fds) == 0, err_fd, "rlimit nofile");
  must(::setrlimit(RLIMIT_NPROC, &procs) == 0, err_fd, "rlimit nproc");
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);

  // 6. Wait for the environment we are to become (the spawner made us ahead of time).
  uint32_t len = 0;
  if (::read(sync_fd, &len, sizeof(len)) != sizeof(len) || len > (1u << 20)) ::_exit(0);
  std::string text(len, '\0');
  for (size_t got = 0; got < len;) {
    ssize_t n = ::read(sync_fd, text.data() + got, len - got);
    if (n <= 0) ::_exit(0);
    got += static_cast<size_t>(n);
  }
  ::close(sync_fd);
  EnvironmentSpec spec;
  if (!decode_spec(text, &spec)) fail_msg(err_fd, "sync: malformed environment spec");

  // 7. Function code, runtime and layers; /opt is an empty read-only directory without layers.
  bind_ro(spec.code_dir, r + "/var/task", err_fd);
  if (!spec.runtime_dir.empty()) bind_ro(spec.runtime_dir, r + "/var/runtime", err_fd);
  if (!spec.opt_dir.empty()) bind_ro(spec.opt_dir, r + "/opt", err_fd);

  // 8. /tmp sized by EphemeralStorage; it lives as long as the environment. On disk when the
  // host has loop devices (the ready-made one, or one of another size made for this spec);
  // else a tmpfs, whose pages count as the function's memory.
  if (!spec.tmp_image.empty()) {
    if (!tmp_image.empty()) {
      must(::umount2((r + "/tmp").c_str(), MNT_DETACH) == 0, err_fd, "unmount the blank's /tmp");
    }
    std::string failed = mount_scratch(spec.tmp_image, r + "/tmp");
    if (!failed.empty()) fail_msg(err_fd, failed);
  } else if (tmp_image.empty()) {
    std::string tmp_opts = "size=" + std::to_string(spec.tmp_mb) + "m,mode=1777";
    must(::mount("tmpfs", (r + "/tmp").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts.c_str()) ==
             0,
         err_fd, "mount /tmp");
  }

  // 9. Pivot, drop the old root, make the new root read-only.
  must(::syscall(SYS_pivot_root, r.c_str(), (r + "/.old").c_str()) == 0, err_fd, "pivot_root");
  must(::chdir("/") == 0, err_fd, "chdir /");
  must(::umount2("/.old", MNT_DETACH) == 0, err_fd, "detach old root");
  ::rmdir("/.old");
  must(::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
               nullptr) == 0,
       err_fd, "remount / read-only");

  must(::chdir("/var/task") == 0, err_fd, "chdir /var/task");

  // 10. Drop privileges (the bounding set is already empty): no groups, unprivileged uid (which
  // clears the permitted and effective capability sets), no_new_privs, then seccomp.
  must(::setgroups(0, nullptr) == 0, err_fd, "setgroups");
  must(::setresgid(spec.uid, spec.uid, spec.uid) == 0, err_fd, "setresgid");
  must(::setresuid(spec.uid, spec.uid, spec.uid) == 0, err_fd, "setresuid");
  must(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, err_fd, "no_new_privs");
  // Die with the server, even on kill -9 (set after the uid change, which clears it).
  must(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0, err_fd, "pdeathsig");
  if (::getppid() != server) ::_exit(0);
  if (std::string err = install_seccomp(etc.seccomp); !err.empty()) {
    fail_msg(err_fd, "seccomp: " + err);
  }

  // 11. Exec the runtime.
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(argv[0], argv.data(), envp.data());
  fail(err_fd, "exec " + spec.argv[0]);
}

}  // namespace lambent::sandbox

#include "runtime/catalogue.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>

namespace lambent::runtime {
namespace fs = std::filesystem;
namespace {

std::string run_capture(const char* cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd, "r"), ::pclose);
  if (!p) return out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), p.get())) out += buf.data();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

bool executable_file(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

}  // namespace

fs::path default_runtimes_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path prefix = exe.parent_path().parent_path();
  for (const fs::path& candidate :
       {prefix.parent_path() / "runtimes", prefix / "runtimes", prefix / "share/lambent/runtimes"}) {
    if (fs::is_directory(candidate / "python", ec)) return candidate;
  }
  return prefix / "share/lambent/runtimes";
}

Catalogue::Catalogue(fs::path runtimes_dir) : runtimes_dir_(std::move(runtimes_dir)) {
  // Probed once at start-up (before threads: popen forks).
  if (executable_file("/usr/bin/python3")) {
    python_version_ = run_capture(
        "/usr/bin/python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])' 2>/dev/null");
  }
  if (executable_file("/usr/bin/ruby")) {
    // The library ABI ("3.1.0"): the folder name of vendored and layer gems.
    ruby_abi_ = run_capture(
        "/usr/bin/ruby --disable-gems -rrbconfig -e 'print RbConfig::CONFIG[\"ruby_version\"]' "
        "2>/dev/null");
  }
  if (executable_file("/usr/bin/node")) {
    std::string v = run_capture("/usr/bin/node --version 2>/dev/null");  // v20.20.2
    if (v.size() > 1 && v[0] == 'v') node_major_ = std::atoi(v.c_str() + 1);
  }
}

bool Catalogue::launch(const std::string& runtime, const fs::path& code_dir, Launch* out,
                       LaunchError* err) const {
  auto unavailable = [&](const std::string& why) {
    *err = {"Runtime.InvalidRuntime", "The runtime " + runtime + " is not available on this "
                                      "Lambent node: " + why, false};
    return false;
  };
  if (runtime.rfind("provided", 0) == 0) {
    // Custom runtime: the package's bootstrap is the runtime (/opt/bootstrap once layers exist).
    // A bootstrap that is there but not executable (a zip made on Windows) is started anyway:
    // exec fails in the sandbox and the invocation reports "fork/exec /var/task/bootstrap:
    // permission denied", naming the cause as AWS does.
    std::error_code ec;
    if (!fs::is_regular_file(code_dir / "bootstrap", ec)) {
      *err = {"Runtime.InvalidEntrypoint",
              "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]", true};
      return false;
    }
    *out = Launch{{"/var/task/bootstrap"}, {}, "", false};
    return true;
  }
  if (runtime.rfind("python", 0) == 0) {
    std::string wanted = runtime.substr(6);  // "3.11"
    if (python_version_.empty()) return unavailable("no /usr/bin/python3");
    if (wanted != python_version_) {
      return unavailable("this node's Python is " + python_version_);
    }
    // -S: skip `site` (Debian's .pth scan and sitecustomize, ~10 ms); bootstrap.py adds the
    // dist-packages folders itself so that packages such as boto3 stay importable.
    *out = Launch{{"/usr/bin/python3", "-B", "-S", "/var/runtime/bootstrap.py"},
                  {"PYTHONPATH=/var/runtime", "PYTHONUNBUFFERED=1"},
                  "python",
                  true};
    return true;
  }
  if (runtime.rfind("nodejs", 0) == 0) {
    int wanted = std::atoi(runtime.c_str() + 6);  // nodejs20.x -> 20
    if (node_major_ == 0) return unavailable("no /usr/bin/node");
    if (wanted != node_major_) {
      return unavailable("this node's Node.js is version " + std::to_string(node_major_));
    }
    std::string nn = std::to_string(wanted);
    *out = Launch{{"/usr/bin/node", "/var/runtime/index.mjs"},
                  {"NODE_PATH=/opt/nodejs/node" + nn + "/node_modules:/opt/nodejs/node_modules:"
                   "/var/runtime/node_modules"},
                  "node",
                  true};
    return true;
  }
  if (runtime == "ruby3.2" || runtime == "ruby3.3" || runtime == "ruby3.4") {
    // AWS's Ruby runtimes run on this node's Ruby (Debian 12: 3.1), said in docs/config.md.
    if (ruby_abi_.empty()) return unavailable("no /usr/bin/ruby");
    *out = Launch{
        {"/usr/bin/ruby", "--disable-gems", "/var/runtime/bootstrap.rb"},
        {"GEM_PATH=/var/task/vendor/bundle/ruby/" + ruby_abi_ + ":/opt/ruby/gems/" + ruby_abi_,
         "RUBYLIB=/var/task:/var/runtime/lib:/opt/ruby/lib"},
        "ruby",
        true};
    return true;
  }
  return unavailable("no interpreter for it is installed");
}

}  // namespace lambent::runtime

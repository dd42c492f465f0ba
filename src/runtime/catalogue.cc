#include "runtime/catalogue.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

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

std::string read_trimmed(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Java runtime identifiers: java8.al2, java11, java17, java21, java17.al2023, ... -> 8, 11, 17.
int java_feature(const std::string& runtime) {
  if (runtime.rfind("java", 0) != 0) return 0;
  return std::atoi(runtime.c_str() + 4);
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
  // JDKs as Debian installs them: /usr/lib/jvm/java-17-openjdk-amd64 (the java-1.17.0-... names
  // are links to the same).
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/jvm", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("java-", 0) != 0 || name.find("-openjdk") == std::string::npos) continue;
    if (entry.is_symlink(ec) || !executable_file(entry.path() / "bin/java")) continue;
    int feature = std::atoi(name.c_str() + 5);
    if (feature > 1) jdks_[feature] = entry.path();
  }
  java_options_ = read_trimmed(runtimes_dir_ / "java/jvm-options");
  java_class_path_ = read_trimmed(runtimes_dir_ / "java/class-path");
  if (executable_file("/usr/bin/node")) {
    std::string v = run_capture("/usr/bin/node --version 2>/dev/null");  // v20.20.2
    if (v.size() > 1 && v[0] == 'v') node_major_ = std::atoi(v.c_str() + 1);
  }
}

bool Catalogue::launch(const std::string& runtime, const fs::path& code_dir, int memory_mb,
                       Launch* out, LaunchError* err) const {
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
  if (int feature = java_feature(runtime); feature > 0) {
    auto jdk = jdks_.find(feature);
    if (jdk == jdks_.end()) {
      return unavailable("no JDK " + std::to_string(feature) + " under /usr/lib/jvm");
    }
    std::error_code ec;
    if (java_class_path_.empty() ||
        !fs::is_regular_file(runtimes_dir_ / "java/lib/lambent-java-runtime.jar", ec)) {
      return unavailable("the Java runtime is not built (make build)");
    }
    // AWS's JVM flags: heap 85% of the memory, metaspace 10%, code cache 5%; tiered compilation
    // stopped at C1 and the serial collector (jvm-options); class-data sharing of the runtime's
    // classes when build.sh recorded an archive for this JDK. JAVA_TOOL_OPTIONS, the user's, is
    // read by the JVM itself.
    const int64_t kb = static_cast<int64_t>(memory_mb) * 1024;
    std::vector<std::string> argv = {(jdk->second / "bin/java").string()};
    for (auto& w : split_words(java_options_)) argv.push_back(std::move(w));
    const std::string cds = "cds-" + std::to_string(feature) + ".jsa";
    if (fs::is_regular_file(runtimes_dir_ / "java/lib" / cds, ec)) {
      argv.push_back("-XX:SharedArchiveFile=/var/runtime/lib/" + cds);
    }
    argv.push_back("-XX:MaxHeapSize=" + std::to_string(kb * 85 / 100) + "k");
    argv.push_back("-XX:MaxMetaspaceSize=" + std::to_string(kb * 10 / 100) + "k");
    argv.push_back("-XX:ReservedCodeCacheSize=" + std::to_string(kb * 5 / 100) + "k");
    argv.push_back("-Djava.net.preferIPv4Stack=true");
    argv.push_back("-cp");
    argv.push_back(java_class_path_);
    argv.push_back("lambent.runtime.Main");
    *out = Launch{std::move(argv), {}, "java", true};
    return true;
  }
  if (runtime == "dotnet8") {
    // C# under Mono: Lambent has no client for Microsoft's .NET runtime, which Debian does not
    // carry; what runs and what does not is in runtimes/README.md.
    std::error_code ec;
    if (!executable_file("/usr/bin/mono")) return unavailable("no Mono (/usr/bin/mono)");
    if (!fs::is_regular_file(runtimes_dir_ / "dotnet/lib/LambentBootstrap.exe", ec)) {
      return unavailable("the C# runtime is not built (make build)");
    }
    *out = Launch{{"/usr/bin/mono", "--aot-path=/var/runtime/lib/aot",
                   "/var/runtime/lib/LambentBootstrap.exe"},
                  // The package's assemblies first (its own Newtonsoft.Json, say), then the
                  // runtime's (Amazon.Lambda.Core, the serializer, Debian's Newtonsoft.Json).
                  {"MONO_PATH=/var/task:/var/runtime/lib"},
                  "dotnet",
                  true};
    return true;
  }
  return unavailable("no interpreter for it is installed");
}

}  // namespace lambent::runtime

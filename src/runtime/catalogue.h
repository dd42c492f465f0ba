// The managed-runtime catalogue: how each Runtime identifier starts inside an environment on this
// node (the command, the runtime-specific environment, which folder of `runtimes/` is mounted at
// /var/runtime), and whether this node can run it at all.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"

namespace lambent::runtime {

struct Launch {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=VALUE, runtime-specific and unreserved (users may override)
  std::string runtime_subdir;    // under the runtimes directory; "" = an empty /var/runtime
  bool sets_execution_env = true;  // AWS_EXECUTION_ENV (not for provided*)
};

// Why a launch cannot happen: the message is the Invoke error the caller sees.
struct LaunchError {
  std::string error_type;  // e.g. Runtime.InvalidEntrypoint
  std::string message;
  bool is_function_error = true;  // false: the node cannot run this runtime (InvalidRuntimeException)
};

class Catalogue final {
 public:
  // `runtimes_dir` holds python/, node/ ...; host interpreters are probed once here.
  explicit Catalogue(std::filesystem::path runtimes_dir);

  // `code_dir` is the function's extracted package (for custom runtimes' bootstrap);
  // `memory_mb` the function's memory (the JVM's heap, metaspace and code cache follow it).
  bool launch(const std::string& runtime, const std::filesystem::path& code_dir, int memory_mb,
              Launch* out, LaunchError* err) const;
  const std::filesystem::path& runtimes_dir() const { return runtimes_dir_; }

 private:
  std::filesystem::path runtimes_dir_;
  std::string python_version_;  // "3.11", or "" when /usr/bin/python3 is absent
  int node_major_ = 0;
  std::string ruby_abi_;  // "3.1.0" (RbConfig ruby_version), or "" without /usr/bin/ruby
  std::map<int, std::filesystem::path> jdks_;  // feature release (17) -> JAVA_HOME
  std::string java_options_;  // runtimes/java/jvm-options: the flags the CDS archive was made with
  std::string java_class_path_;  // runtimes/java/class-path, relative to /var/task as recorded
};

// Where the runtimes shipped with Lambent live, relative to the executable: <prefix>/runtimes in
// the source tree (build/bin/lambent), or <prefix>/share/lambent/runtimes when installed.
std::filesystem::path default_runtimes_dir();

}  // namespace lambent::runtime

// Zip validation and extraction (packages and layers): every refusal must be clean and leave
// nothing behind; an accepted archive extracts inside its directory only.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/fs.h"
#include "blob/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::path("/dev/shm") / ("lambent-fuzz-zip-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  auto out = dir / "out";
  auto r = lambent::blob::extract_zip(std::string_view(reinterpret_cast<const char*>(data), size),
                                      out, 16 << 20);
  if (!r && std::filesystem::exists(out)) std::abort();  // a refusal left files behind
  (void)lambent::remove_tree(out);
  if (std::filesystem::exists(dir / "evil")) std::abort();
  return 0;
}

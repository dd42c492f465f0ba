#include "base/error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lambent {

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
  std::fprintf(stderr, "fatal: Result::value() on an error at %s:%u: %s\n", loc.file_name(),
               static_cast<unsigned>(loc.line()), e.message.c_str());
  std::abort();
}

}  // namespace lambent

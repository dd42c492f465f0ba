// Expected failures as values: one small error enum plus a message, carried in Result<T>.
// Each service (src/services/) maps each code once to its AWS error names and HTTP statuses.
#pragma once

#include <cerrno>
#include <string>
#include <utility>

#include <boost/system/result.hpp>

namespace lambent {

enum class Errc {
  kNotFound,           // the named thing does not exist
  kAlreadyExists,      // create of something that exists
  kConflict,           // state does not allow the operation now
  kPreconditionFailed, // optimistic-concurrency token (RevisionId) does not match
  kInvalidArgument,    // input is well-formed but not acceptable
  kCorrupt,            // stored data failed an integrity check
  kIo,                 // the file system or database failed
  kInternal,           // anything else; a bug or an unexpected library failure
};

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

// boost::system::result finds this by ADL when .value() is called on an error; it is a bug to do so
// without checking, so it aborts with the message.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// Early-return helper for Result-returning functions.
#define LAMBENT_TRY(var, expr)                  \
  auto var##_result = (expr);                   \
  if (!var##_result) return var##_result.error(); \
  auto var = std::move(*var##_result)

// "what: strerror(err)", for messages of failed system calls.
std::string errno_text(const std::string& what, int err = errno);

#define LAMBENT_TRY_VOID(expr)                          \
  do {                                                  \
    auto lambent_try_result_ = (expr);                  \
    if (!lambent_try_result_) return lambent_try_result_.error(); \
  } while (0)

}  // namespace lambent

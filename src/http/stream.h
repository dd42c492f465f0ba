// Bodies that do not fit in memory: a request body the handler pulls as it arrives (routes with
// `stream_body`: S3 uploads), and a response body produced piece by piece while it is written
// (S3 downloads). Both run on the server's I/O thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace lambent::http {

class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `cap` bytes of the (de-chunked) body into `out`; 0 at its end. kIo when the
  // client went away or the body timed out, kInvalidArgument when it was malformed.
  // The first read sends `100 Continue` when the client asked for it.
  virtual boost::asio::awaitable<Result<size_t>> read(char* out, size_t cap) = 0;
  // The declared Content-Length (none with Transfer-Encoding: chunked).
  virtual std::optional<uint64_t> content_length() const = 0;
  virtual bool done() const = 0;
  // A trailer field of a chunked body, once it was read to its end (a runtime's
  // Lambda-Runtime-Function-Error-Type); nullopt when absent.
  virtual std::optional<std::string> trailer(std::string_view name) const {
    (void)name;
    return std::nullopt;
  }
};

class BodySource {
 public:
  virtual ~BodySource() = default;
  // The next piece of the body, valid until the next call; empty at the end. An error ends the
  // connection (the status line has already gone out).
  virtual boost::asio::awaitable<Result<std::string_view>> next() = 0;
};

}  // namespace lambent::http

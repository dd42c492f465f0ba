// AWS event-stream framing (application/vnd.amazon.eventstream), the binary message format of
// streaming operations (InvokeWithResponseStream): prelude (total length, headers length, CRC32 of
// both), headers, payload, CRC32 of everything before it; all integers big-endian.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace lambent::aws {

// One message with string-valued headers (type 7), e.g. {":event-type", "PayloadChunk"}.
std::string encode_event_message(
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view payload);

struct EventMessage {
  std::vector<std::pair<std::string, std::string>> headers;  // string headers only
  std::string payload;
};
// Decodes the message at the start of `data` (its length in `used`); kInvalidArgument when
// malformed or a CRC does not match, kNotFound when `data` holds less than a whole message.
Result<EventMessage> decode_event_message(std::string_view data, size_t& used);

}  // namespace lambent::aws

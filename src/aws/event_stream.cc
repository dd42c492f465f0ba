#include "aws/event_stream.h"

#include <zlib.h>

namespace lambent::aws {
namespace {

void put32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t get32(std::string_view d, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(d[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

uint32_t crc(std::string_view d) {
  return static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())));
}

}  // namespace

std::string encode_event_message(
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view payload) {
  std::string h;
  for (const auto& [name, value] : headers) {
    h.push_back(static_cast<char>(name.size()));
    h.append(name);
    h.push_back(7);  // string
    h.push_back(static_cast<char>(value.size() >> 8));
    h.push_back(static_cast<char>(value.size()));
    h.append(value);
  }
  const uint32_t total = static_cast<uint32_t>(12 + h.size() + payload.size() + 4);
  std::string out;
  out.reserve(total);
  put32(out, total);
  put32(out, static_cast<uint32_t>(h.size()));
  put32(out, crc(out));
  out += h;
  out.append(payload);
  put32(out, crc(out));
  return out;
}

Result<EventMessage> decode_event_message(std::string_view data, size_t& used) {
  if (data.size() < 16) return make_error(Errc::kNotFound, "incomplete message");
  const uint32_t total = get32(data, 0);
  const uint32_t headers_len = get32(data, 4);
  if (get32(data, 8) != crc(data.substr(0, 8))) {
    return make_error(Errc::kInvalidArgument, "prelude checksum mismatch");
  }
  if (total < 16 || headers_len > total - 16) {
    return make_error(Errc::kInvalidArgument, "bad message lengths");
  }
  if (data.size() < total) return make_error(Errc::kNotFound, "incomplete message");
  if (get32(data, total - 4) != crc(data.substr(0, total - 4))) {
    return make_error(Errc::kInvalidArgument, "message checksum mismatch");
  }
  EventMessage m;
  std::string_view h = data.substr(12, headers_len);
  while (!h.empty()) {
    size_t n = static_cast<unsigned char>(h[0]);
    if (h.size() < 1 + n + 3 || h[1 + n] != 7) {
      return make_error(Errc::kInvalidArgument, "unsupported header");
    }
    size_t len = static_cast<size_t>(static_cast<unsigned char>(h[2 + n])) << 8 |
                 static_cast<unsigned char>(h[3 + n]);
    if (h.size() < 4 + n + len) return make_error(Errc::kInvalidArgument, "bad header length");
    m.headers.emplace_back(std::string(h.substr(1, n)), std::string(h.substr(4 + n, len)));
    h.remove_prefix(4 + n + len);
  }
  m.payload = std::string(data.substr(12 + headers_len, total - 16 - headers_len));
  used = total;
  return m;
}

}  // namespace lambent::aws

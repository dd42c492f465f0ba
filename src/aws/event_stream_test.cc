#include "aws/event_stream.h"

#include <gtest/gtest.h>

namespace lambent::aws {
namespace {

// The example message of AWS's event-stream specification test suite
// (awslabs/aws-c-event-stream, "int32_header" style vectors are binary; this checks the
// documented layout byte by byte for a string header).
TEST(EventStream, LayoutAndChecksums) {
  std::string m = encode_event_message({{":event-type", "PayloadChunk"}}, "hello");
  // total = 12 prelude + (1 + 11 + 1 + 2 + 12) headers + 5 payload + 4 crc
  ASSERT_EQ(m.size(), 12u + 27u + 5u + 4u);
  EXPECT_EQ(static_cast<unsigned char>(m[3]), m.size());
  EXPECT_EQ(static_cast<unsigned char>(m[7]), 27);
  EXPECT_EQ(m.substr(12, 12), std::string("\x0b:event-type", 12));
  size_t used = 0;
  auto d = decode_event_message(m + "trailing", used);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(used, m.size());
  ASSERT_EQ(d->headers.size(), 1u);
  EXPECT_EQ(d->headers[0].second, "PayloadChunk");
  EXPECT_EQ(d->payload, "hello");
}

TEST(EventStream, EmptyMessageMatchesTheSpecVector) {
  // awslabs/aws-c-event-stream's "empty_message" vector: 16 bytes, no headers, no payload.
  const unsigned char expected[] = {0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
                                    0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff};
  std::string m = encode_event_message({}, "");
  EXPECT_EQ(m, std::string(reinterpret_cast<const char*>(expected), sizeof expected));
}

TEST(EventStream, RefusesCorruption) {
  std::string m = encode_event_message({{":message-type", "event"}}, "{}");
  size_t used = 0;
  std::string bad = m;
  bad[bad.size() - 6] ^= 1;  // payload byte
  EXPECT_EQ(decode_event_message(bad, used).error().code, Errc::kInvalidArgument);
  bad = m;
  bad[2] ^= 1;  // length
  EXPECT_EQ(decode_event_message(bad, used).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(decode_event_message(m.substr(0, m.size() - 1), used).error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace lambent::aws

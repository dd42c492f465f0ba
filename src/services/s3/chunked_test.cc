// aws-chunked decoding against AWS's published streaming-signature example (sigv4-streaming:
// 66,560 bytes of 'a' in a 64 KiB and a 1 KiB chunk, seed signature 4f232c43…), tampering, the
// unsigned-trailer form the SDKs send, and truncation.
#include "services/s3/chunked.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "aws/sigv4.h"

namespace lambent::s3 {
namespace {

// The raw body, handed out in small reads (as a socket would).
class StringReader final : public http::BodyReader {
 public:
  explicit StringReader(std::string s) : s_(std::move(s)) {}
  boost::asio::awaitable<Result<size_t>> read(char* out, size_t cap) override {
    size_t n = std::min({cap, s_.size() - pos_, size_t{3000}});
    std::memcpy(out, s_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  std::optional<uint64_t> content_length() const override { return s_.size(); }
  bool done() const override { return pos_ == s_.size(); }

 private:
  std::string s_;
  size_t pos_ = 0;
};

struct Decoded {
  std::string data;
  bool ok = true;
  std::string code;
  std::map<std::string, std::string> trailers;
};

Decoded decode(std::string raw, std::unique_ptr<ChunkSigning> signing) {
  boost::asio::io_context ioc;
  StringReader inner(std::move(raw));
  AwsChunkedReader reader(inner, std::move(signing));
  Decoded out;
  auto run = [&]() -> boost::asio::awaitable<void> {
    char buf[5000];
    for (;;) {
      auto n = co_await reader.read(buf, sizeof buf);
      if (!n) {
        out.ok = false;
        out.code = reader.failure_code();
        co_return;
      }
      if (*n == 0) break;
      out.data.append(buf, *n);
    }
    out.trailers = reader.trailers();
  };
  auto f = boost::asio::co_spawn(ioc, run(), boost::asio::use_future);
  ioc.run();
  f.get();
  return out;
}

std::unique_ptr<ChunkSigning> aws_example_signing() {
  auto s = std::make_unique<ChunkSigning>();
  s->key = std::make_shared<HmacSha256>(aws::sigv4::derive_signing_key(
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"));
  s->amz_date = "20130524T000000Z";
  s->scope = "20130524/us-east-1/s3/aws4_request";
  s->seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  return s;
}

std::string aws_example_body(char fill = 'a') {
  std::string body =
      "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n";
  body += std::string(65536, fill);
  body +=
      "\r\n400;chunk-signature="
      "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n";
  body += std::string(1024, 'a');
  body +=
      "\r\n0;chunk-signature="
      "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
  return body;
}

TEST(AwsChunked, AwsPublishedExampleVerifies) {
  std::string body = aws_example_body();
  EXPECT_EQ(body.size(), 66824u);  // the example's Content-Length
  auto d = decode(body, aws_example_signing());
  ASSERT_TRUE(d.ok) << d.code;
  EXPECT_EQ(d.data, std::string(66560, 'a'));
}

TEST(AwsChunked, TamperedChunkFailsItsSignature) {
  auto d = decode(aws_example_body('b'), aws_example_signing());
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.code, "SignatureDoesNotMatch");
  // Chunks swapped or a signature from another chain: the same.
  std::string body = aws_example_body();
  body.replace(body.find("0055627c"), 8, "0055627d");
  d = decode(body, aws_example_signing());
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.code, "SignatureDoesNotMatch");
}

TEST(AwsChunked, UnsignedWithTrailer) {
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  auto d = decode(body, nullptr);
  ASSERT_TRUE(d.ok) << d.code;
  EXPECT_EQ(d.data, "hello world");
  EXPECT_EQ(d.trailers.at("x-amz-checksum-crc32"), "DUoRhQ==");
}

TEST(AwsChunked, MalformedOrTruncatedBodies) {
  for (std::string body : {std::string("5\r\nhel"), std::string("zz\r\nhello\r\n0\r\n\r\n"),
                           std::string("5\r\nhelloXX0\r\n\r\n"), std::string(5000, '1')}) {
    auto d = decode(body, nullptr);
    EXPECT_FALSE(d.ok) << body.substr(0, 40);
    EXPECT_FALSE(d.code.empty());
  }
  // A signed body without signatures.
  auto d = decode("5\r\nhello\r\n0\r\n\r\n", aws_example_signing());
  EXPECT_FALSE(d.ok);
}

}  // namespace
}  // namespace lambent::s3

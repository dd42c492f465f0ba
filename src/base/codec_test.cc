#include "base/codec.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <set>

namespace lambent {
namespace {

TEST(Base64, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data.push_back(static_cast<char>(i * 7));
    auto back = base64_decode(base64_encode(data));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, data);
  }
}

TEST(Base64, KnownVector) {
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(*base64_decode("Zm8="), "fo");
}

TEST(Base64, RejectsInvalid) {
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9v!mFy").has_value());
  EXPECT_FALSE(base64_decode("Z===").has_value());
  EXPECT_FALSE(base64_decode("Zm=v").has_value());
}

TEST(Sha256, MatchesKnownDigest) {
  EXPECT_EQ(hex_encode(as_bytes(sha256("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Uuid4, HasVersionAndVariant) {
  auto u = uuid4();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
  EXPECT_NE(uuid4(), u);
  // Dashes at 8, 13, 18, 23 and lower-case hex everywhere else.
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(u[i], '-') << u;
    } else {
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(u[i])) && !std::isupper(u[i])) << u;
    }
  }
}

TEST(IdBytes, ThousandsAreDistinctAcrossPoolRefills) {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(seen.insert(uuid4()).second);
  EXPECT_EQ(id_bytes(0), "");
  EXPECT_EQ(id_bytes(700).size(), 700u);  // more than one pool's worth in one call
}

TEST(IdBytes, AForkedChildDoesNotRepeatItsParentsBytes) {
  (void)id_bytes(8);  // the pool now holds unused bytes, which the child must not reuse
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string child = id_bytes(64);
    ssize_t n = ::write(fds[1], child.data(), child.size());
    ::_exit(n == 64 ? 0 : 1);
  }
  std::string parent = id_bytes(64);
  std::string child(64, '\0');
  ASSERT_EQ(::read(fds[0], child.data(), child.size()), 64);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_NE(parent, child);
}

}  // namespace
TEST(Hmac, Rfc4231Vectors) {
  // Test case 2 (short key) and 6 (a key longer than the block).
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  HmacSha256 long_key(std::string(131, '\xaa'));
  EXPECT_EQ(
      hex_encode(as_bytes(long_key.mac("Test Using Larger Than Block-Size Key - Hash Key First"))),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The precomputed key gives the same MAC every time.
  HmacSha256 jefe("Jefe");
  EXPECT_EQ(jefe.mac("what do ya want for nothing?"), jefe.mac("what do ya want for nothing?"));
}

}  // namespace lambent

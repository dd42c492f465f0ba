#include "base/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/codec.h"
#include "base/fs.h"

namespace lambent {
namespace {

TEST(Cipher, RoundTrip) {
  Cipher c(random_bytes(32));
  std::string sealed = c.seal("hello world", "ctx");
  EXPECT_EQ(sealed.size(), 11 + Cipher::kOverhead);
  EXPECT_EQ(sealed.find("hello"), std::string::npos);
  auto back = c.open(sealed, "ctx");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "hello world");
}

TEST(Cipher, DetectsTamperingTruncationWrongContextAndKey) {
  Cipher c(random_bytes(32));
  std::string sealed = c.seal("payload bytes", "a");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    auto r = c.open(bad, "a");
    ASSERT_FALSE(r) << "flip at " << i;
    EXPECT_EQ(r.error().code, Errc::kCorrupt);
  }
  EXPECT_FALSE(c.open(sealed.substr(0, sealed.size() - 1), "a"));
  EXPECT_FALSE(c.open(sealed, "b"));
  EXPECT_FALSE(Cipher(random_bytes(32)).open(sealed, "a"));
}

TEST(KeyFile, CreatedWith0600AndStable) {
  auto dir = std::filesystem::temp_directory_path() / ("lambent-key-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  auto path = dir / "node.key";
  auto k1 = load_or_create_key(path);
  ASSERT_TRUE(k1);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k2 = load_or_create_key(path);
  ASSERT_TRUE(k2);
  EXPECT_EQ(*k1, *k2);
  ::chmod(path.c_str(), 0644);
  EXPECT_FALSE(load_or_create_key(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lambent

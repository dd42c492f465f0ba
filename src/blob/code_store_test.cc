#include "blob/code_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/codec.h"
#include "base/fs.h"
#include "blob/test_zip.h"
#include "blob/zip.h"

namespace lambent::blob {
namespace {
namespace fs = std::filesystem;
using testing::Entry;

class CodeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tag = hex_encode(random_bytes(4));
    data_ = fs::temp_directory_path() / ("lambent-cs-" + tag);
    cache_ = fs::path("/dev/shm") / ("lambent-cs-test-" + tag);
    auto s = CodeStore::open(data_ / "code", cache_, cipher_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    for (const auto& d : store_->list()) store_->remove(d);
    fs::remove_all(data_);
    fs::remove_all(cache_);
  }
  Cipher cipher_{random_bytes(32)};
  fs::path data_, cache_;
  std::unique_ptr<CodeStore> store_;
};

TEST_F(CodeStoreTest, RoundTripIsExactAndSealed) {
  std::string zip = testing::make_zip({{Entry::kFile, "app.py", "SECRET_MARKER = 42\n"}});
  auto info = store_->put(zip);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size, static_cast<int64_t>(zip.size()));
  EXPECT_EQ(info->sha256_b64, base64_encode(as_bytes(sha256(zip))));
  auto back = store_->get(info->digest_hex);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, zip);
  auto raw = read_file(store_->blob_path(info->digest_hex));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->find("SECRET_MARKER"), std::string::npos);
  EXPECT_EQ(*read_file(cache_ / info->digest_hex / "app.py"), "SECRET_MARKER = 42\n");
  // Idempotent.
  auto again = store_->put(zip);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->digest_hex, info->digest_hex);
  EXPECT_EQ(store_->list().size(), 1u);
}

TEST_F(CodeStoreTest, DetectsTampering) {
  std::string zip = testing::make_zip({{Entry::kFile, "a", "b"}});
  auto info = store_->put(zip);
  ASSERT_TRUE(info);
  auto path = store_->blob_path(info->digest_hex);
  auto raw = *read_file(path);
  raw[raw.size() / 2] ^= 1;
  ASSERT_TRUE(write_file_atomic(path, raw));
  auto r = store_->get(info->digest_hex);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
  EXPECT_EQ(store_->get(std::string(64, '0')).error().code, Errc::kNotFound);
}

TEST_F(CodeStoreTest, RefusedZipLeavesNothing) {
  auto r = store_->put(testing::make_zip({{Entry::kFile, "../x", "y"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(store_->list().empty());
  EXPECT_TRUE(fs::is_empty(cache_));
}

TEST_F(CodeStoreTest, ReextractsWhenCacheIsLost) {
  std::string zip = testing::make_zip({{Entry::kFile, "f", "content"}});
  auto info = store_->put(zip);
  ASSERT_TRUE(info);
  remove_tree(cache_ / info->digest_hex);
  auto dir = store_->extracted(info->digest_hex);
  ASSERT_TRUE(dir);
  EXPECT_EQ(*read_file(*dir / "f"), "content");
}

TEST(CodeStoreOpen, RefusesDiskBackedCache) {
  Cipher c(random_bytes(32));
  auto base = fs::temp_directory_path() / ("lambent-cs-disk-" + hex_encode(random_bytes(4)));
  auto s = CodeStore::open(base / "code", base / "cache", c);
  // /tmp may itself be a tmpfs on some machines; only a disk-backed one must be refused.
  if (s) GTEST_SKIP() << "temp directory is a tmpfs here";
  EXPECT_NE(s.error().message.find("tmpfs"), std::string::npos);
  fs::remove_all(base);
}

}  // namespace
}  // namespace lambent::blob

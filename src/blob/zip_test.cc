#include "blob/zip.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/codec.h"
#include "base/fs.h"
#include "blob/test_zip.h"

namespace lambent::blob {
namespace {
namespace fs = std::filesystem;
using testing::Entry;
using testing::make_zip;

class ZipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lambent-zip-" + hex_encode(random_bytes(4)));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    remove_tree(dir_ / "out");
    fs::remove_all(dir_);
  }
  // Expects refusal with a message containing `needle`, and nothing left behind.
  void expect_refused(const std::string& zip, const std::string& needle,
                      uint64_t limit = kMaxUnzippedBytes) {
    auto r = extract_zip(zip, dir_ / "out", limit);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists(dir_ / "out"));
    EXPECT_FALSE(fs::exists(dir_ / "evil"));
  }
  fs::path dir_;
};

TEST_F(ZipTest, ExtractsFilesDirsAndInsideSymlinksReadOnly) {
  std::string zip = make_zip({{Entry::kDir, "lib/", "", 0755},
                              {Entry::kFile, "lib/util.py", "X = 1\n", 0644},
                              {Entry::kFile, "bootstrap", "#!/bin/sh\n", 0755},
                              {Entry::kSymlink, "lib/link.py", "util.py"},
                              {Entry::kFile, "deep/er/file.txt", "hi", 0644}});
  auto r = extract_zip(zip, dir_ / "out");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->unzipped_bytes, 6u + 10u + 2u);
  EXPECT_EQ(*read_file(dir_ / "out/lib/link.py"), "X = 1\n");
  EXPECT_EQ(*read_file(dir_ / "out/deep/er/file.txt"), "hi");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "out/bootstrap").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  ASSERT_EQ(::stat((dir_ / "out/lib/util.py").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  ASSERT_EQ(::stat((dir_ / "out/lib").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
}

TEST_F(ZipTest, RefusesCorruptAndEmptyInput) {
  expect_refused("", "Could not unzip");
  expect_refused("this is not a zip file at all", "Could not unzip");
  std::string zip = make_zip({{Entry::kFile, "a.txt", std::string(5000, 'a'), 0644}});
  zip[zip.size() / 3] ^= 0x5a;
  zip[zip.size() / 3 + 1] ^= 0x5a;
  expect_refused(zip, "Could not unzip");
}

TEST_F(ZipTest, RefusesEmptyArchivesAndDamagedCentralDirectories) {
  expect_refused(make_zip({}), "non-empty zip");
  std::string zip = make_zip({{Entry::kFile, "a.txt", "aaaa"}, {Entry::kFile, "b.txt", "bbbb"}});
  // Damage the second central directory record's signature: libarchive then quietly lists one
  // entry, but the end record says two.
  size_t first = zip.find("PK\x01\x02");
  size_t second = zip.find("PK\x01\x02", first + 4);
  ASSERT_NE(second, std::string::npos);
  zip[second + 2] = 9;
  expect_refused(zip, "Could not unzip");
}

TEST_F(ZipTest, RefusesZipSlipAndAbsolutePaths) {
  expect_refused(make_zip({{Entry::kFile, "../evil", "x"}}), "escapes");
  expect_refused(make_zip({{Entry::kFile, "ok/../../evil", "x"}}), "escapes");
  expect_refused(make_zip({{Entry::kFile, "/tmp/evil", "x"}}), "absolute");
}

TEST_F(ZipTest, RefusesSymlinksPointingOutside) {
  expect_refused(make_zip({{Entry::kSymlink, "passwd", "/etc/passwd"}}), "symlink");
  expect_refused(make_zip({{Entry::kSymlink, "a/up", "../../evil"}}), "symlink");
  // Write through a symlink placed earlier in the archive.
  expect_refused(make_zip({{Entry::kSymlink, "d", "."}, {Entry::kFile, "d/x", "y"}}),
                 "passes through a symlink");
  // A chain that only escapes physically: d/s -> .. (the root), e -> d/s/../.. .
  expect_refused(make_zip({{Entry::kDir, "d/", ""},
                           {Entry::kSymlink, "d/s", ".."},
                           {Entry::kSymlink, "e", "d/s/../.."}}),
                 "symlink");
}

TEST_F(ZipTest, StopsZipBombsByInflatedBytes) {
  std::string zip = make_zip({{Entry::kFile, "zeros", std::string(4 << 20, '\0')}});
  EXPECT_LT(zip.size(), 64u * 1024);
  expect_refused(zip, "Unzipped size must be smaller than 1048576 bytes", 1 << 20);
}

TEST_F(ZipTest, RefusesNamesTheFileSystemCannotHold) {
  // A 60 KB name once failed at create ("File name too long", a 500): now a clear refusal.
  expect_refused(make_zip({{Entry::kFile, std::string(60000, 'a'), "x", 0644}}),
                 "longer than 4096 bytes");
  expect_refused(make_zip({{Entry::kFile, "dir/" + std::string(300, 'b') + ".py", "x", 0644}}),
                 "component longer than 255 bytes");
  // At the limits: accepted.
  std::string deep;
  for (int i = 0; i < 15; ++i) deep += std::string(255, 'c' + (i % 3)) + "/";
  auto r = extract_zip(make_zip({{Entry::kFile, deep + "f", "x", 0644}}), dir_ / "out");
  ASSERT_TRUE(r) << r.error().message;
}

TEST_F(ZipTest, RefusesDuplicates) {
  expect_refused(make_zip({{Entry::kFile, "a", "1"}, {Entry::kFile, "a", "2"}}), "duplicate");
}

}  // namespace
}  // namespace lambent::blob

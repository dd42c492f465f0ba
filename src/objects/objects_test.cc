// Object data at rest: ranges across segments and pieces read back exactly, altered or
// truncated data fails to open, and what a crash leaves in tmp/ is recovered or removed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/codec.h"
#include "objects/object_store.h"
#include "objects/sealed_file.h"
#include "store/sqlite_store.h"

namespace lambent::objects {
namespace {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("objects_test_" + hex_encode(random_bytes(6)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

TEST(SealedFile, RangesAcrossSegmentsReadBackExactly) {
  TempDir dir;
  const std::string key(32, 'k');
  for (size_t n : {size_t{0}, size_t{1}, kSegment - 1, kSegment, kSegment + 1, 3 * kSegment + 17}) {
    std::string data = pattern(n);
    auto path = dir.path / ("f" + std::to_string(n));
    auto w = SealedWriter::create(path, key, "id1");
    ASSERT_TRUE(w);
    // In uneven writes, and (a second file) in one write.
    for (size_t at = 0; at < n; at += 1000) {
      ASSERT_TRUE((*w)->write(std::string_view(data).substr(at, 1000)));
    }
    ASSERT_TRUE((*w)->finish());
    {
      auto one = SealedWriter::create(dir.path / ("g" + std::to_string(n)), key, "id1");
      ASSERT_TRUE(one);
      ASSERT_TRUE((*one)->write(data));
      ASSERT_TRUE((*one)->finish());
      auto r1 = SealedReader::open(dir.path / ("g" + std::to_string(n)), key, "id1", n);
      ASSERT_TRUE(r1);
      std::string back;
      ASSERT_TRUE((*r1)->read(0, n, back));
      EXPECT_EQ(back, data);
    }
    EXPECT_EQ(fs::file_size(path), sealed_size(n));
    auto r = SealedReader::open(path, key, "id1", n);
    ASSERT_TRUE(r) << r.error().message;
    std::string all;
    ASSERT_TRUE((*r)->read(0, n, all));
    EXPECT_EQ(all, data);
    for (auto [off, len] :
         std::vector<std::pair<size_t, size_t>>{{0, 0},
                                                {0, 1},
                                                {n / 2, n - n / 2},
                                                {kSegment - 3, 10},
                                                {n > 5 ? n - 5 : 0, n > 5 ? 5 : n}}) {
      if (off + len > n) continue;
      std::string part;
      ASSERT_TRUE((*r)->read(off, len, part));
      EXPECT_EQ(part, data.substr(off, len)) << n << " " << off << " " << len;
    }
    // The wrong name (another object's place) does not open.
    auto other = SealedReader::open(path, key, "id2", n);
    ASSERT_TRUE(other);
    std::string x;
    if (n > 0) {
      EXPECT_FALSE((*other)->read(0, 1, x));
    }
  }
}

TEST(SealedFile, AlteredOrTruncatedDataFails) {
  TempDir dir;
  const std::string key(32, 'k');
  std::string data = pattern(2 * kSegment + 5);
  auto path = dir.path / "f";
  auto w = SealedWriter::create(path, key, "id");
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->write(data));
  ASSERT_TRUE((*w)->finish());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kHeader + kSegment + kTag + 3));
    f.put('X');
  }
  auto r = SealedReader::open(path, key, "id", data.size());
  ASSERT_TRUE(r);
  std::string out;
  EXPECT_TRUE((*r)->read(0, 10, out));  // the first segment is intact
  out.clear();
  auto bad = (*r)->read(kSegment, 10, out);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kCorrupt);
  // Cut at a segment boundary: the length no longer fits.
  fs::resize_file(path, kHeader + kSegment + kTag);
  auto cut = SealedReader::open(path, key, "id", data.size());
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::kCorrupt);
  // Even when the reader is told the shorter size, the first segment was not sealed as the
  // last one: dropping the tail is detected.
  auto lied = SealedReader::open(path, key, "id", kSegment);
  ASSERT_TRUE(lied);
  out.clear();
  EXPECT_FALSE((*lied)->read(0, 1, out));
}

TEST(Checksums, KnownValues) {
  // Values as the AWS SDKs compute them for "hello world".
  EXPECT_EQ(checksum_of(Checksum::kCrc32, "hello world"), "DUoRhQ==");
  EXPECT_EQ(checksum_of(Checksum::kCrc32c, "hello world"), "yZRlqg==");
  EXPECT_EQ(checksum_of(Checksum::kSha1, "hello world"), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
  EXPECT_EQ(checksum_of(Checksum::kSha256, "hello world"),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
}

TEST(BucketNames, S3Rules) {
  for (const std::string& ok :
       {std::string("abc"), std::string("my-bucket.1"), std::string("a1b"), std::string(63, 'a')}) {
    EXPECT_TRUE(check_bucket_name(ok)) << ok;
  }
  for (const char* bad : {"ab", "Abc", "-abc", "abc-", "a..b", "192.168.1.1", "xn--abc",
                          "abc-s3alias", "a_b", "a.-b"}) {
    EXPECT_FALSE(check_bucket_name(bad)) << bad;
  }
}

struct StoreFixture {
  TempDir dir;
  Cipher cipher{std::string(32, 'c')};
  std::unique_ptr<store::SqliteStore> meta;
  std::unique_ptr<ObjectStore> objects;
  StoreFixture() { reopen(); }
  void reopen() {
    objects.reset();
    meta.reset();
    auto m = store::SqliteStore::open((dir.path / "meta.db").string(), cipher);
    ASSERT_TRUE(m);
    meta = std::move(*m);
    auto o = ObjectStore::open(dir.path / "objects", *meta, cipher);
    ASSERT_TRUE(o) << o.error().message;
    objects = std::move(*o);
  }
  size_t files(const char* sub) {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path / "objects" / sub)) {
      n += e.is_regular_file() ? 1 : 0;
    }
    return n;
  }
};

TEST(ObjectStore, CommitRecoveryAndGarbage) {
  StoreFixture f;
  ASSERT_TRUE(f.meta->create_bucket({"b", "us-east-1", "1", 1, "{}"}));
  // A small object lives in its row; a large one in a file.
  auto put = [&](const std::string& key, const std::string& data, bool commit_file) {
    auto w = f.objects->writer(true, false, Checksum::kNone);
    EXPECT_TRUE(w->write(data));
    EXPECT_TRUE(w->finish());
    store::ObjectRecord o{"b", key, data.size(), hex_encode(w->hasher().md5()), 1, "{}", "", {}};
    if (w->is_inline()) {
      o.inline_data = w->sealed_inline("b", key);
    } else {
      o.pieces = {w->piece()};
    }
    EXPECT_TRUE(f.meta->put_object(o, nullptr));
    if (commit_file) {
      w->committed();
    } else {
      (void)w.release();  // "crash": the row is committed, the file still in tmp/
    }
  };
  std::string small = pattern(100), big = pattern(kInlineMax + 1);
  put("small", small, true);
  put("big", big, true);
  EXPECT_EQ(f.files("data"), 1u);
  put("crashed", big, false);
  // A writer abandoned before its commit ("crash" before the row).
  {
    auto w = f.objects->writer(true, false, Checksum::kNone);
    ASSERT_TRUE(w->write(big));
    ASSERT_TRUE(w->finish());
    (void)w.release();
  }
  EXPECT_EQ(f.files("tmp"), 2u);
  f.reopen();
  EXPECT_EQ(f.files("tmp"), 0u);
  EXPECT_EQ(f.files("data"), 2u);
  for (auto [key, want] : {std::pair{"small", &small}, {"big", &big}, {"crashed", &big}}) {
    auto rec = f.meta->get_object("b", key);
    ASSERT_TRUE(rec);
    auto r = f.objects->reader(*rec);
    ASSERT_TRUE(r);
    std::string out;
    ASSERT_TRUE((*r)->read(0, rec->size, out)) << key;
    EXPECT_EQ(out, *want) << key;
  }
  // Overwriting and deleting release the files.
  put("big", small, true);
  ASSERT_TRUE(f.meta->delete_object("b", "crashed"));
  auto n = f.objects->collect_garbage();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(f.files("data"), 0u);
  EXPECT_FALSE(f.meta->delete_bucket("b"));  // still holds objects
}

}  // namespace
}  // namespace lambent::objects

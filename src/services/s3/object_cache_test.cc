// The small-object cache never serves a row older than an acknowledged write, and stays within
// its byte budget.
#include "services/s3/object_cache.h"

#include <gtest/gtest.h>

namespace lambent::s3 {
namespace {

store::ObjectRecord row(const std::string& key, const std::string& etag, size_t size = 10) {
  store::ObjectRecord r;
  r.bucket = "b";
  r.key = key;
  r.etag = etag;
  r.inline_data = std::string(size, 'x');
  return r;
}

TEST(ObjectCache, AReadOvertakenByAWriteDoesNotFill) {
  ObjectCache cache(1 << 20);
  uint64_t before = cache.epoch();  // a GET starts reading v1
  cache.forget("b", "k");           // a PUT of v2 commits and answers
  cache.fill(row("k", "v1"), before);
  EXPECT_EQ(cache.find("b", "k"), nullptr);
  uint64_t now = cache.epoch();
  cache.fill(row("k", "v2"), now);
  ASSERT_NE(cache.find("b", "k"), nullptr);
  EXPECT_EQ(cache.find("b", "k")->etag, "v2");
  cache.forget("b", "k");
  EXPECT_EQ(cache.find("b", "k"), nullptr);
  // Objects with data files are never cached.
  auto big = row("f", "e");
  big.pieces.push_back({"id", 100});
  cache.fill(big, cache.epoch());
  EXPECT_EQ(cache.find("b", "f"), nullptr);
}

TEST(ObjectCache, LeastRecentlyUsedGoFirst) {
  ObjectCache cache(16 * (1000 + 300));
  for (int i = 0; i < 40; ++i) cache.fill(row("k" + std::to_string(i), "e", 1000), cache.epoch());
  int kept = 0;
  for (int i = 0; i < 40; ++i) kept += cache.find("b", "k" + std::to_string(i)) != nullptr;
  EXPECT_LE(kept, 16);
  EXPECT_NE(cache.find("b", "k39"), nullptr);
  EXPECT_EQ(cache.find("b", "k0"), nullptr);
}

}  // namespace
}  // namespace lambent::s3

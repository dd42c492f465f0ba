#include "queue/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

namespace lambent::queue {
namespace {

TEST(QueueMemory, BlocksAreReusedBySizeAndNeverOverlap) {
  Memory m;
  std::mt19937 rng(7);
  std::map<char*, size_t> live;  // block → size
  for (int i = 0; i < 20000; ++i) {
    if (!live.empty() && rng() % 3 == 0) {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      for (size_t j = 0; j < it->second; ++j) {
        ASSERT_EQ(it->first[j], static_cast<char>(it->second)) << "a block was overwritten";
      }
      m.deallocate(it->first, it->second, 8);
      live.erase(it);
      continue;
    }
    size_t size = 1 + rng() % (rng() % 8 == 0 ? 70000 : 600);
    char* p = static_cast<char*>(m.allocate(size, 8));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    // No live block overlaps the new one.
    auto next = live.lower_bound(p);
    if (next != live.end()) {
      ASSERT_GE(next->first, p + size);
    }
    if (next != live.begin()) {
      auto prev = std::prev(next);
      ASSERT_LE(prev->first + prev->second, p);
    }
    std::memset(p, static_cast<char>(size), size);
    live[p] = size;
  }
  // A freed block is the next one of its class.
  void* a = m.allocate(100, 8);
  m.deallocate(a, 100, 8);
  EXPECT_EQ(m.allocate(112, 8), a);  // 100 and 112 share the 112-byte class
  for (auto [p, size] : live) m.deallocate(p, size, 8);
}

TEST(QueueMemory, LargeBlocksAreMappingsOfTheirOwnAndResetGivesPagesBack) {
  Memory m;
  EXPECT_EQ(m.mapped(), 0u);
  EXPECT_FALSE(m.grown());
  void* big = m.allocate(200000, 8);
  EXPECT_EQ(m.mapped(), 200704u);  // rounded to pages, no 1 MiB region yet
  m.deallocate(big, 200000, 8);
  EXPECT_EQ(m.mapped(), 0u);

  // A little use keeps its mapping and pages: reset costs nothing.
  char* small = static_cast<char*>(m.allocate(64, 8));
  std::memset(small, 'x', 64);
  EXPECT_FALSE(m.grown());
  m.deallocate(small, 64, 8);
  m.reset();
  EXPECT_EQ(m.mapped(), Memory::kRegion);
  EXPECT_EQ(m.allocate(64, 8), small);  // carved again from the start
  m.deallocate(small, 64, 8);

  // Three regions' worth: reset keeps one and gives its touched pages back (they read as zero).
  std::vector<void*> blocks;
  for (size_t i = 0; i < 3 * Memory::kRegion / 1024; ++i) {
    char* p = static_cast<char*>(m.allocate(1000, 8));
    std::memset(p, 'y', 1000);
    blocks.push_back(p);
  }
  EXPECT_GE(m.mapped(), 3 * Memory::kRegion);
  EXPECT_TRUE(m.grown());
  for (void* p : blocks) m.deallocate(p, 1000, 8);
  m.reset();
  EXPECT_EQ(m.mapped(), Memory::kRegion);
  EXPECT_FALSE(m.grown());
  EXPECT_EQ(small[100], 0) << "the kept region's pages were not given back";
}

}  // namespace
}  // namespace lambent::queue

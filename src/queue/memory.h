// Memory of one queue's own: where a queue keeps its messages, so that a queue holding millions
// of them never spreads the process's general heaps (whose pages the small objects the server
// re-makes all along would then pin after the queue drains; docs/benchmarks.md, "What makes the
// heaps grow: the queue").
// Blocks up to 64 KiB come from size classes (16-byte steps to 1 KiB, then four per doubling)
// carved from 1 MiB mappings; a freed block goes on its class's free list for the queue's next
// message. Larger blocks are mappings of their own. Nothing is given back block by block: the
// queue calls reset() once every block is free (it drained, or was purged), which unmaps all but
// the first mapping and returns the first's touched pages to the kernel.
// Thread: one at a time (the queue service's mutex).
#pragma once

#include <array>
#include <cstddef>
#include <memory_resource>
#include <vector>

namespace lambent::queue {

class Memory final : public std::pmr::memory_resource {
 public:
  Memory() = default;
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;
  ~Memory() override;

  // Every block must have been freed. Keeps the first mapping (its pages given back when more
  // than kKeep of it was used), so a queue that empties often costs no system call.
  void reset();
  // Whether reset() would give memory back.
  bool grown() const;
  // Bytes mapped (the resident part is what was touched).
  size_t mapped() const { return regions_.size() * kRegion + large_; }

  static constexpr size_t kRegion = size_t{1} << 20;
  static constexpr size_t kLargest = size_t{64} << 10;  // above: a mapping of its own
  static constexpr size_t kKeep = size_t{64} << 10;

 private:
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  static constexpr size_t kClasses = 64 + 6 * 4;
  struct Free {
    Free* next;
  };
  std::vector<char*> regions_;  // the last one is being carved
  char* cur_ = nullptr;
  char* end_ = nullptr;
  std::array<Free*, kClasses> free_{};
  size_t large_ = 0;  // bytes in mappings of their own
};

}  // namespace lambent::queue

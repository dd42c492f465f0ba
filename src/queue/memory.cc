#include "queue/memory.h"

#include <sys/mman.h>

#include <bit>
#include <new>

namespace lambent::queue {
namespace {

constexpr size_t kPage = 4096;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// A block size's class and the class's size: 16-byte steps up to 1 KiB (classes 0..63), then
// four steps per doubling up to 64 KiB (64..87).
size_t class_of(size_t bytes) {
  if (bytes <= 1024) return bytes == 0 ? 0 : (bytes - 1) / 16;
  size_t p = std::bit_width(bytes - 1) - 1;  // 2^p < bytes <= 2^(p+1), p >= 10
  size_t step = size_t{1} << (p - 2);
  return 64 + (p - 10) * 4 + ((bytes + step - 1) / step - 5);
}

size_t class_size(size_t c) {
  if (c < 64) return (c + 1) * 16;
  size_t p = 10 + (c - 64) / 4;
  return ((c - 64) % 4 + 5) << (p - 2);
}

void* map(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

}  // namespace

Memory::~Memory() {
  for (char* r : regions_) ::munmap(r, kRegion);
}

void* Memory::do_allocate(size_t bytes, size_t align) {
  if (bytes > kLargest || align > 16) {
    size_t n = round_up(bytes == 0 ? 1 : bytes, kPage);
    void* p = map(n);
    large_ += n;
    return p;
  }
  size_t c = class_of(bytes);
  if (Free* f = free_[c]) {
    free_[c] = f->next;
    return f;
  }
  size_t n = class_size(c);
  if (static_cast<size_t>(end_ - cur_) < n) {
    // The old mapping's tail (less than one block) stays unused.
    regions_.reserve(regions_.size() + 1);
    char* r = static_cast<char*>(map(kRegion));
    regions_.push_back(r);
    cur_ = r;
    end_ = r + kRegion;
  }
  void* p = cur_;
  cur_ += n;
  return p;
}

void Memory::do_deallocate(void* p, size_t bytes, size_t align) {
  if (bytes > kLargest || align > 16) {
    size_t n = round_up(bytes == 0 ? 1 : bytes, kPage);
    ::munmap(p, n);
    large_ -= n;
    return;
  }
  size_t c = class_of(bytes);
  free_[c] = new (p) Free{free_[c]};
}

bool Memory::grown() const {
  return regions_.size() > 1 ||
         (!regions_.empty() && static_cast<size_t>(cur_ - regions_[0]) > kKeep);
}

void Memory::reset() {
  free_.fill(nullptr);
  if (regions_.empty()) return;
  char* first = regions_[0];
  for (size_t i = 1; i < regions_.size(); ++i) ::munmap(regions_[i], kRegion);
  size_t used = regions_.size() > 1 ? kRegion : static_cast<size_t>(cur_ - first);
  if (used > kKeep) ::madvise(first, round_up(used, kPage), MADV_DONTNEED);
  regions_.resize(1);
  cur_ = first;
  end_ = first + kRegion;
}

}  // namespace lambent::queue

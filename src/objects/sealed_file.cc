#include "objects/sealed_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cstring>

#include "base/codec.h"
#include "base/fs.h"

namespace lambent::objects {
namespace {

constexpr char kMagic[8] = {'L', 'M', 'B', 'O', 'B', 'J', '1', '\0'};

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (24 - 8 * i));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Segment i's nonce: the index (8 bytes, big-endian), then 0 or 1 (the last segment).
void nonce_of(uint64_t index, bool last, unsigned char out[12]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(index >> (56 - 8 * i));
  out[8] = out[9] = out[10] = 0;
  out[11] = last ? 1 : 0;
}

std::string file_key(std::string_view object_key, std::string_view salt) {
  return hmac_sha256(object_key, std::string("object-data:").append(salt));
}

Result<void> write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::kIo, errno_text("write object data"));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

Result<void> pread_all(int fd, char* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::kIo, errno_text("read object data"));
    }
    if (r == 0) return make_error(Errc::kCorrupt, "object data is truncated");
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return {};
}

}  // namespace

uint64_t sealed_size(uint64_t plain) {
  uint64_t segments = plain / kSegment + 1;  // the last segment may be empty, never absent
  if (plain > 0 && plain % kSegment == 0) segments = plain / kSegment;
  return kHeader + plain + segments * kTag;
}

struct SealedWriter::Impl {
  static constexpr size_t kFlushAt = 1 << 20;
  static constexpr size_t kOutCap = kFlushAt + kHeader + kSegment + kTag;
  UniqueFd fd;
  Ctx ctx;
  std::string aad;
  std::string pending;                             // plaintext of a segment not yet complete
  std::unique_ptr<char[]> out{new char[kOutCap]};  // sealed bytes not yet written
  size_t out_len = 0;
  uint64_t index = 0;
  // Every kSyncEvery bytes written, they are made durable (the device's cache included): the
  // final fsync then waits only for the tail. On a disk with a volatile write cache (a VM's,
  // most SSDs) it would otherwise flush the whole object at the end, after its last byte
  // arrived: measured here, ~0.5 ms per MiB, 33 ms for 64 MiB although write-back had already
  // been started for every MiB.
  static constexpr uint64_t kSyncEvery = 8 << 20;
  uint64_t synced = 0;
};

Result<std::unique_ptr<SealedWriter>> SealedWriter::create(const std::filesystem::path& path,
                                                           std::string_view object_key,
                                                           std::string aad) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(Errc::kIo, errno_text("create " + path.string()));
  std::unique_ptr<SealedWriter> w(new SealedWriter());
  w->impl_ = std::make_unique<Impl>();
  auto& m = *w->impl_;
  m.fd = UniqueFd(fd);
  m.aad = std::move(aad);
  std::string salt = random_bytes(16);
  std::string key = file_key(object_key, salt);
  m.ctx.reset(EVP_CIPHER_CTX_new());
  if (!m.ctx ||
      EVP_EncryptInit_ex(m.ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), nullptr) != 1) {
    return make_error(Errc::kInternal, "AES-GCM setup failed");
  }
  std::memcpy(m.out.get(), kMagic, sizeof kMagic);
  put_u32(m.out.get() + 8, kSegment);
  put_u32(m.out.get() + 12, 0);
  std::memcpy(m.out.get() + 16, salt.data(), 16);
  m.out_len = kHeader;
  m.pending.reserve(kSegment);
  return w;
}

SealedWriter::~SealedWriter() = default;

Result<void> SealedWriter::seal(std::string_view plain, bool last) {
  auto& m = *impl_;
  unsigned char nonce[12];
  nonce_of(m.index++, last, nonce);
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(m.out.get() + m.out_len);
  bool ok = EVP_EncryptInit_ex(m.ctx.get(), nullptr, nullptr, nullptr, nonce) == 1;
  ok = ok && EVP_EncryptUpdate(m.ctx.get(), nullptr, &len,
                               reinterpret_cast<const unsigned char*>(m.aad.data()),
                               static_cast<int>(m.aad.size())) == 1;
  ok = ok &&
       EVP_EncryptUpdate(m.ctx.get(), o, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                         static_cast<int>(plain.size())) == 1;
  ok = ok && EVP_EncryptFinal_ex(m.ctx.get(), o + plain.size(), &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(m.ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + plain.size()) == 1;
  if (!ok) return make_error(Errc::kInternal, "AES-GCM encryption failed");
  m.out_len += plain.size() + kTag;
  if (m.out_len >= Impl::kFlushAt) return flush();
  return {};
}

Result<void> SealedWriter::flush() {
  auto& m = *impl_;
  LAMBENT_TRY_VOID(write_all(m.fd.get(), m.out.get(), m.out_len));
  m.out_len = 0;
  // Start writing back what is written so far, so that the final fsync waits only for the
  // tail (a large object's fsync otherwise starts the whole write-back at the end).
  off_t end = ::lseek(m.fd.get(), 0, SEEK_CUR);
  if (end > 0) (void)::sync_file_range(m.fd.get(), 0, end, SYNC_FILE_RANGE_WRITE);
  if (end > 0 && static_cast<uint64_t>(end) - m.synced >= Impl::kSyncEvery) {
    if (::fdatasync(m.fd.get()) != 0) return make_error(Errc::kIo, errno_text("fsync object data"));
    m.synced = static_cast<uint64_t>(end);
  }
  return {};
}

Result<void> SealedWriter::write(std::string_view data) {
  auto& m = *impl_;
  plain_ += data.size();
  while (!data.empty()) {
    // A full segment is sealed once more data follows it (the last segment carries the flag):
    // straight from the caller's data when no partial segment is pending.
    if (m.pending.empty() && data.size() > kSegment) {
      LAMBENT_TRY_VOID(seal(data.substr(0, kSegment), false));
      data.remove_prefix(kSegment);
      continue;
    }
    size_t n = std::min(data.size(), kSegment - m.pending.size());
    m.pending.append(data.substr(0, n));
    data.remove_prefix(n);
    if (m.pending.size() == kSegment && !data.empty()) {
      LAMBENT_TRY_VOID(seal(m.pending, false));
      m.pending.clear();
    }
  }
  return {};
}

Result<void> SealedWriter::finish() {
  auto& m = *impl_;
  // A full pending segment at the end is the last one; otherwise the pending rest is.
  LAMBENT_TRY_VOID(seal(m.pending, true));
  m.pending.clear();
  LAMBENT_TRY_VOID(flush());
  if (::fsync(m.fd.get()) != 0) return make_error(Errc::kIo, errno_text("fsync object data"));
  return {};
}

struct SealedReader::Impl {
  UniqueFd fd;
  Ctx ctx;
  std::string aad;
  std::string sealed;  // scratch: sealed segments as read
  std::string plain;   // scratch: a segment only partly asked for
};

Result<std::unique_ptr<SealedReader>> SealedReader::open(const std::filesystem::path& path,
                                                         std::string_view object_key,
                                                         std::string aad, uint64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errno == ENOENT ? Errc::kNotFound : Errc::kIo,
                      errno_text("open " + path.string()));
  }
  std::unique_ptr<SealedReader> r(new SealedReader());
  r->impl_ = std::make_unique<Impl>();
  auto& m = *r->impl_;
  m.fd = UniqueFd(fd);
  m.aad = std::move(aad);
  r->size_ = size;
  char head[kHeader];
  LAMBENT_TRY_VOID(pread_all(fd, head, kHeader, 0));
  if (std::memcmp(head, kMagic, sizeof kMagic) != 0 || get_u32(head + 8) != kSegment) {
    return make_error(Errc::kCorrupt, "object data has an unknown format");
  }
  off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0 || static_cast<uint64_t>(end) != sealed_size(size)) {
    return make_error(Errc::kCorrupt, "object data has the wrong length");
  }
  std::string key = file_key(object_key, std::string_view(head + 16, 16));
  m.ctx.reset(EVP_CIPHER_CTX_new());
  if (!m.ctx ||
      EVP_DecryptInit_ex(m.ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), nullptr) != 1) {
    return make_error(Errc::kInternal, "AES-GCM setup failed");
  }
  return r;
}

SealedReader::~SealedReader() = default;

Result<void> SealedReader::read(uint64_t offset, uint64_t length, std::string& out) {
  size_t at = out.size();
  out.resize(at + length);
  auto r = read_into(offset, length, out.data() + at);
  if (!r) out.resize(at);
  return r;
}

Result<void> SealedReader::read_into(uint64_t offset, uint64_t length, char* dst) {
  if (offset > size_ || length > size_ - offset) {
    return make_error(Errc::kInvalidArgument, "read past the end of the object");
  }
  if (length == 0) return {};
  auto& m = *impl_;
  uint64_t last_index = size_ == 0 ? 0 : (size_ - 1) / kSegment;
  uint64_t first = offset / kSegment;
  uint64_t end = offset + length;
  uint64_t stop = (end - 1) / kSegment;  // inclusive
  // All the sealed segments in one read (the scratch buffer is kept between reads).
  uint64_t seg_bytes = kSegment + kTag;
  uint64_t from = kHeader + first * seg_bytes;
  uint64_t plain_end = std::min<uint64_t>((stop + 1) * kSegment, size_);
  uint64_t to = kHeader + stop * seg_bytes + (plain_end - stop * kSegment) + kTag;
  if (m.sealed.size() < to - from) m.sealed.resize(to - from);
  LAMBENT_TRY_VOID(pread_all(m.fd.get(), m.sealed.data(), to - from, from));
  const auto* in = reinterpret_cast<unsigned char*>(m.sealed.data());
  auto* out = reinterpret_cast<unsigned char*>(dst);
  for (uint64_t i = first; i <= stop; ++i) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kSegment, size_ - i * kSegment));
    uint64_t seg_start = i * kSegment;
    // The segment's part of the range; whole segments are opened straight into `dst`.
    uint64_t lo = std::max(offset, seg_start), hi = std::min(end, seg_start + n);
    bool whole = lo == seg_start && hi == seg_start + n;
    if (!whole && m.plain.size() < kSegment) m.plain.resize(kSegment);
    auto* o = whole ? out : reinterpret_cast<unsigned char*>(m.plain.data());
    unsigned char nonce[12];
    nonce_of(i, i == last_index, nonce);
    int len = 0;
    bool ok = EVP_DecryptInit_ex(m.ctx.get(), nullptr, nullptr, nullptr, nonce) == 1;
    ok = ok && EVP_DecryptUpdate(m.ctx.get(), nullptr, &len,
                                 reinterpret_cast<const unsigned char*>(m.aad.data()),
                                 static_cast<int>(m.aad.size())) == 1;
    ok = ok && EVP_DecryptUpdate(m.ctx.get(), o, &len, in, static_cast<int>(n)) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(m.ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag,
                                   const_cast<unsigned char*>(in + n)) == 1;
    ok = ok && EVP_DecryptFinal_ex(m.ctx.get(), o + n, &len) == 1;
    if (!ok) return make_error(Errc::kCorrupt, "object data failed to authenticate");
    if (!whole) std::memcpy(out, m.plain.data() + (lo - seg_start), hi - lo);
    out += hi - lo;
    in += n + kTag;
  }
  return {};
}

}  // namespace lambent::objects

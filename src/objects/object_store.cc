#include "objects/object_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstring>

#include "base/codec.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"

namespace lambent::objects {
namespace fs = std::filesystem;

namespace {

bool all_digits_and_dots(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Result<void> fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::kIo, errno_text("open " + dir.string()));
  UniqueFd guard(fd);
  if (::fsync(fd) != 0) return make_error(Errc::kIo, errno_text("fsync " + dir.string()));
  return {};
}

std::string inline_aad(std::string_view bucket, std::string_view key) {
  std::string aad = "inline:";
  aad.append(bucket).push_back('/');
  aad.append(key);
  return aad;
}

}  // namespace

Result<void> check_bucket_name(std::string_view n) {
  auto bad = [] {
    return make_error(Errc::kInvalidArgument, "The specified bucket is not valid.");
  };
  if (n.size() < 3 || n.size() > 63) return bad();
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return bad();
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front()) || !alnum(n.back())) return bad();
  if (n.find("..") != std::string_view::npos || n.find(".-") != std::string_view::npos ||
      n.find("-.") != std::string_view::npos) {
    return bad();
  }
  if (all_digits_and_dots(n)) return bad();
  if (n.starts_with("xn--") || n.starts_with("sthree-") || n.ends_with("-s3alias") ||
      n.ends_with("--ol-s3")) {
    return bad();
  }
  return {};
}

// --- DataWriter

DataWriter::DataWriter(ObjectStore& store, bool allow_inline, bool sha256, Checksum c)
    : store_(store),
      allow_inline_(allow_inline),
      hasher_(sha256, c),
      id_(hex_encode(random_bytes(16))) {}

DataWriter::~DataWriter() {
  if (file_ && !committed_) {
    file_.reset();
    std::error_code ec;
    fs::remove(store_.tmp_path(id_), ec);
  }
}

Result<void> DataWriter::write(std::string_view data) {
  hash(data);
  return store(data);
}

Result<void> DataWriter::store(std::string_view data) {
  size_ += data.size();
  if (!file_ && allow_inline_ && buffered_.size() + data.size() <= kInlineMax) {
    buffered_.append(data);
    return {};
  }
  if (!file_) {
    LAMBENT_TRY(w, SealedWriter::create(store_.tmp_path(id_), store_.data_key_, id_));
    file_ = std::move(w);
    if (!buffered_.empty()) {
      LAMBENT_TRY_VOID(file_->write(buffered_));
      buffered_.clear();
      buffered_.shrink_to_fit();
    }
  }
  return file_->write(data);
}

Result<void> DataWriter::finish() {
  if (finished_) return {};
  finished_ = true;
  hasher_.finish();
  return finish_storage();
}

Result<void> DataWriter::finish_storage() {
  if (stored_) return {};
  stored_ = true;
  if (!file_ && !allow_inline_) {
    // Parts always have a file, even an empty one.
    LAMBENT_TRY(w, SealedWriter::create(store_.tmp_path(id_), store_.data_key_, id_));
    file_ = std::move(w);
  }
  if (!file_) return {};
  LAMBENT_TRY_VOID(file_->finish());
  // The file's name must be durable before a row names it.
  return fsync_dir(store_.dir_ / "tmp");
}

std::string DataWriter::sealed_inline(std::string_view bucket, std::string_view key) const {
  return store_.cipher_.seal(buffered_, inline_aad(bucket, key));
}

void DataWriter::committed() {
  committed_ = true;
  if (!file_) return;
  file_.reset();
  std::error_code ec;
  fs::rename(store_.tmp_path(id_), store_.data_path(id_), ec);
  if (ec)
    log::warn("objects: moving {} into place: {} (done at the next start)", id_, ec.message());
}

// --- DataReader

DataReader::DataReader(ObjectStore& store, store::ObjectRecord record)
    : store_(store), record_(std::move(record)) {
  size_ = record_.size;
  readers_.resize(record_.pieces.size());
}

Result<void> DataReader::read(uint64_t offset, uint64_t length, std::string& out) {
  size_t at = out.size();
  out.resize(at + length);
  auto r = read_into(offset, length, out.data() + at);
  if (!r) out.resize(at);
  return r;
}

Result<void> DataReader::read_into(uint64_t offset, uint64_t length, char* dst) {
  if (offset > size_ || length > size_ - offset) {
    return make_error(Errc::kInvalidArgument, "read past the end of the object");
  }
  if (record_.pieces.empty()) {
    if (plain_inline_.empty() && size_ > 0) {
      LAMBENT_TRY(
          plain, store_.cipher_.open(record_.inline_data, inline_aad(record_.bucket, record_.key)));
      plain_inline_ = std::move(plain);
    }
    if (plain_inline_.size() != size_) return make_error(Errc::kCorrupt, "object data mismatch");
    std::memcpy(dst, plain_inline_.data() + offset, length);
    return {};
  }
  uint64_t start = 0;
  for (size_t i = 0; i < record_.pieces.size() && length > 0; ++i) {
    uint64_t psize = record_.pieces[i].size;
    if (offset < start + psize) {
      if (!readers_[i]) {
        LAMBENT_TRY(r, store_.open_piece(record_.pieces[i]));
        readers_[i] = std::move(r);
      }
      uint64_t in_piece = offset - start;
      uint64_t n = std::min(length, psize - in_piece);
      LAMBENT_TRY_VOID(readers_[i]->read_into(in_piece, n, dst));
      dst += n;
      offset += n;
      length -= n;
    }
    start += psize;
  }
  if (length > 0) return make_error(Errc::kCorrupt, "object pieces are shorter than the object");
  return {};
}

// --- ObjectStore

ObjectStore::ObjectStore(fs::path dir, store::Store& store, const Cipher& cipher)
    : dir_(std::move(dir)),
      store_(store),
      cipher_(cipher),
      data_key_(cipher.derive("object-data")),
      sequence_(static_cast<uint64_t>(now_ms()) << 20) {}

Result<std::unique_ptr<ObjectStore>> ObjectStore::open(const fs::path& dir, store::Store& store,
                                                       const Cipher& cipher) {
  std::error_code ec;
  fs::create_directories(dir / "tmp", ec);
  if (ec) return make_error(Errc::kIo, "create " + (dir / "tmp").string() + ": " + ec.message());
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    fs::create_directories(dir / "data" / sub, ec);
    if (ec) return make_error(Errc::kIo, "create " + (dir / "data").string() + ": " + ec.message());
  }
  std::unique_ptr<ObjectStore> s(new ObjectStore(dir, store, cipher));
  LAMBENT_TRY_VOID(s->recover());
  return s;
}

Result<void> ObjectStore::recover() {
  size_t moved = 0, removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ / "tmp", ec)) {
    std::string id = entry.path().filename().string();
    LAMBENT_TRY(used, store_.object_data_referenced(id));
    if (used) {
      fs::rename(entry.path(), data_path(id), ec);
      if (ec) return make_error(Errc::kIo, "move " + id + " into place: " + ec.message());
      ++moved;
    } else {
      fs::remove(entry.path(), ec);
      ++removed;
    }
  }
  if (moved + removed > 0) {
    log::info(
        "objects: after an interruption, {} committed data file(s) moved into place, {} "
        "uncommitted one(s) removed",
        moved, removed);
  }
  LAMBENT_TRY_VOID(collect_garbage());
  return {};
}

fs::path ObjectStore::tmp_path(std::string_view id) const { return dir_ / "tmp" / std::string(id); }

fs::path ObjectStore::data_path(std::string_view id) const {
  return dir_ / "data" / std::string(id.substr(0, 2)) / std::string(id);
}

std::unique_ptr<DataWriter> ObjectStore::writer(bool allow_inline, bool sha256, Checksum c) {
  return std::unique_ptr<DataWriter>(new DataWriter(*this, allow_inline, sha256, c));
}

Result<std::unique_ptr<DataReader>> ObjectStore::reader(store::ObjectRecord record) {
  return std::unique_ptr<DataReader>(new DataReader(*this, std::move(record)));
}

Result<std::unique_ptr<SealedReader>> ObjectStore::open_piece(const store::DataPiece& piece) {
  // Committed data is in data/, or still in tmp/ for the moment between commit and rename.
  auto r = SealedReader::open(data_path(piece.id), data_key_, piece.id, piece.size);
  if (!r && r.error().code == Errc::kNotFound) {
    r = SealedReader::open(tmp_path(piece.id), data_key_, piece.id, piece.size);
    if (!r && r.error().code == Errc::kNotFound) {
      r = SealedReader::open(data_path(piece.id), data_key_, piece.id, piece.size);
    }
  }
  return r;
}

Result<size_t> ObjectStore::collect_garbage() {
  size_t total = 0;
  for (;;) {
    LAMBENT_TRY(ids, store_.object_garbage(500));
    if (ids.empty()) break;
    for (const auto& id : ids) {
      std::error_code ec;
      fs::remove(data_path(id), ec);
      fs::remove(tmp_path(id), ec);
    }
    LAMBENT_TRY_VOID(store_.forget_object_garbage(ids));
    total += ids.size();
    if (ids.size() < 500) break;
  }
  return total;
}

void ObjectStore::collect_garbage_soon(boost::asio::thread_pool& pool) {
  again_ = true;
  if (collecting_.exchange(true)) return;  // the running collection will go round again
  boost::asio::post(pool, [this] {
    // Rounds until no request asked for one meanwhile (one that asked between the last round
    // and the flag's reset is taken here, unless it started a collection of its own).
    do {
      while (again_.exchange(false)) {
        if (auto r = collect_garbage(); !r) {
          log::warn("objects: collecting garbage: {}", r.error().message);
        }
      }
      collecting_ = false;
    } while (again_ && !collecting_.exchange(true));
  });
}

uint64_t ObjectStore::next_sequence() { return ++sequence_; }

}  // namespace lambent::objects

// The object store's data and rules below the S3 wire: bucket names, data files written as
// streams and read by range, the commit order that makes an acknowledged object durable and an
// interrupted one invisible, and the collection of data no object uses any more.
//
// A data file is written to <dir>/tmp/<id> and fsynced; the object's row is committed; only then
// is the file renamed into <dir>/data/<aa>/<id>. A crash before the commit leaves a file in tmp/
// that no row names (deleted at the next start); after it, one that a row names (moved into
// place at the next start). Replaced and removed objects' files are listed as garbage in the
// same transaction that releases them, and deleted after it. Objects of at most kInlineMax bytes
// are sealed into their row instead (no file, one group-committed write).
//
// Thread: any; calls block (file I/O, the store) and belong on the worker pool.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"
#include "objects/checksum.h"
#include "objects/sealed_file.h"
#include "store/store.h"

namespace lambent::objects {

inline constexpr size_t kInlineMax = 16 * 1024;

// S3's bucket naming rules; the refusal's message is S3's.
Result<void> check_bucket_name(std::string_view name);

class ObjectStore;

// One object's (or part's) data as it streams in: hashed, sealed, written to tmp/.
class DataWriter final {
 public:
  ~DataWriter();  // removes the temporary file unless committed
  Result<void> write(std::string_view data);
  // The two halves of write(), which may run at the same time on two threads (each alone on
  // its own thread): the digests, and the sealed data.
  void hash(std::string_view data) { hasher_.update(data); }
  Result<void> store(std::string_view data);
  // Finishes the digests, then finish_storage() unless done.
  Result<void> finish();
  // Seals and fsyncs the data (nothing for inline data), once: may run on store()'s thread
  // while the last pieces are still hashed.
  Result<void> finish_storage();
  Hasher& hasher() { return hasher_; }
  // Still small enough to live in its row (no file made yet): write() and finish() then do no
  // I/O at all.
  bool inline_possible() const { return allow_inline_ && !file_; }
  uint64_t size() const { return size_; }
  // After finish: the data as the object's row holds it.
  bool is_inline() const { return !file_; }
  std::string sealed_inline(std::string_view bucket, std::string_view key) const;
  store::DataPiece piece() const { return {id_, size_}; }
  // The row naming this data is committed: move the file into place.
  void committed();

 private:
  friend class ObjectStore;
  DataWriter(ObjectStore& store, bool allow_inline, bool sha256, Checksum c);
  ObjectStore& store_;
  bool allow_inline_;
  Hasher hasher_;
  std::string id_;
  std::string buffered_;  // inline candidates, until they outgrow kInlineMax
  std::unique_ptr<SealedWriter> file_;
  uint64_t size_ = 0;
  bool finished_ = false;
  bool stored_ = false;
  bool committed_ = false;
};

// Reads an object's data by range, across its pieces.
class DataReader final {
 public:
  // Appends bytes [offset, offset + length) to `out`.
  Result<void> read(uint64_t offset, uint64_t length, std::string& out);
  // The same into `dst` (length bytes).
  Result<void> read_into(uint64_t offset, uint64_t length, char* dst);
  uint64_t size() const { return size_; }

 private:
  friend class ObjectStore;
  DataReader(ObjectStore& store, store::ObjectRecord record);
  ObjectStore& store_;
  store::ObjectRecord record_;
  std::string plain_inline_;
  std::vector<std::unique_ptr<SealedReader>> readers_;  // by piece, opened when first read
  uint64_t size_ = 0;
};

class ObjectStore final {
 public:
  // Opens <dir>, recovering what a crash left in tmp/ and collecting garbage.
  static Result<std::unique_ptr<ObjectStore>> open(const std::filesystem::path& dir,
                                                   store::Store& store, const Cipher& cipher);

  store::Store& store() { return store_; }

  // A writer for new data; `allow_inline` for whole objects (not parts); `sha256` to compute the
  // payload's SHA-256; `c` the checksum to compute.
  std::unique_ptr<DataWriter> writer(bool allow_inline, bool sha256, Checksum c);
  Result<std::unique_ptr<DataReader>> reader(store::ObjectRecord record);

  // Deletes the data files listed as garbage. Returns how many.
  Result<size_t> collect_garbage();
  // The same on the pool, later (off the request's path); one collection at a time.
  void collect_garbage_soon(boost::asio::thread_pool& pool);

  // A value that increases with every object event of this node (S3's `sequencer`).
  uint64_t next_sequence();

 private:
  friend class DataWriter;
  friend class DataReader;
  ObjectStore(std::filesystem::path dir, store::Store& store, const Cipher& cipher);
  Result<void> recover();
  std::filesystem::path tmp_path(std::string_view id) const;
  std::filesystem::path data_path(std::string_view id) const;
  Result<std::unique_ptr<SealedReader>> open_piece(const store::DataPiece& piece);

  std::filesystem::path dir_;
  store::Store& store_;
  const Cipher& cipher_;
  std::string data_key_;
  std::atomic<uint64_t> sequence_;
  std::atomic<bool> collecting_{false};
  std::atomic<bool> again_{false};
};

}  // namespace lambent::objects

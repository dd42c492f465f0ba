// What the object store (S3-compatible buckets) keeps in the store: buckets, objects, multipart
// uploads and their parts, and the list of data files no longer referenced (collected after the
// transaction that released them, so a crash never leaves a referenced file deleted or an
// unreferenced one forgotten). The data itself lives in files named by `DataPiece::id`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lambent::store {

struct BucketRecord {
  std::string name;
  std::string region;
  std::string owner;  // account id
  int64_t created_ms = 0;
  // Settings as JSON: {"policy": "...", "tags": {...}, "cors": [...], "notification": {...}}.
  std::string config = "{}";
};

// One data file of an object (a single PUT has one; a multipart object one per part).
struct DataPiece {
  std::string id;
  uint64_t size = 0;
};

struct ObjectRecord {
  std::string bucket;
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes: hex MD5, or hex MD5 of the parts' MD5s + "-N"
  int64_t modified_ms = 0;
  // Content headers, user metadata, checksum, tags, part sizes: JSON.
  std::string meta = "{}";
  // Small objects live in the row, sealed (no data file); otherwise `pieces`, in order.
  std::string inline_data;
  std::vector<DataPiece> pieces;
};

struct UploadRecord {
  std::string id;
  std::string bucket;
  std::string key;
  int64_t initiated_ms = 0;
  std::string meta = "{}";  // what CreateMultipartUpload fixed (headers, metadata, checksum)
};

struct PartRecord {
  std::string upload_id;
  int number = 0;
  DataPiece data;
  std::string etag;      // hex MD5, without quotes
  std::string checksum;  // base64, "" when the upload has no checksum algorithm
  int64_t modified_ms = 0;
};

}  // namespace lambent::store

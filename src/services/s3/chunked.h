// aws-chunked request bodies (SigV4 streaming uploads): the framing `<hex size>[;chunk-signature=
// <sig>]\r\n<data>\r\n … 0…\r\n[trailers]\r\n`, decoded as the body is read, with each chunk's
// signature checked against the chain that starts at the request's own signature, and the
// trailing headers (a checksum, and for signed trailers their signature) handed back at the end.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <string>

#include "base/codec.h"
#include "http/stream.h"

struct evp_md_ctx_st;

namespace lambent::s3 {

struct ChunkSigning {
  std::shared_ptr<const HmacSha256> key;
  std::string amz_date;
  std::string scope;  // date/region/service/aws4_request
  std::string seed;   // the request's signature
  bool signed_trailer = false;
};

class AwsChunkedReader final : public http::BodyReader {
 public:
  // `signing` null: unsigned chunks (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
  AwsChunkedReader(http::BodyReader& inner, std::unique_ptr<ChunkSigning> signing)
      : inner_(inner), signing_(std::move(signing)) {}

  // kInvalidArgument with `failure()` telling which S3 error: a malformed frame
  // (IncompleteBody / InvalidRequest) or a chunk whose signature does not match
  // (SignatureDoesNotMatch).
  boost::asio::awaitable<Result<size_t>> read(char* out, size_t cap) override;
  std::optional<uint64_t> content_length() const override { return std::nullopt; }
  bool done() const override { return state_ == State::kDone; }

  const std::map<std::string, std::string>& trailers() const { return trailers_; }
  const std::string& failure_code() const { return failure_code_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailers, kDone };
  boost::asio::awaitable<Result<bool>> fill();  // more raw bytes; false at the inner end
  Result<void> fail(std::string code, std::string message);
  Result<bool> parse_size_line();
  Result<void> check_chunk_signature();
  Result<bool> parse_trailers();

  http::BodyReader& inner_;
  std::unique_ptr<ChunkSigning> signing_;
  std::string raw_;  // undecoded bytes
  size_t pos_ = 0;
  State state_ = State::kSize;
  uint64_t left_ = 0;  // of the current chunk's data
  std::string chunk_signature_;
  std::string previous_signature_;
  struct CtxFree {
    void operator()(evp_md_ctx_st* c) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxFree> chunk_hash_;
  std::map<std::string, std::string> trailers_;
  std::string trailer_text_;
  std::string failure_code_;
};

}  // namespace lambent::s3

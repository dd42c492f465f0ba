#include "services/s3/chunked.h"

#include <openssl/evp.h>

#include <charconv>

#include "aws/sigv4.h"

namespace lambent::s3 {
namespace asio = boost::asio;

namespace {
constexpr size_t kMaxLine = 4096;
constexpr uint64_t kMaxChunk = 16ull << 20;

bool decode_sig(std::string_view hex, Sha256& out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    auto r = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != hex.data() + 2 * i + 2) return false;
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}
}  // namespace

void AwsChunkedReader::CtxFree::operator()(evp_md_ctx_st* c) const { EVP_MD_CTX_free(c); }

Result<void> AwsChunkedReader::fail(std::string code, std::string message) {
  failure_code_ = std::move(code);
  state_ = State::kDone;
  return make_error(Errc::kInvalidArgument, std::move(message));
}

asio::awaitable<Result<bool>> AwsChunkedReader::fill() {
  if (pos_ > 0 && pos_ == raw_.size()) {
    raw_.clear();
    pos_ = 0;
  } else if (pos_ > (1 << 20)) {
    raw_.erase(0, pos_);
    pos_ = 0;
  }
  size_t at = raw_.size();
  raw_.resize(at + 256 * 1024);
  auto n = co_await inner_.read(raw_.data() + at, 256 * 1024);
  if (!n) {
    raw_.resize(at);
    co_return n.error();
  }
  raw_.resize(at + *n);
  co_return *n > 0;
}

Result<bool> AwsChunkedReader::parse_size_line() {
  std::string_view rest(raw_.data() + pos_, raw_.size() - pos_);
  size_t eol = rest.find("\r\n");
  if (eol == std::string_view::npos) {
    if (rest.size() > kMaxLine) {
      LAMBENT_TRY_VOID(fail("InvalidRequest", "An aws-chunked chunk header is too long."));
    }
    return false;
  }
  std::string_view line = rest.substr(0, eol);
  std::string_view size_text = line.substr(0, line.find(';'));
  uint64_t size = 0;
  auto r = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
  if (size_text.empty() || r.ec != std::errc() || r.ptr != size_text.data() + size_text.size() ||
      size > kMaxChunk) {
    LAMBENT_TRY_VOID(fail("InvalidRequest", "An aws-chunked chunk size is not valid."));
  }
  chunk_signature_.clear();
  if (size_t semi = line.find(';'); semi != std::string_view::npos) {
    std::string_view ext = line.substr(semi + 1);
    constexpr std::string_view kSig = "chunk-signature=";
    if (ext.starts_with(kSig)) chunk_signature_ = std::string(ext.substr(kSig.size()));
  }
  if (signing_ && chunk_signature_.size() != 64) {
    LAMBENT_TRY_VOID(fail("IncompleteSignature", "A signed aws-chunked chunk has no signature."));
  }
  pos_ += eol + 2;
  left_ = size;
  if (signing_) {
    chunk_hash_.reset(EVP_MD_CTX_new());
    EVP_DigestInit_ex(chunk_hash_.get(), EVP_sha256(), nullptr);
  }
  if (size == 0) {
    if (signing_) LAMBENT_TRY_VOID(check_chunk_signature());
    state_ = State::kTrailers;
  } else {
    state_ = State::kData;
  }
  return true;
}

Result<void> AwsChunkedReader::check_chunk_signature() {
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(chunk_hash_.get(), digest, &n);
  std::string to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n";
  to_sign.append(signing_->amz_date).push_back('\n');
  to_sign.append(signing_->scope).push_back('\n');
  to_sign.append(previous_signature_.empty() ? signing_->seed : previous_signature_);
  to_sign.push_back('\n');
  to_sign.append(aws::sigv4::kEmptySha256).push_back('\n');
  to_sign.append(hex_encode(std::string_view(reinterpret_cast<char*>(digest), n)));
  Sha256 mac = signing_->key->mac(to_sign);
  Sha256 provided{};
  if (!decode_sig(chunk_signature_, provided) ||
      !equal_constant_time(as_bytes(mac), as_bytes(provided))) {
    return fail("SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.");
  }
  previous_signature_ = chunk_signature_;
  return {};
}

Result<bool> AwsChunkedReader::parse_trailers() {
  // Lines `name:value\r\n` until an empty line.
  for (;;) {
    std::string_view rest(raw_.data() + pos_, raw_.size() - pos_);
    size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) {
      if (rest.size() > kMaxLine)
        LAMBENT_TRY_VOID(fail("InvalidRequest", "A trailer is too long."));
      return false;
    }
    std::string_view line = rest.substr(0, eol);
    pos_ += eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      LAMBENT_TRY_VOID(fail("InvalidRequest", "A trailer is malformed."));
    }
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(line.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "x-amz-trailer-signature") {
      if (signing_ && signing_->signed_trailer) {
        std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n";
        to_sign.append(signing_->amz_date).push_back('\n');
        to_sign.append(signing_->scope).push_back('\n');
        to_sign.append(previous_signature_).push_back('\n');
        to_sign.append(hex_encode(as_bytes(sha256(trailer_text_))));
        Sha256 mac = signing_->key->mac(to_sign);
        Sha256 provided{};
        if (!decode_sig(value, provided) ||
            !equal_constant_time(as_bytes(mac), as_bytes(provided))) {
          LAMBENT_TRY_VOID(fail("SignatureDoesNotMatch",
                                "The trailer signature we calculated does not match the "
                                "signature you provided."));
        }
      }
      continue;
    }
    trailer_text_.append(name).push_back(':');
    trailer_text_.append(value).push_back('\n');
    trailers_[name] = value;
  }
  if (signing_ && signing_->signed_trailer && !trailers_.empty() && trailer_text_.empty()) {
    LAMBENT_TRY_VOID(fail("SignatureDoesNotMatch", "The trailer has no signature."));
  }
  state_ = State::kDone;
  return true;
}

asio::awaitable<Result<size_t>> AwsChunkedReader::read(char* out, size_t cap) {
  for (;;) {
    if (!failure_code_.empty()) co_return make_error(Errc::kInvalidArgument, "body refused");
    switch (state_) {
      case State::kDone:
        co_return size_t{0};
      case State::kSize: {
        auto got = parse_size_line();
        if (!got) co_return got.error();
        if (*got) continue;
        break;  // need more
      }
      case State::kData: {
        size_t avail = raw_.size() - pos_;
        if (avail > 0) {
          size_t n = static_cast<size_t>(std::min<uint64_t>({left_, avail, cap}));
          std::memcpy(out, raw_.data() + pos_, n);
          if (signing_) EVP_DigestUpdate(chunk_hash_.get(), raw_.data() + pos_, n);
          pos_ += n;
          left_ -= n;
          if (left_ == 0) state_ = State::kDataEnd;
          co_return n;
        }
        break;
      }
      case State::kDataEnd: {
        if (raw_.size() - pos_ >= 2) {
          if (raw_.compare(pos_, 2, "\r\n") != 0) {
            auto f = fail("IncompleteBody", "An aws-chunked chunk is not followed by CRLF.");
            co_return f.error();
          }
          pos_ += 2;
          if (signing_) {
            auto c = check_chunk_signature();
            if (!c) co_return c.error();
          }
          state_ = State::kSize;
          continue;
        }
        break;
      }
      case State::kTrailers: {
        auto got = parse_trailers();
        if (!got) co_return got.error();
        if (*got) continue;
        break;
      }
    }
    auto more = co_await fill();
    if (!more) co_return more.error();
    if (!*more) {
      auto f = fail("IncompleteBody",
                    "You did not provide the number of bytes specified by the "
                    "Content-Length HTTP header.");
      co_return f.error();
    }
  }
}

}  // namespace lambent::s3

// Object bodies in motion: an upload streamed in (aws-chunked decoding, the pipeline that hashes
// and seals pieces on the pool while the next is read, the checks of the declared payload hash,
// Content-MD5 and checksums), and a download streamed out (pieces read ahead on the pool).
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <memory>

#include "base/background.h"
#include "base/codec.h"
#include "base/log.h"
#include "http/stream.h"
#include "services/s3/chunked.h"
#include "services/s3/internal.h"

namespace lambent::s3 {
namespace asio = boost::asio;

namespace {

constexpr size_t kStep = kPieceBytes;

// A streamed object body: pieces of up to kStep read (and decrypted) on the pool, two at a time
// on two threads (each with a reader of its own), into three buffers used in turn, while the
// current piece is written.
class ObjectSource final : public http::BodySource {
 public:
  ObjectSource(asio::thread_pool& pool, std::shared_ptr<objects::DataReader> first,
               std::shared_ptr<objects::DataReader> second, uint64_t from, uint64_t to)
      : pool_(pool),
        state_(std::make_shared<State>(std::move(first), std::move(second))),
        pos_(from),
        end_(to) {}

  asio::awaitable<Result<std::string_view>> next() override {
    const auto io = co_await asio::this_coro::executor;
    while (pending_.size() < 2 && pos_ < end_) fetch(io);
    if (pending_.empty()) co_return std::string_view();
    Pending front = std::move(pending_.front());
    pending_.pop_front();
    auto got = co_await front.read.wait();
    if (!got) co_return got.error();
    // Keep two reads going while this piece is written (its buffer is not reused until then).
    while (pending_.size() < 2 && pos_ < end_) fetch(io);
    co_return std::string_view(state_->buffer[front.buffer].get(), *got);
  }

 private:
  struct State {
    State(std::shared_ptr<objects::DataReader> a, std::shared_ptr<objects::DataReader> b)
        : reader{std::move(a), std::move(b)} {
      for (auto& buf : buffer) buf.reset(new char[kStep]);
    }
    std::shared_ptr<objects::DataReader> reader[2];
    std::unique_ptr<char[]> buffer[3];
  };
  struct Pending {
    Background<Result<size_t>> read;
    int buffer = 0;
  };
  void fetch(const asio::any_io_executor& io) {
    uint64_t n = std::min<uint64_t>(end_ - pos_, kStep);
    int buffer = static_cast<int>(started_ % 3);
    int reader = static_cast<int>(started_ % 2);
    ++started_;
    Pending p;
    p.buffer = buffer;
    p.read.start(pool_, io, [st = state_, at = pos_, n, buffer, reader]() -> Result<size_t> {
      LAMBENT_TRY_VOID(st->reader[reader]->read_into(at, n, st->buffer[buffer].get()));
      return static_cast<size_t>(n);
    });
    pending_.push_back(std::move(p));
    pos_ += n;
  }

  asio::thread_pool& pool_;
  std::shared_ptr<State> state_;
  uint64_t pos_, end_;
  uint64_t started_ = 0;
  std::deque<Pending> pending_;
};

// An upload's pipeline: its buffers, the two strands its pieces' digests and sealed writes run
// on, and what still runs. Counted on the I/O thread (completions are posted back to it); the
// pool only reads the buffers.
struct UploadFlow : std::enable_shared_from_this<UploadFlow> {
  using Strand = asio::strand<asio::thread_pool::executor_type>;
  UploadFlow(asio::thread_pool& pool, const asio::any_io_executor& io, size_t buffers)
      : hashing(asio::make_strand(pool.get_executor())),
        storing(asio::make_strand(pool.get_executor())),
        io(io),
        wake(io),
        busy(buffers, 0),
        buffer(buffers) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  // Runs `f` on `strand` after what was given to it before; `slot`'s buffer stays in use until
  // it is done (-1: no buffer). A failure is kept as the upload's.
  template <class F>
  void run(Strand& strand, int slot, F f) {
    auto self = shared_from_this();
    ++running;
    if (slot >= 0) ++busy[static_cast<size_t>(slot)];
    asio::post(strand, [self, slot, f = std::move(f)]() mutable {
      Result<void> r = f();
      asio::post(self->io, [self, slot, r = std::move(r)]() {
        --self->running;
        if (slot >= 0) --self->busy[static_cast<size_t>(slot)];
        if (!r && !self->store_error) self->store_error = r.error();
        self->wake.cancel();
      });
    });
  }

  Strand hashing, storing;
  asio::any_io_executor io;
  asio::steady_timer wake;  // cancelled at each completion
  std::vector<int> busy;    // per buffer: work still reading it
  std::vector<std::unique_ptr<char[]>> buffer;
  int running = 0;
  std::optional<Error> store_error;
};

}  // namespace

std::shared_ptr<http::BodySource> object_source(asio::thread_pool& pool,
                                                std::shared_ptr<objects::DataReader> first,
                                                std::shared_ptr<objects::DataReader> second,
                                                uint64_t from, uint64_t to) {
  return std::make_shared<ObjectSource>(pool, std::move(first), std::move(second), from, to);
}

objects::Checksum S3Api::requested_checksum(Ctx& c) {
  using objects::Checksum;
  std::optional<Checksum> found;
  auto take = [&](Checksum k) {
    if (found && *found != k) {
      throw s3_error(400, "InvalidRequest",
                     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                     "allowed.");
    }
    found = k;
  };
  for (Checksum k : {Checksum::kCrc32, Checksum::kCrc32c, Checksum::kSha1, Checksum::kSha256}) {
    if (c.req.find_header(objects::checksum_header(k))) take(k);
  }
  std::string trailer = c.header("x-amz-trailer");
  if (!trailer.empty()) {
    bool known = false;
    for (Checksum k : {Checksum::kCrc32, Checksum::kCrc32c, Checksum::kSha1, Checksum::kSha256}) {
      if (trailer == objects::checksum_header(k)) {
        take(k);
        known = true;
      }
    }
    if (!known) {
      throw s3_error(400, "InvalidRequest",
                     "The value specified in the x-amz-trailer header is not supported");
    }
  }
  std::string alg = c.header("x-amz-sdk-checksum-algorithm");
  if (!alg.empty()) {
    auto k = objects::checksum_from_name(alg);
    if (!k) {
      throw s3_error(400, "InvalidRequest",
                     "Value for x-amz-sdk-checksum-algorithm header is invalid.");
    }
    if (!found) found = *k;
  }
  for (const auto& [k, v] : c.req.headers) {
    if (k.starts_with("x-amz-checksum-") && k != "x-amz-checksum-mode" &&
        k != "x-amz-checksum-algorithm" && k != "x-amz-checksum-type") {
      bool known = false;
      for (Checksum x : {Checksum::kCrc32, Checksum::kCrc32c, Checksum::kSha1, Checksum::kSha256}) {
        known = known || k == objects::checksum_header(x);
      }
      if (!known) {
        throw s3_error(400, "InvalidRequest",
                       "The algorithm of " + k +
                           " is not supported by this server (CRC32, "
                           "CRC32C, SHA1 and SHA256 are).");
      }
    }
  }
  return found.value_or(Checksum::kNone);
}

asio::awaitable<void> S3Api::ingest(Ctx& c, objects::DataWriter& writer, uint64_t limit) {
  http::BodyReader* body = c.req.body_stream;
  if (!body) throw s3_error(500, "InternalError", "no request body stream");
  const std::string& payload = c.payload;
  bool chunked_payload = payload.starts_with("STREAMING-");
  std::string encoding = c.header("content-encoding");
  bool aws_chunked = chunked_payload || encoding.find("aws-chunked") != std::string::npos;
  std::optional<AwsChunkedReader> decoder;
  uint64_t decoded_length = 0;
  if (aws_chunked) {
    std::string declared = c.header("x-amz-decoded-content-length");
    try {
      decoded_length = std::stoull(declared);
    } catch (...) {
      throw s3_error(411, "MissingContentLength",
                     "You must provide the Content-Length HTTP header.",
                     {{"Header", "x-amz-decoded-content-length"}});
    }
    if (decoded_length > limit) {
      throw s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                     {{"ProposedSize", declared}, {"MaxSizeAllowed", std::to_string(limit)}});
    }
    std::unique_ptr<ChunkSigning> signing;
    if (payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" ||
        payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
      if (guard_) {
        auto parsed = aws::sigv4::parse(c.req);
        if (!parsed.material || !c.signing_key) {
          throw s3_error(403, "AccessDenied", "Access Denied");
        }
        signing = std::make_unique<ChunkSigning>();
        signing->key = c.signing_key;
        signing->amz_date = std::string(parsed.material->amz_date);
        signing->scope = std::string(parsed.material->scope_view());
        signing->seed = std::string(parsed.material->signature);
        signing->signed_trailer = payload.ends_with("-TRAILER");
      }
    } else if (payload != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" && chunked_payload) {
      throw s3_error(400, "InvalidArgument",
                     "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                     "STREAMING-…, or a valid sha256 value.",
                     {{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", payload}});
    }
    decoder.emplace(*body, std::move(signing));
    body = &*decoder;
  } else {
    auto length = body->content_length();
    if (!length && !c.req.find_header("transfer-encoding")) {
      throw s3_error(411, "MissingContentLength",
                     "You must provide the Content-Length HTTP header.");
    }
    if (length && *length > limit) {
      throw s3_error(
          400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
          {{"ProposedSize", std::to_string(*length)}, {"MaxSizeAllowed", std::to_string(limit)}});
    }
  }
  // A pipeline: the I/O thread reads pieces into a few buffers while the pool hashes them on
  // one strand and seals and writes them on another, each in order and back to back (the MD5
  // of a large body, one sequential pass, sets the pace: it never waits for a write or for the
  // I/O thread), then finishes the file on the sealing strand while the last pieces are still
  // hashed. Nothing leaves this function while pool work still uses the writer.
  const auto io = co_await asio::this_coro::executor;
  std::optional<aws::ServiceError> failure;
  uint64_t total = 0;
  // Buffers sized for the body when it is small: a 1 KB PUT allocates about 1 KB. One byte
  // more than the declared length lets the last read see the end of the body. Two for a body
  // of a few pieces, more for a larger one (made as reading gets ahead).
  const uint64_t expected = decoder ? decoded_length : body->content_length().value_or(kStep);
  const size_t cap = static_cast<size_t>(std::min<uint64_t>(kStep, expected + 1));
  // Made when the first piece goes to the pool (a small body never does); until then the
  // first piece's buffer is `first`.
  std::shared_ptr<UploadFlow> flow;
  const size_t slots = expected > 4 * kStep ? 6 : 2;
  std::unique_ptr<char[]> first;
  size_t slot = 0;
  bool whole_in_hand = false;
  for (;;) {
    if (flow) {
      while (flow->busy[slot] > 0) {
        co_await flow->wake.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      if (flow->store_error) break;
    }
    auto& buffer = flow ? flow->buffer[slot] : first;
    if (!buffer) buffer.reset(new char[cap]);
    char* piece = buffer.get();
    size_t filled = 0;
    bool end = false;
    while (filled < cap) {
      auto n = co_await body->read(piece + filled, cap - filled);
      if (!n) {
        if (decoder && !decoder->failure_code().empty()) {
          const std::string& code = decoder->failure_code();
          failure = s3_error(code == "SignatureDoesNotMatch" ? 403 : 400, code, n.error().message);
        } else {
          failure = s3_error(400, "IncompleteBody",
                             "You did not provide the number of bytes specified by the "
                             "Content-Length HTTP header.");
        }
        break;
      }
      if (*n == 0) {
        end = true;
        break;
      }
      filled += *n;
    }
    total += filled;
    if (!failure && total > limit) {
      failure =
          s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                   {{"MaxSizeAllowed", std::to_string(limit)}});
    }
    if (failure) break;
    if (end && total <= objects::kInlineMax && total == filled && writer.inline_possible()) {
      // A small object, whole in hand (nothing was handed to the pool): hashed here
      // (microseconds) and kept for its row, with no trip to the pool and no file.
      if (auto w = writer.write(std::string_view(piece, filled)); !w) {
        throw_store(w.error(), c.bucket);
      }
      whole_in_hand = true;
      break;
    }
    if (filled > 0) {
      if (!flow) {
        flow = std::make_shared<UploadFlow>(deps_.pool, io, slots);
        flow->buffer[0] = std::move(first);  // slot 0; `piece` still points into it
      }
      std::string_view data(piece, filled);
      flow->run(flow->hashing, slot, [w = &writer, data]() -> Result<void> {
        w->hash(data);
        return {};
      });
      flow->run(flow->storing, slot, [w = &writer, data]() { return w->store(data); });
      slot = (slot + 1) % flow->busy.size();
    }
    if (end) break;
  }
  if (!failure && !whole_in_hand && !(flow && flow->store_error)) {
    // Sealed, fsynced and named durably right after the last piece is written (an empty part
    // gets its empty file).
    if (!flow) flow = std::make_shared<UploadFlow>(deps_.pool, io, slots);
    flow->run(flow->storing, -1, [w = &writer]() { return w->finish_storage(); });
  }
  while (flow && flow->running > 0) {
    co_await flow->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (flow && flow->store_error && !failure) {
    log::error("s3: storing an upload: {}", flow->store_error->message);
    failure = s3_error(500, "InternalError", "We encountered an internal error. Please try again.");
  }
  if (failure) throw *failure;
  // The digests (the data is already sealed and durable, or inline: no I/O).
  if (auto r = writer.finish(); !r) throw_store(r.error(), c.bucket);
  if (decoder && total != decoded_length) {
    throw s3_error(400, "IncompleteBody",
                   "You did not provide the number of bytes specified by the Content-Length HTTP "
                   "header.");
  }
  auto& h = writer.hasher();
  if (payload.size() == 64 && h.sha256_hex() != payload) {
    throw s3_error(
        400, "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        {{"ClientComputedContentSHA256", payload}, {"S3ComputedContentSHA256", h.sha256_hex()}});
  }
  if (std::string md5 = c.header("content-md5"); !md5.empty()) {
    auto raw = base64_decode(md5);
    if (!raw || raw->size() != 16) {
      throw s3_error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.",
                     {{"Content-MD5", md5}});
    }
    if (*raw != h.md5()) {
      throw s3_error(400, "BadDigest",
                     "The Content-MD5 you specified did not match what we received.",
                     {{"ExpectedDigest", md5}, {"CalculatedDigest", base64_encode(h.md5())}});
    }
  }
  if (h.checksum() != objects::Checksum::kNone) {
    std::string header(objects::checksum_header(h.checksum()));
    std::string sent = c.header(header);
    if (sent.empty() && decoder) {
      auto it = decoder->trailers().find(header);
      if (it != decoder->trailers().end()) sent = it->second;
    }
    if (!sent.empty() && sent != h.checksum_b64()) {
      throw s3_error(400, "BadDigest",
                     fmt::format("The {} you specified did not match the calculated checksum.",
                                 objects::checksum_name(h.checksum())));
    }
  }
}

}  // namespace lambent::s3

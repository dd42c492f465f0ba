// Signature Version 4: reading a request's authentication (the Authorization header or the
// presigned query form), the canonical request and string to sign as clients build them, the
// derived signing key (cached), and signing — one implementation for the server's verifier and
// for Lambent's own clients (the CLI).
//
// What is not here: who owns an access key and what it may do (iam/), and how each protocol
// names a failure (aws/auth.h).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "http/message.h"

namespace lambent::aws::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Why a request's authentication is refused, before any identity is known. Each protocol
// names these its own way (aws/auth.h).
enum class Failure {
  kMissing,       // no Authorization header and no presigned parameters
  kIncomplete,    // malformed header, missing parts, bad date, unknown algorithm
  kUnknownKey,    // no such access key (or inactive), or an unusable session token
  kExpiredToken,  // a session token past its expiry
  kMismatch,      // the signature, the scope, or the time window is wrong
};

struct AuthFailure {
  Failure kind;
  std::string message;
};

// The authentication material of a request, as sent: views into the request's own header and
// query strings (valid while the request is), so reading it allocates almost nothing.
struct Material {
  bool presigned = false;
  std::string_view credential;  // as sent: AKID/date/region/service/aws4_request
  std::string_view access_key_id;
  std::string_view scope_date, region, service, terminator;
  std::vector<std::string_view> signed_headers;  // lower-case, as listed
  std::string_view signature;
  std::string_view amz_date;  // YYYYMMDDTHHMMSSZ
  std::string date_storage;   // amz_date's text when it came from a Date header
  int64_t time = 0;           // amz_date as Unix seconds
  int64_t expires = 0;        // presigned: X-Amz-Expires (seconds)
  std::string_view session_token;

  Material() = default;
  Material(const Material&) = delete;  // amz_date may point into date_storage
  Material& operator=(const Material&) = delete;
  Material(Material&& o) noexcept { *this = std::move(o); }
  Material& operator=(Material&& o) noexcept;

  // The credential without the key id: date/region/service/terminator.
  std::string_view scope_view() const { return credential.substr(access_key_id.size() + 1); }
};

// Reads the material. A request that carries none fails with kMissing; one that is malformed
// with kIncomplete (AWS's messages).
struct Parsed {
  std::optional<Material> material;
  std::optional<AuthFailure> failure;
};
Parsed parse(const http::Request& req);

// YYYYMMDDTHHMMSSZ ↔ Unix seconds (nullopt when malformed).
std::optional<int64_t> parse_amz_date(std::string_view s);
std::string format_amz_date(int64_t unix_seconds);

// RFC 3986 encoding as SigV4 uses it: unreserved characters kept; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// The canonical URI of a request path as received (still percent-encoded). Non-S3 services:
// dot segments and empty segments removed, then encoded once more (clients sign the path
// double-encoded); S3: the path as sent.
std::string canonical_uri(std::string_view raw_path, bool s3);
// The canonical query string of a raw query (without '?'): every pair decoded and re-encoded,
// sorted; X-Amz-Signature left out.
std::string canonical_query(std::string_view raw_query);

// The canonical request of `req` for the headers `signed_headers` and the payload hash given.
std::string canonical_request(const http::Request& req,
                              const std::vector<std::string_view>& signed_headers,
                              std::string_view payload_hash, bool s3);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

// kSigning = HMAC chain over date, region, service, "aws4_request".
std::string derive_signing_key(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service);

// Derived keys by (access key, date, region, service), ready to MAC (HMAC states precomputed),
// so that verifying a request costs one short HMAC, not five. Bounded; thread-safe. An entry is
// used only with the secret it was derived from.
class KeyCache final {
 public:
  std::shared_ptr<const HmacSha256> signing_key(std::string_view access_key_id,
                                                std::string_view secret, std::string_view date,
                                                std::string_view region, std::string_view service);

 private:
  struct Entry {
    std::string date, region, service, secret;
    std::shared_ptr<const HmacSha256> key;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex mu_;
  // By access key id (looked up by view, no copy): each scope it signs for.
  std::unordered_map<std::string, std::vector<Entry>, Hash, std::equal_to<>> entries_;
};

// Checks the signature of `m` over `req` with `secret`: the time window (`skew_seconds` either
// side of `now`; presigned: until time + expires), the scope against the region and the
// service, and the signature. The payload hash comes from x-amz-content-sha256 when sent (S3),
// else is `body_sha256_hex` (the body's digest, computed by the caller).
std::optional<AuthFailure> verify(const http::Request& req, const Material& m,
                                  std::string_view secret, std::string_view body_sha256_hex,
                                  std::string_view region, std::string_view service, int64_t now,
                                  int64_t skew_seconds, bool s3, KeyCache& cache);

// Client side: the headers to add to a request (Authorization, X-Amz-Date, and
// X-Amz-Security-Token when a session token is given). `headers` are the headers the request
// will carry (host included); all are signed.
struct Credentials {
  std::string access_key_id, secret_access_key, session_token;
};
std::vector<std::pair<std::string, std::string>> sign(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
    const Credentials& creds, std::string_view region, std::string_view service, int64_t now,
    bool s3 = false);

}  // namespace lambent::aws::sigv4

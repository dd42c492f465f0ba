#include "aws/sigv4.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "base/codec.h"

namespace lambent::aws::sigv4 {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

AuthFailure incomplete(std::string message) { return {Failure::kIncomplete, std::move(message)}; }
AuthFailure bad_date(std::string_view value) {
  return incomplete(
      fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'. See "
                  "http://en.wikipedia.org/wiki/ISO_8601",
                  value));
}
AuthFailure mismatch(std::string message) { return {Failure::kMismatch, std::move(message)}; }

// "Credential=AKID/20261201/us-east-1/lambda/aws4_request" parts into `m`.
std::optional<AuthFailure> read_credential(std::string_view credential, Material& m) {
  m.credential = credential;
  std::string_view parts[5];
  size_t count = 0, at = 0;
  while (true) {
    size_t slash = credential.find('/', at);
    if (count < 5) {
      parts[count] = credential.substr(at, slash == std::string_view::npos ? slash : slash - at);
    }
    ++count;
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (count != 5 || parts[0].empty()) {
    return incomplete(
        fmt::format("Credential must have exactly 5 slash-delimited elements, e.g. "
                    "keyid/date/region/service/term, got '{}'",
                    credential));
  }
  m.access_key_id = parts[0];
  m.scope_date = parts[1];
  m.region = parts[2];
  m.service = parts[3];
  m.terminator = parts[4];
  return std::nullopt;
}

std::vector<std::string_view> split_signed_headers(std::string_view s) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t end = s.find(';', at);
    if (end == std::string_view::npos) end = s.size();
    if (end > at) out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return hex_value(c) >= 0; });
}

// RFC 1123 ("Tue, 01 Dec 2026 12:00:00 GMT"), as the Date header carries it.
std::optional<int64_t> parse_http_date(std::string_view s) {
  std::tm tm{};
  std::string copy(s);
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::optional<int64_t> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
    return v;
  };
  int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2),
      sec = num(13, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): pure
  // arithmetic, where timegm() takes the time-zone lock.
  y -= mo <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  return days * 86400 + h * 3600 + mi * 60 + sec;
}

std::string format_amz_date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Material& Material::operator=(Material&& o) noexcept {
  presigned = o.presigned;
  credential = o.credential;
  access_key_id = o.access_key_id;
  scope_date = o.scope_date;
  region = o.region;
  service = o.service;
  terminator = o.terminator;
  signed_headers = std::move(o.signed_headers);
  signature = o.signature;
  const bool own_date = !o.date_storage.empty() && o.amz_date.data() == o.date_storage.data();
  date_storage = std::move(o.date_storage);
  amz_date = own_date ? std::string_view(date_storage) : o.amz_date;
  time = o.time;
  expires = o.expires;
  session_token = o.session_token;
  return *this;
}

Parsed parse(const http::Request& req) {
  Parsed out;
  Material m;
  const std::string* auth = req.find_header("authorization");
  if (auth) {
    std::string_view h = *auth;
    size_t space = h.find(' ');
    std::string_view algorithm = h.substr(0, space);
    if (algorithm != kAlgorithm) {
      out.failure = incomplete(fmt::format("Unsupported AWS 'algorithm': '{}'", algorithm));
      return out;
    }
    std::string_view rest = space == std::string_view::npos ? "" : h.substr(space + 1);
    std::optional<std::string_view> credential, signed_headers, signature;
    size_t at = 0;
    while (at <= rest.size()) {
      size_t comma = rest.find(',', at);
      if (comma == std::string_view::npos) comma = rest.size();
      std::string_view part = trim(rest.substr(at, comma - at));
      size_t eq = part.find('=');
      if (eq != std::string_view::npos) {
        std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
        if (name == "Credential") credential = value;
        if (name == "SignedHeaders") signed_headers = value;
        if (name == "Signature") signature = value;
      }
      at = comma + 1;
    }
    for (auto [value, name] :
         {std::pair{credential, "Credential"}, std::pair{signed_headers, "SignedHeaders"},
          std::pair{signature, "Signature"}}) {
      if (!value) {
        out.failure = incomplete(
            fmt::format("Authorization header requires '{}' parameter. Authorization={}", name, h));
        return out;
      }
    }
    if (auto f = read_credential(*credential, m)) {
      out.failure = std::move(f);
      return out;
    }
    m.signed_headers = split_signed_headers(*signed_headers);
    m.signature = *signature;
    if (const std::string* d = req.find_header("x-amz-date")) {
      auto t = parse_amz_date(*d);
      if (!t) {
        out.failure = bad_date(*d);
        return out;
      }
      m.amz_date = *d;
      m.time = *t;
    } else if (const std::string* d = req.find_header("date")) {
      auto t = parse_http_date(*d);
      if (!t) {
        out.failure = bad_date(*d);
        return out;
      }
      m.date_storage = format_amz_date(*t);
      m.amz_date = m.date_storage;
      m.time = *t;
    } else {
      out.failure = incomplete(fmt::format(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
          "Authorization={}",
          h));
      return out;
    }
    if (const std::string* t = req.find_header("x-amz-security-token")) m.session_token = *t;
    out.material = std::move(m);
    return out;
  }
  // Presigned: views into the request's own decoded query parameters.
  auto param = [&req](std::string_view name) -> const std::string* {
    for (const auto& [k, v] : req.query) {
      if (k == name) return &v;
    }
    return nullptr;
  };
  const std::string* algorithm = param("X-Amz-Algorithm");
  if (!algorithm) {
    out.failure = AuthFailure{Failure::kMissing, "Missing Authentication Token"};
    return out;
  }
  m.presigned = true;
  if (*algorithm != kAlgorithm) {
    out.failure = incomplete(fmt::format("Unsupported AWS 'algorithm': '{}'", *algorithm));
    return out;
  }
  const std::string* credential = param("X-Amz-Credential");
  const std::string* date = param("X-Amz-Date");
  const std::string* signed_headers = param("X-Amz-SignedHeaders");
  const std::string* signature = param("X-Amz-Signature");
  const std::string* expires = param("X-Amz-Expires");
  if (!credential || !date || !signed_headers || !signature || !expires) {
    out.failure = incomplete(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
    return out;
  }
  if (auto f = read_credential(*credential, m)) {
    out.failure = std::move(f);
    return out;
  }
  auto t = parse_amz_date(*date);
  if (!t) {
    out.failure = bad_date(*date);
    return out;
  }
  m.amz_date = *date;
  m.time = *t;
  char* end = nullptr;
  long long e = std::strtoll(expires->c_str(), &end, 10);
  if (expires->empty() || *end != '\0') {
    out.failure = incomplete("X-Amz-Expires should be a number");
    return out;
  }
  if (e < 0 || e > 604800) {
    out.failure = incomplete(
        e < 0 ? "X-Amz-Expires must be non-negative"
              : "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                "X-Amz-Expires must be less than 604800 seconds");
    return out;
  }
  m.expires = e;
  m.signed_headers = split_signed_headers(*signed_headers);
  m.signature = *signature;
  if (const std::string* t = param("X-Amz-Security-Token")) {
    m.session_token = *t;
  } else if (const std::string* h = req.find_header("x-amz-security-token")) {
    m.session_token = *h;
  }
  out.material = std::move(m);
  return out;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

void append_canonical_uri(std::string& out, std::string_view raw_path, bool s3) {
  if (raw_path.empty()) {
    out += '/';
    return;
  }
  if (s3) {
    out += raw_path;
    return;
  }
  // The common case: no dot or empty segments and nothing to encode — the path as it is.
  bool plain = raw_path.front() == '/';
  for (size_t i = 0; plain && i < raw_path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw_path[i]);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '~' || c == '/' || c == '.';
    if (!unreserved || (c == '/' && i + 1 < raw_path.size() && raw_path[i + 1] == '/') ||
        (c == '.' && raw_path[i - 1] == '/')) {
      plain = false;
    }
  }
  if (plain) {
    out += raw_path;
    return;
  }
  // botocore's remove_dot_segments: also drops empty segments.
  std::vector<std::string_view> segments;
  size_t at = 0;
  while (at <= raw_path.size()) {
    size_t slash = raw_path.find('/', at);
    if (slash == std::string_view::npos) slash = raw_path.size();
    std::string_view seg = raw_path.substr(at, slash - at);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    at = slash + 1;
  }
  std::string path = raw_path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i) path += '/';
    path += segments[i];
  }
  if (raw_path.back() == '/' && !segments.empty()) path += '/';
  out += uri_encode(path, true);
}

}  // namespace

std::string canonical_uri(std::string_view raw_path, bool s3) {
  std::string out;
  append_canonical_uri(out, raw_path, s3);
  return out;
}

std::string canonical_query(std::string_view raw_query) {
  if (raw_query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t at = 0;
  while (at <= raw_query.size()) {
    size_t amp = raw_query.find('&', at);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view pair = raw_query.substr(at, amp - at);
    at = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq));
    if (key == "X-Amz-Signature") continue;
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    pairs.emplace_back(uri_encode(key, false), uri_encode(value, false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

namespace {

void append_canonical_request(std::string& out, const http::Request& req,
                              const std::vector<std::string_view>& signed_headers,
                              std::string_view payload_hash, bool s3) {
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  out.reserve(out.size() + 256 + target.size());
  out += req.method;
  out += '\n';
  append_canonical_uri(out, path, s3);
  out += '\n';
  if (!query.empty()) out += canonical_query(query);
  out += '\n';
  // SignedHeaders are lower-case and sorted as clients send them; only otherwise make a copy.
  auto lowered_sorted = [&] {
    for (size_t i = 0; i < signed_headers.size(); ++i) {
      for (char c : signed_headers[i]) {
        if (c >= 'A' && c <= 'Z') return false;
      }
      if (i && !(signed_headers[i - 1] < signed_headers[i])) return false;
    }
    return true;
  };
  std::vector<std::string> copy;
  std::vector<std::string_view> views;
  const std::vector<std::string_view>* list = &signed_headers;
  if (!lowered_sorted()) {
    for (auto n : signed_headers) {
      std::string lower(n);
      for (auto& c : lower) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
      copy.push_back(std::move(lower));
    }
    std::sort(copy.begin(), copy.end());
    copy.erase(std::unique(copy.begin(), copy.end()), copy.end());
    views.assign(copy.begin(), copy.end());
    list = &views;
  }
  const std::vector<std::string_view>& names = *list;
  for (const auto& name : names) {
    out += name;
    out += ':';
    bool first = true;
    for (const auto& [k, v] : req.headers) {
      if (k != name) continue;
      if (!first) out += ',';
      first = false;
      // Trimmed, inner runs of blanks folded to one space.
      std::string_view value = trim(v);
      bool blank = false;
      for (char c : value) {
        if (c == ' ' || c == '\t') {
          blank = true;
          continue;
        }
        if (blank) out += ' ';
        blank = false;
        out += c;
      }
    }
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ';';
    out += names[i];
  }
  out += '\n';
  out += payload_hash;
}

void append_string_to_sign(std::string& out, std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  out.reserve(out.size() + 128 + scope.size());
  out += kAlgorithm;
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  char hex[64];
  hex_encode_to(as_bytes(sha256(canonical_request)), hex);
  out.append(hex, sizeof hex);
}

// 64 hex digits (either case) to 32 bytes, without allocating.
bool decode_signature(std::string_view hex, Sha256& out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// A per-thread buffer, reused between requests (cleared; trimmed after an unusually large one).
std::string& scratch(std::string& s) {
  if (s.capacity() > 64 * 1024) std::string().swap(s);
  s.clear();
  return s;
}

}  // namespace

std::string canonical_request(const http::Request& req,
                              const std::vector<std::string_view>& signed_headers,
                              std::string_view payload_hash, bool s3) {
  std::string out;
  append_canonical_request(out, req, signed_headers, payload_hash, s3);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  append_string_to_sign(out, amz_date, scope, canonical_request);
  return out;
}

std::string derive_signing_key(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service) {
  std::string k = hmac_sha256("AWS4" + std::string(secret), date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, "aws4_request");
}

std::shared_ptr<const HmacSha256> KeyCache::signing_key(std::string_view access_key_id,
                                                        std::string_view secret,
                                                        std::string_view date,
                                                        std::string_view region,
                                                        std::string_view service) {
  auto same = [&](const Entry& e) {
    return e.date == date && e.region == region && e.service == service && e.secret == secret;
  };
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(access_key_id); it != entries_.end()) {
      for (const Entry& e : it->second) {
        if (same(e)) return e.key;
      }
    }
  }
  auto key = std::make_shared<const HmacSha256>(derive_signing_key(secret, date, region, service));
  std::lock_guard lock(mu_);
  if (entries_.size() >= 4096) entries_.clear();  // keys change daily; a crude bound suffices
  auto& list = entries_[std::string(access_key_id)];
  std::erase_if(list, same);
  if (list.size() >= 16) list.erase(list.begin());  // the oldest of this key's scopes
  list.push_back(Entry{std::string(date), std::string(region), std::string(service),
                       std::string(secret), key});
  return key;
}

std::optional<AuthFailure> verify(const http::Request& req, const Material& m,
                                  std::string_view secret, std::string_view body_sha256_hex,
                                  std::string_view region, std::string_view service, int64_t now,
                                  int64_t skew_seconds, bool s3, KeyCache& cache) {
  const int64_t minutes = skew_seconds / 60;
  if (m.presigned) {
    if (m.time - skew_seconds > now) {
      return mismatch(fmt::format(
          "Signature not yet current: {} is still later than {} ({} + {} min.)", m.amz_date,
          format_amz_date(now + skew_seconds), format_amz_date(now), minutes));
    }
    if (m.time + m.expires < now) {
      return mismatch(fmt::format("Signature expired: {} is now earlier than {} ({} - {} sec.)",
                                  format_amz_date(m.time + m.expires), format_amz_date(now),
                                  format_amz_date(now), m.expires));
    }
  } else if (m.time < now - skew_seconds) {
    return mismatch(fmt::format("Signature expired: {} is now earlier than {} ({} - {} min.)",
                                m.amz_date, format_amz_date(now - skew_seconds),
                                format_amz_date(now), minutes));
  } else if (m.time > now + skew_seconds) {
    return mismatch(fmt::format(
        "Signature not yet current: {} is still later than {} ({} + {} min.)", m.amz_date,
        format_amz_date(now + skew_seconds), format_amz_date(now), minutes));
  }
  if (m.scope_date != std::string_view(m.amz_date).substr(0, 8)) {
    return mismatch(fmt::format(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '{}' != '{}', from '{}'.",
        m.scope_date, std::string_view(m.amz_date).substr(0, 8), m.amz_date));
  }
  if (m.region != region) {
    return mismatch(
        fmt::format("Credential should be scoped to a valid region, not '{}'.", m.region));
  }
  if (m.service != service) {
    return mismatch(fmt::format("Credential should be scoped to correct service: '{}'.", service));
  }
  if (m.terminator != "aws4_request") {
    return mismatch(fmt::format(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
        m.terminator));
  }
  if (std::find(m.signed_headers.begin(), m.signed_headers.end(), "host") ==
      m.signed_headers.end()) {
    return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  std::string_view payload = body_sha256_hex;
  const std::string* declared = req.find_header("x-amz-content-sha256");
  if (declared) {
    if (is_hex64(*declared)) {
      if (!s3 && *declared != body_sha256_hex) {
        return mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
    } else if (*declared != kUnsignedPayload && !s3) {
      return incomplete("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, or a SHA-256 value.");
    }
    payload = *declared;
  }
  // Built in per-thread buffers: a verification allocates nothing once warm.
  thread_local std::string canonical_buffer, to_sign_buffer;
  std::string& canonical = scratch(canonical_buffer);
  append_canonical_request(canonical, req, m.signed_headers, payload, s3);
  std::string& to_sign = scratch(to_sign_buffer);
  append_string_to_sign(to_sign, m.amz_date, m.scope_view(), canonical);
  auto key = cache.signing_key(m.access_key_id, secret, m.scope_date, m.region, m.service);
  Sha256 mac = key->mac(to_sign);
  Sha256 provided{};
  if (!decode_signature(m.signature, provided) ||
      !equal_constant_time(as_bytes(mac), as_bytes(provided))) {
    return mismatch(fmt::format(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.\n\nThe Canonical String for this request should have been\n'{}'\n\nThe "
        "String-to-Sign should have been\n'{}'\n",
        canonical, to_sign));
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> sign(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
    const Credentials& creds, std::string_view region, std::string_view service, int64_t now,
    bool s3) {
  http::Request req;
  req.method = std::string(method);
  req.target = std::string(target);
  std::vector<std::pair<std::string, std::string>> added;
  std::string amz_date = format_amz_date(now);
  added.emplace_back("X-Amz-Date", amz_date);
  if (!creds.session_token.empty()) added.emplace_back("X-Amz-Security-Token", creds.session_token);
  std::vector<std::string> names;
  auto take = [&](const std::string& name, const std::string& value) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    req.headers.emplace_back(lower, value);
    names.push_back(lower);
  };
  for (const auto& [k, v] : headers) take(k, v);
  for (const auto& [k, v] : added) take(k, v);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string date = amz_date.substr(0, 8);
  std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  const std::vector<std::string_view> name_views(names.begin(), names.end());
  std::string canonical =
      canonical_request(req, name_views, hex_encode(as_bytes(sha256(body))), s3);
  std::string key = derive_signing_key(creds.secret_access_key, date, region, service);
  std::string signature = hex_encode(hmac_sha256(key, string_to_sign(amz_date, scope, canonical)));
  std::string signed_list;
  for (const auto& n : names) signed_list += (signed_list.empty() ? "" : ";") + n;
  added.emplace_back("Authorization",
                     fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                 creds.access_key_id, scope, signed_list, signature));
  return added;
}

}  // namespace lambent::aws::sigv4

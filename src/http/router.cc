#include "http/router.h"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

namespace lambent::http {

std::optional<std::string> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Request::query_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

const std::string* Request::find_header(std::string_view name) const {
  // Stored names are lower-case; `name` may be in any case (ASCII, as header names are).
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(),
                                              [&](char a, char b) { return a == lower(b); })) {
      return &v;
    }
  }
  return nullptr;
}

std::optional<std::string> Request::header(std::string_view name) const {
  const std::string* v = find_header(name);
  if (!v) return std::nullopt;
  return *v;
}

namespace detail {

bool parse_target_generic(std::string_view target, Request& req) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  for (auto seg : url->segments()) req.segments.push_back(std::string(seg));
  if (!req.segments.empty() && req.segments.back().empty()) req.segments.pop_back();
  for (auto p : url->params()) req.query.emplace_back(std::string(p.key), std::string(p.value));
  return true;
}

}  // namespace detail

namespace {

// RFC 3986 pchar without pct-encoded, plus '/': what a segment may hold verbatim.
constexpr bool plain_path_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                         // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':  // sub-delims
    case ',': case ';': case '=':
    case ':': case '@': case '/':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool parse_target(std::string_view target, Request& req) {
  bool plain = !target.empty() && target.front() == '/' &&
               std::all_of(target.begin(), target.end(),
                           [](char c) { return plain_path_char(static_cast<unsigned char>(c)); });
  if (!plain) return detail::parse_target_generic(target, req);
  // What Boost.URL yields for such a target: "/" has no segment, otherwise one per '/'.
  std::string_view rest = target.substr(1);
  if (!rest.empty()) {
    for (;;) {
      size_t slash = rest.find('/');
      req.segments.emplace_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
  }
  if (!req.segments.empty() && req.segments.back().empty()) req.segments.pop_back();
  return true;
}

void Router::set_fallback(Route route) { fallback_ = std::move(route); }

void Router::add(Route route) {
  if (route.claim) {
    claims_.push_back(std::move(route));
    return;
  }
  std::string_view p = route.pattern;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  route.parts.clear();
  while (!p.empty()) {
    auto slash = p.find('/');
    route.parts.emplace_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  // Routes with a query discriminator are tried before the plain route on the same path.
  auto pos = routes_.end();
  if (!route.query_key.empty() || !route.header_key.empty()) {
    pos = std::find_if(routes_.begin(), routes_.end(), [](const Route& r) {
      return r.query_key.empty() && r.header_key.empty();
    });
  }
  routes_.insert(pos, std::move(route));
}

Router::Match Router::match(Request& req) const {
  Match m;
  for (const Route& r : claims_) {
    if (r.claim(req)) {
      m.route = &r;
      m.path_matched = true;
      return m;
    }
  }
  for (const Route& r : routes_) {
    if (r.parts.size() != req.segments.size()) continue;
    // Literal segments first; labels are only collected for the route that matches (this runs
    // for every request, so a failed candidate costs no allocation).
    bool ok = true;
    for (size_t i = 0; i < r.parts.size() && ok; ++i) {
      const std::string& part = r.parts[i];
      if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
        ok = !req.segments[i].empty();
      } else {
        ok = part == req.segments[i];
      }
    }
    if (!ok) continue;
    if (!r.query_key.empty()) {
      auto v = req.query_param(r.query_key);
      if (!v || (!r.query_value.empty() && *v != r.query_value)) continue;
    }
    if (!r.header_key.empty()) {
      auto v = req.header(r.header_key);
      if (!v || v->compare(0, r.header_prefix.size(), r.header_prefix) != 0) continue;
    }
    m.path_matched = true;
    if (r.method != req.method) continue;
    req.labels.clear();
    for (size_t i = 0; i < r.parts.size(); ++i) {
      const std::string& part = r.parts[i];
      if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
        req.labels[part.substr(1, part.size() - 2)] = req.segments[i];
      }
    }
    m.route = &r;
    return m;
  }
  if (!m.path_matched && fallback_ && (!fallback_->claim || fallback_->claim(req))) {
    m.route = &*fallback_;
  }
  return m;
}

Response Router::error(unsigned status, const std::string& message, const Route* route) const {
  if (error_responder_) return error_responder_(status, message, route);
  Response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = message;
  return r;
}

}  // namespace lambent::http

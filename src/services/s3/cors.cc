#include "services/s3/cors.h"

#include <pugixml.hpp>

namespace lambent::s3 {
namespace {

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto eq = [&](char a, char b) {
    if (!ignore_case) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) {
    return pattern.size() == text.size() &&
           std::equal(pattern.begin(), pattern.end(), text.begin(), eq);
  }
  // S3 allows one '*' in a pattern: what comes before and after it must match the ends.
  std::string_view head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  if (text.size() < head.size() + tail.size()) return false;
  return std::equal(head.begin(), head.end(), text.begin(), eq) &&
         std::equal(tail.begin(), tail.end(), text.end() - static_cast<long>(tail.size()), eq);
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::vector<CorsRule> parse_cors(const std::string& xml) {
  std::vector<CorsRule> rules;
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return rules;
  for (auto r : doc.child("CORSConfiguration").children("CORSRule")) {
    CorsRule rule;
    for (auto x : r.children("AllowedOrigin")) rule.origins.emplace_back(x.text().as_string());
    for (auto x : r.children("AllowedMethod")) rule.methods.emplace_back(x.text().as_string());
    for (auto x : r.children("AllowedHeader")) rule.headers.emplace_back(x.text().as_string());
    for (auto x : r.children("ExposeHeader")) rule.expose.emplace_back(x.text().as_string());
    if (auto m = r.child("MaxAgeSeconds")) rule.max_age = m.text().as_int(-1);
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::optional<std::vector<std::pair<std::string, std::string>>> cors_headers(
    const std::vector<CorsRule>& rules, std::string_view origin, std::string_view method,
    std::string_view request_headers, bool preflight) {
  std::vector<std::string> asked = split_list(request_headers);
  for (const auto& rule : rules) {
    const std::string* matched_origin = nullptr;
    for (const auto& o : rule.origins) {
      if (wildcard_match(o, origin, false)) {
        matched_origin = &o;
        break;
      }
    }
    if (!matched_origin) continue;
    bool method_ok = false;
    for (const auto& m : rule.methods) method_ok = method_ok || m == method;
    if (!method_ok) continue;
    bool headers_ok = true;
    for (const auto& h : asked) {
      bool one = false;
      for (const auto& allowed : rule.headers) one = one || wildcard_match(allowed, h, true);
      headers_ok = headers_ok && one;
    }
    if (!headers_ok) continue;
    std::vector<std::pair<std::string, std::string>> out;
    // A rule for any origin answers "*" (credentials are not allowed then, as on S3).
    out.emplace_back("Access-Control-Allow-Origin",
                     *matched_origin == "*" ? "*" : std::string(origin));
    out.emplace_back("Access-Control-Allow-Methods", join(rule.methods));
    if (preflight && !asked.empty()) out.emplace_back("Access-Control-Allow-Headers", join(asked));
    if (!rule.expose.empty()) out.emplace_back("Access-Control-Expose-Headers", join(rule.expose));
    if (rule.max_age >= 0) out.emplace_back("Access-Control-Max-Age", std::to_string(rule.max_age));
    if (*matched_origin != "*") out.emplace_back("Access-Control-Allow-Credentials", "true");
    out.emplace_back("Vary",
                     "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    return out;
  }
  return std::nullopt;
}

}  // namespace lambent::s3

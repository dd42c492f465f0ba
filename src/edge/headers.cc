#include "edge/headers.h"

#include <algorithm>
#include <cctype>

namespace lambent::edge {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool hop_by_hop(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "transfer-encoding" || lower_name == "te" || lower_name == "trailer" ||
         lower_name == "upgrade" || lower_name == "proxy-authorization" ||
         lower_name == "proxy-authenticate" || lower_name == "proxy-connection" ||
         lower_name == "content-length";
}

// The items of a list (a query string split on '&', a Cookie header on ';') whose name (before
// '=') is in `names`, in order, joined again with `joiner`.
std::string filter_items(std::string_view list, char separator, std::string_view joiner,
                         const std::vector<std::string>& names) {
  std::string out;
  size_t at = 0;
  while (at < list.size()) {
    size_t end = list.find(separator, at);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(at, end - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view name = item.substr(0, item.find('='));
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      if (!out.empty()) out.append(joiner);
      out.append(item);
    }
    at = end + 1;
  }
  return out;
}

std::string filter_query(std::string_view qs, const std::vector<std::string>& names) {
  return filter_items(qs, '&', "&", names);
}

std::string filter_cookies(std::string_view cookies, const std::vector<std::string>& names) {
  return filter_items(cookies, ';', "; ", names);
}

std::string all_values(const Headers& h, std::string_view name) {
  std::string out;
  for (const auto& [k, v] : h) {
    if (iequals(k, name)) {
      if (!out.empty()) out += ", ";
      out += v;
    }
  }
  return out;
}

}  // namespace lambent::edge

#include "store/stored_json.h"

#include <boost/json.hpp>

namespace lambent::store {
namespace json = boost::json;

std::string map_to_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return json::serialize(o);
}

Result<std::map<std::string, std::string>> map_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(Errc::kCorrupt, "stored map is not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [k, val] : v.as_object()) {
    if (!val.is_string()) return make_error(Errc::kCorrupt, "stored map value is not a string");
    out[std::string(k)] = std::string(val.as_string());
  }
  return out;
}

std::string strings_json(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return json::serialize(a);
}

Result<std::vector<std::string>> strings_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return make_error(Errc::kCorrupt, "stored list is not a JSON array");
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) return make_error(Errc::kCorrupt, "stored list item is not a string");
    out.emplace_back(item.as_string());
  }
  return out;
}

}  // namespace lambent::store

// How the SQLite store keeps small maps and lists in TEXT columns: as JSON. Shared by the
// store's files; not part of its interface.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace lambent::store {

std::string map_to_json(const std::map<std::string, std::string>& m);
// kCorrupt unless an object of strings.
Result<std::map<std::string, std::string>> map_from_json(std::string_view text);
std::string strings_json(const std::vector<std::string>& v);
// kCorrupt unless an array of strings.
Result<std::vector<std::string>> strings_from_json(std::string_view text);

}  // namespace lambent::store

// Small helpers over header lists and the lists inside headers, shared by the edge's files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edge/lambda_edge.h"

namespace lambent::edge {

std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// Header lookup (case-insensitive), first value; null when absent.
const std::string* find_header(const Headers& headers, std::string_view name);
// Connection-level headers (and Content-Length) that a proxy does not pass on.
bool hop_by_hop(std::string_view lower_name);
// The items of a list (a query string split on '&', a Cookie header on ';') whose name (before
// '=') is in `names`, in order, joined again with `joiner`.
std::string filter_items(std::string_view list, char separator, std::string_view joiner,
                         const std::vector<std::string>& names);
std::string filter_query(std::string_view qs, const std::vector<std::string>& names);
std::string filter_cookies(std::string_view cookies, const std::vector<std::string>& names);
// Every value of a header (lower-case name), joined with ", ".
std::string all_values(const Headers& h, std::string_view name);

}  // namespace lambent::edge

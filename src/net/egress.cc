#include "net/egress.h"

namespace lambent::net {

std::optional<EgressMode> parse_egress_mode(std::string_view text) {
  if (text == "none") return EgressMode::kNone;
  if (text == "platform") return EgressMode::kPlatform;
  if (text == "internet") return EgressMode::kInternet;
  return std::nullopt;
}

const char* egress_mode_name(EgressMode mode) {
  switch (mode) {
    case EgressMode::kNone:
      return "none";
    case EgressMode::kPlatform:
      return "platform";
    case EgressMode::kInternet:
      return "internet";
  }
  return "platform";
}

std::optional<std::vector<Cidr>> parse_cidr_list(std::string_view text, std::string* bad) {
  std::vector<Cidr> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',') {
      ++i;
      continue;
    }
    size_t end = text.find_first_of(" ,", i);
    if (end == std::string_view::npos) end = text.size();
    auto item = text.substr(i, end - i);
    auto c = Cidr::parse(item);
    if (!c) {
      if (bad) *bad = std::string(item);
      return std::nullopt;
    }
    out.push_back(*c);
    i = end;
  }
  return out;
}

}  // namespace lambent::net

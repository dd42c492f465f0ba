#include "events/transform.h"

#include <boost/json.hpp>
#include <regex>
#include <vector>

namespace lambent::events {
namespace json = boost::json;

namespace {

struct Step {
  std::string name;
  int index = -1;  // an array index, else a member name
};

std::optional<std::vector<Step>> parse_path(std::string_view p) {
  if (p.empty() || p[0] != '$') return std::nullopt;
  std::vector<Step> steps;
  size_t i = 1;
  while (i < p.size()) {
    if (p[i] == '.') {
      size_t j = i + 1;
      while (j < p.size() && p[j] != '.' && p[j] != '[') ++j;
      if (j == i + 1) return std::nullopt;
      steps.push_back({std::string(p.substr(i + 1, j - i - 1)), -1});
      i = j;
    } else if (p[i] == '[') {
      size_t close = p.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view inside = p.substr(i + 1, close - i - 1);
      if (inside.size() >= 2 && (inside.front() == '\'' || inside.front() == '"') &&
          inside.back() == inside.front()) {
        steps.push_back({std::string(inside.substr(1, inside.size() - 2)), -1});
      } else {
        if (inside.empty()) return std::nullopt;
        int n = 0;
        for (char c : inside) {
          if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
          n = n * 10 + (c - '0');
          if (n > 1'000'000) return std::nullopt;
        }
        steps.push_back({"", n});
      }
      i = close + 1;
    } else {
      return std::nullopt;
    }
  }
  return steps;
}

std::string as_text(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

}  // namespace

Result<void> check_path(std::string_view path) {
  if (path.size() > 256 || !parse_path(path)) {
    return make_error(Errc::kInvalidArgument, "Invalid InputPath: " + std::string(path));
  }
  return {};
}

std::optional<json::value> at_path(const json::value& v, std::string_view path) {
  auto steps = parse_path(path);
  if (!steps) return std::nullopt;
  const json::value* cur = &v;
  for (const auto& s : *steps) {
    if (s.index >= 0) {
      if (!cur->is_array() || static_cast<size_t>(s.index) >= cur->as_array().size()) {
        return std::nullopt;
      }
      cur = &cur->as_array()[static_cast<size_t>(s.index)];
    } else {
      if (!cur->is_object()) return std::nullopt;
      cur = cur->as_object().if_contains(s.name);
      if (!cur) return std::nullopt;
    }
  }
  return *cur;
}

Result<void> check_transformer(const Transformer& t) {
  static const std::regex kName("[A-Za-z0-9_-]+");
  if (t.paths.size() > 100) {
    return make_error(Errc::kInvalidArgument, "InputPathsMap has more than 100 entries.");
  }
  for (const auto& [name, path] : t.paths) {
    if (!std::regex_match(name, kName) || name.starts_with("aws.")) {
      return make_error(Errc::kInvalidArgument, "Invalid InputPathsMap key: " + name);
    }
    LAMBENT_TRY_VOID(check_path(path));
  }
  if (t.input_template.empty() || t.input_template.size() > 8192) {
    return make_error(Errc::kInvalidArgument, "InputTemplate must be 1 to 8192 characters.");
  }
  // Every <name> must be defined.
  static const std::regex kVar("<([A-Za-z0-9_.-]+)>");
  for (std::sregex_iterator it(t.input_template.begin(), t.input_template.end(), kVar), end;
       it != end; ++it) {
    std::string name = (*it)[1];
    if (!name.starts_with("aws.events.") && !t.paths.count(name)) {
      return make_error(Errc::kInvalidArgument,
                        "InputTemplate for target contains invalid placeholder " + name + ".");
    }
  }
  return {};
}

std::string apply_transformer(const Transformer& t, const json::value& event,
                              const std::string& rule_arn, const std::string& rule_name,
                              const std::string& ingestion_time) {
  std::map<std::string, std::optional<json::value>> values;
  for (const auto& [name, path] : t.paths) values[name] = at_path(event, path);
  values["aws.events.rule-arn"] = json::value(json::string(rule_arn));
  values["aws.events.rule-name"] = json::value(json::string(rule_name));
  values["aws.events.event.ingestion-time"] = json::value(json::string(ingestion_time));
  values["aws.events.event"] = event;
  values["aws.events.event.json"] = event;
  std::string out;
  const std::string& tpl = t.input_template;
  bool in_string = false;
  for (size_t i = 0; i < tpl.size(); ++i) {
    char c = tpl[i];
    if (c == '"' && (i == 0 || tpl[i - 1] != '\\')) in_string = !in_string;
    if (c == '<') {
      size_t close = tpl.find('>', i);
      if (close != std::string::npos) {
        std::string name = tpl.substr(i + 1, close - i - 1);
        auto it = values.find(name);
        if (it != values.end()) {
          const auto& v = it->second;
          if (in_string) {
            // Inside a string: the text, escaped for the string it lands in.
            std::string text = v ? as_text(*v) : "";
            std::string quoted = json::serialize(json::string(text));
            out += quoted.substr(1, quoted.size() - 2);
          } else {
            out += v ? json::serialize(*v) : "null";
          }
          i = close;
          continue;
        }
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace lambent::events

#include "events/pattern.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>
#include <set>

#include "base/ip_range.h"

namespace lambent::events {
namespace json = boost::json;

namespace {

struct Matcher {
  enum Kind {
    kString,
    kNumber,
    kBool,
    kNull,
    kPrefix,
    kSuffix,
    kEqualsIgnoreCase,
    kPrefixIgnoreCase,
    kSuffixIgnoreCase,
    kWildcard,
    kAnythingBut,
    kNumeric,
    kExists,
    kCidr,
  } kind = kString;
  std::string text;
  double number = 0;
  bool flag = false;
  std::vector<Matcher> excluded;                       // anything-but
  std::vector<std::pair<std::string, double>> bounds;  // numeric
  IpRange range;
};

struct Leaf {
  std::vector<std::string> path;
  std::vector<Matcher> matchers;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `*` matches any run of characters; `\*` a star.
bool wildcard_match(std::string_view pattern, std::string_view value) {
  size_t p = 0, v = 0, star = std::string_view::npos, mark = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '\\' && p + 1 < pattern.size() &&
        pattern[p + 1] == '*' && value[v] == '*') {
      p += 2;
      ++v;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = v;
    } else if (p < pattern.size() && pattern[p] != '\\' && pattern[p] == value[v]) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

class Compiler {
 public:
  explicit Compiler(Dialect d) : dialect_(d) {}

  Result<void> object(const json::object& o, std::vector<std::string>& path, Pattern::Node& out,
                      int depth);
  size_t keys() const { return keys_.size(); }
  size_t combinations = 1;

 private:
  Result<Matcher> matcher(const json::value& v);
  Result<Matcher> string_operand(const char* op, const json::value& v, Matcher::Kind plain,
                                 Matcher::Kind ignore_case);
  static Error bad(std::string why) { return Error{Errc::kInvalidArgument, std::move(why)}; }

  Dialect dialect_;
  std::set<std::vector<std::string>> keys_;
};

}  // namespace

struct Pattern::Node {
  std::vector<Leaf> leaves;
  std::vector<std::vector<Node>> ors;  // each: at least one branch must match
};

namespace {

Result<Matcher> Compiler::string_operand(const char* op, const json::value& v, Matcher::Kind plain,
                                         Matcher::Kind ignore_case) {
  Matcher m;
  if (v.is_string()) {
    m.kind = plain;
    m.text = std::string(v.as_string());
    return m;
  }
  if (v.is_object() && v.as_object().size() == 1) {
    const auto* eic = v.as_object().if_contains("equals-ignore-case");
    if (eic && eic->is_string()) {
      m.kind = ignore_case;
      m.text = lower(eic->as_string());
      return m;
    }
  }
  return bad(fmt::format("Value of {} must be a string or a valid JSON object", op));
}

Result<Matcher> Compiler::matcher(const json::value& v) {
  Matcher m;
  switch (v.kind()) {
    case json::kind::string:
      m.kind = Matcher::kString;
      m.text = std::string(v.as_string());
      return m;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      m.kind = Matcher::kNumber;
      m.number = v.to_number<double>();
      return m;
    case json::kind::bool_:
      if (dialect_ == Dialect::kSnsAttributes) {
        return bad("Match value must be String, number, true, false, or null");
      }
      m.kind = Matcher::kBool;
      m.flag = v.as_bool();
      return m;
    case json::kind::null:
      m.kind = Matcher::kNull;
      return m;
    case json::kind::array:
      return bad("Match value must be String, number, true, false, or null");
    case json::kind::object:
      break;
  }
  const json::object& o = v.as_object();
  if (o.size() != 1) return bad("Only one key allowed in match expression");
  const auto& [key, operand] = *o.begin();
  if (key == "prefix") {
    return string_operand("prefix", operand, Matcher::kPrefix, Matcher::kPrefixIgnoreCase);
  }
  if (key == "suffix") {
    return string_operand("suffix", operand, Matcher::kSuffix, Matcher::kSuffixIgnoreCase);
  }
  if (key == "equals-ignore-case") {
    if (!operand.is_string()) return bad("equals-ignore-case match pattern must be a string");
    m.kind = Matcher::kEqualsIgnoreCase;
    m.text = lower(operand.as_string());
    return m;
  }
  if (key == "wildcard" && dialect_ == Dialect::kEventBridge) {
    if (!operand.is_string()) return bad("wildcard match pattern must be a string");
    if (operand.as_string().find("**") != json::string::npos) {
      return bad("Consecutive wildcard characters at pos " +
                 std::to_string(operand.as_string().find("**") + 1));
    }
    m.kind = Matcher::kWildcard;
    m.text = std::string(operand.as_string());
    return m;
  }
  if (key == "exists") {
    if (!operand.is_bool()) return bad("exists match pattern must be either true or false.");
    m.kind = Matcher::kExists;
    m.flag = operand.as_bool();
    return m;
  }
  if (key == "cidr") {
    auto r = operand.is_string() ? IpRange::parse(operand.as_string()) : std::nullopt;
    if (!r) return bad("Malformed CIDR, one '/' required");
    m.kind = Matcher::kCidr;
    m.range = *r;
    return m;
  }
  if (key == "numeric") {
    if (!operand.is_array() || operand.as_array().empty() || operand.as_array().size() % 2 ||
        operand.as_array().size() > 4) {
      return bad("Value of numeric must be an array.");
    }
    const auto& a = operand.as_array();
    static const std::set<std::string, std::less<>> kOps{"=", "<", "<=", ">", ">="};
    for (size_t i = 0; i < a.size(); i += 2) {
      if (!a[i].is_string() || !kOps.count(std::string_view(a[i].as_string()))) {
        return bad("Unrecognized numeric range operator: " + json::serialize(a[i]));
      }
      if (!a[i + 1].is_number()) return bad("Value of numeric operators must be numbers");
      double n = a[i + 1].to_number<double>();
      if (std::fabs(n) > 5e9) return bad("Value of numeric operators must be numbers in range");
      m.bounds.emplace_back(std::string(a[i].as_string()), n);
    }
    if (m.bounds.size() == 2) {
      auto& [op1, n1] = m.bounds[0];
      auto& [op2, n2] = m.bounds[1];
      bool lower1 = op1[0] == '>', upper2 = op2[0] == '<';
      if (op1 == "=" || op2 == "=" || !lower1 || !upper2) {
        return bad("Bad numeric range operator");
      }
      if (n1 >= n2) return bad("Bottom must be less than top");
    }
    m.kind = Matcher::kNumeric;
    return m;
  }
  if (key == "anything-but") {
    m.kind = Matcher::kAnythingBut;
    if (operand.is_array()) {
      if (operand.as_array().empty()) return bad("Empty arrays are not allowed");
      for (const auto& x : operand.as_array()) {
        if (!x.is_string() && !x.is_number()) {
          return bad("Inside anything but list, start|null|boolean is not supported.");
        }
        LAMBENT_TRY(inner, matcher(x));
        m.excluded.push_back(std::move(inner));
      }
      return m;
    }
    if (operand.is_string() || operand.is_number()) {
      LAMBENT_TRY(inner, matcher(operand));
      m.excluded.push_back(std::move(inner));
      return m;
    }
    if (operand.is_object() && operand.as_object().size() == 1) {
      const auto& [k, x] = *operand.as_object().begin();
      if ((k == "prefix" || k == "suffix") && x.is_string()) {
        LAMBENT_TRY(inner, matcher(json::object{{k, x}}));
        m.excluded.push_back(std::move(inner));
        return m;
      }
      if (k == "equals-ignore-case" || (k == "wildcard" && dialect_ == Dialect::kEventBridge)) {
        json::array items = x.is_array() ? x.as_array() : json::array{x};
        if (items.empty()) return bad("Empty arrays are not allowed");
        for (const auto& item : items) {
          if (!item.is_string())
            return bad("Inside anything-but/" + std::string(k) +
                       " list, number|start|null|boolean is not supported.");
          LAMBENT_TRY(inner, matcher(json::object{{k, item}}));
          m.excluded.push_back(std::move(inner));
        }
        return m;
      }
    }
    return bad("Value of anything-but must be an array or single string/number value.");
  }
  return bad("Unrecognized match type " + std::string(key));
}

Result<void> Compiler::object(const json::object& o, std::vector<std::string>& path,
                              Pattern::Node& out, int depth) {
  if (o.empty() && depth > 0) return bad("Empty objects are not allowed");
  for (const auto& [k, v] : o) {
    std::string key(k);
    if (key == "$or") {
      if (!v.is_array() || v.as_array().size() < 2) {
        return bad("Value of $or must be an array of at least 2 objects");
      }
      std::vector<Pattern::Node> branches;
      size_t before = combinations, sum = 0;
      for (const auto& b : v.as_array()) {
        if (!b.is_object()) return bad("Value of $or must be an array of objects");
        combinations = 1;
        Pattern::Node branch;
        LAMBENT_TRY_VOID(object(b.as_object(), path, branch, depth + 1));
        sum += combinations;
        branches.push_back(std::move(branch));
      }
      combinations = before * sum;
      out.ors.push_back(std::move(branches));
      continue;
    }
    path.push_back(key);
    if (v.is_object()) {
      if (dialect_ == Dialect::kSnsAttributes) {
        return bad("Filter policy scope MessageAttributes does not support nested filter policy");
      }
      LAMBENT_TRY_VOID(object(v.as_object(), path, out, depth + 1));
    } else if (v.is_array()) {
      if (v.as_array().empty()) return bad("Empty arrays are not allowed");
      Leaf leaf;
      leaf.path = path;
      for (const auto& item : v.as_array()) {
        LAMBENT_TRY(m, matcher(item));
        leaf.matchers.push_back(std::move(m));
      }
      combinations *= leaf.matchers.size();
      keys_.insert(path);
      out.leaves.push_back(std::move(leaf));
    } else {
      return bad("\"" + key + "\" must be an object or an array");
    }
    path.pop_back();
  }
  return {};
}

// The values at `path` below `v`: arrays are looked through at every level.
void collect(const json::value& v, const std::vector<std::string>& path, size_t i,
             std::vector<const json::value*>& out) {
  if (v.is_array()) {
    for (const auto& x : v.as_array()) collect(x, path, i, out);
    return;
  }
  if (i == path.size()) {
    out.push_back(&v);
    return;
  }
  if (!v.is_object()) return;
  if (const auto* child = v.as_object().if_contains(path[i])) collect(*child, path, i + 1, out);
}

bool match_one(const Matcher& m, const json::value& v) {
  switch (m.kind) {
    case Matcher::kString:
      return v.is_string() && v.as_string() == m.text;
    case Matcher::kNumber:
      return v.is_number() && v.to_number<double>() == m.number;
    case Matcher::kBool:
      return v.is_bool() && v.as_bool() == m.flag;
    case Matcher::kNull:
      return v.is_null();
    case Matcher::kPrefix:
      return v.is_string() && std::string_view(v.as_string()).starts_with(m.text);
    case Matcher::kSuffix:
      return v.is_string() && std::string_view(v.as_string()).ends_with(m.text);
    case Matcher::kPrefixIgnoreCase:
      return v.is_string() && lower(v.as_string()).starts_with(m.text);
    case Matcher::kSuffixIgnoreCase:
      return v.is_string() && lower(v.as_string()).ends_with(m.text);
    case Matcher::kEqualsIgnoreCase:
      return v.is_string() && lower(v.as_string()) == m.text;
    case Matcher::kWildcard:
      return v.is_string() && wildcard_match(m.text, v.as_string());
    case Matcher::kAnythingBut:
      // Anything but the excluded values — of a value that is there: strings and numbers only
      // (prefix, suffix, wildcard and equals-ignore-case exclusions: strings only).
      if (!v.is_string() && !v.is_number()) return false;
      for (const auto& x : m.excluded) {
        bool textual = x.kind != Matcher::kString && x.kind != Matcher::kNumber;
        if ((textual && !v.is_string()) || match_one(x, v)) return false;
      }
      return true;
    case Matcher::kNumeric: {
      if (!v.is_number()) return false;
      double n = v.to_number<double>();
      for (const auto& [op, bound] : m.bounds) {
        bool ok = op == "="    ? n == bound
                  : op == "<"  ? n < bound
                  : op == "<=" ? n <= bound
                  : op == ">"  ? n > bound
                               : n >= bound;
        if (!ok) return false;
      }
      return true;
    }
    case Matcher::kCidr: {
      if (!v.is_string() || v.as_string().find('/') != json::string::npos) return false;
      auto ip = IpRange::parse(v.as_string());
      return ip && m.range.contains(*ip);
    }
    case Matcher::kExists:
      return false;  // decided per field
  }
  return false;
}

bool leaf_matches(const Leaf& leaf, const json::value& event) {
  std::vector<const json::value*> found;
  collect(event, leaf.path, 0, found);
  std::erase_if(found, [](const json::value* v) { return v->is_object(); });
  for (const auto& m : leaf.matchers) {
    if (m.kind == Matcher::kExists) {
      if (m.flag == !found.empty()) return true;
      continue;
    }
    for (const auto* v : found) {
      if (match_one(m, *v)) return true;
    }
  }
  return false;
}

bool node_matches(const Pattern::Node& n, const json::value& event) {
  for (const auto& leaf : n.leaves) {
    if (!leaf_matches(leaf, event)) return false;
  }
  for (const auto& branches : n.ors) {
    bool any = false;
    for (const auto& b : branches) {
      if (node_matches(b, event)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

Result<Pattern> Pattern::compile(std::string_view text, Dialect dialect) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return make_error(Errc::kInvalidArgument, "Filter is not valid JSON: " + ec.message());
  if (!v.is_object()) return make_error(Errc::kInvalidArgument, "Filter is not an object");
  Compiler c(dialect);
  auto node = std::make_shared<Node>();
  std::vector<std::string> path;
  LAMBENT_TRY_VOID(c.object(v.as_object(), path, *node, 0));
  if (dialect != Dialect::kEventBridge) {
    if (c.keys() > 5) {
      return make_error(Errc::kInvalidArgument, "Filter policy can not have more than 5 keys");
    }
    if (c.combinations > 150) {
      return make_error(Errc::kInvalidArgument, "Filter policy is too complex");
    }
  }
  Pattern p;
  p.root_ = std::move(node);
  return p;
}

bool Pattern::matches(const json::value& event) const { return node_matches(*root_, event); }

bool Pattern::matches_attributes(const std::map<std::string, Attribute>& attributes) const {
  json::object flat;
  for (const auto& [name, a] : attributes) {
    if (a.type.starts_with("String.Array")) {
      boost::system::error_code ec;
      json::value arr = json::parse(a.value, ec);
      if (!ec && arr.is_array()) flat[name] = std::move(arr);
    } else if (a.type.starts_with("Number")) {
      char* end = nullptr;
      double n = std::strtod(a.value.c_str(), &end);
      if (end && *end == '\0' && !a.value.empty()) flat[name] = n;
    } else if (a.type.starts_with("String")) {
      flat[name] = a.value;
    }
  }
  return node_matches(*root_, flat);
}

}  // namespace lambent::events

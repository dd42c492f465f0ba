#include "telemetry/filter_pattern.h"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <vector>

namespace lambent::telemetry {
namespace json = boost::json;

struct FilterPattern::Node {
  enum Kind { kTerms, kAnd, kOr, kCompare, kIsNull, kIsTrue, kIsFalse, kNotExists } kind = kTerms;
  // kTerms
  std::vector<std::string> all, any, none;
  // kAnd / kOr
  std::shared_ptr<const Node> left, right;
  // comparisons
  std::vector<std::string> path;  // keys, or "[n]" for an index
  std::string op;
  bool value_is_number = false;
  double number = 0;
  std::string text;
};

namespace {
using Node = FilterPattern::Node;
using NodePtr = std::shared_ptr<const Node>;

Error invalid(const std::string& why) {
  return make_error(Errc::kInvalidArgument, "Invalid filter pattern: " + why);
}

// Glob match where '*' is any run of characters.
bool glob(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pat.size() && pat[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

class JsonParser {
 public:
  static constexpr int kMaxDepth = 32;
  explicit JsonParser(std::string_view s) : s_(s) {}

  Result<NodePtr> parse() {
    skip();
    if (!eat('{')) return invalid("a JSON pattern starts with {");
    auto n = parse_or();
    if (!n) return n.error();
    skip();
    if (!eat('}')) return invalid("expected } at position " + std::to_string(pos_));
    skip();
    if (pos_ != s_.size()) return invalid("unexpected text after }");
    return n;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool eat(std::string_view word) {
    skip();
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  bool eat_keyword(std::string_view word) {
    skip();
    if (s_.size() - pos_ < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(s_[pos_ + i])) != word[i]) return false;
    }
    size_t end = pos_ + word.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }

  Result<NodePtr> parse_or() {
    auto left = parse_and();
    if (!left) return left;
    while (eat("||")) {
      auto right = parse_and();
      if (!right) return right;
      auto n = std::make_shared<Node>();
      n->kind = Node::kOr;
      n->left = *left;
      n->right = *right;
      left = NodePtr(n);
    }
    return left;
  }

  Result<NodePtr> parse_and() {
    auto left = parse_unary();
    if (!left) return left;
    while (eat("&&")) {
      auto right = parse_unary();
      if (!right) return right;
      auto n = std::make_shared<Node>();
      n->kind = Node::kAnd;
      n->left = *left;
      n->right = *right;
      left = NodePtr(n);
    }
    return left;
  }

  Result<NodePtr> parse_unary() {
    if (eat('(')) {
      // Parentheses recurse: bounded, so that no pattern can exhaust a thread's stack (found
      // by fuzzing: a pattern of "(((…" overflowed it).
      if (++depth_ > kMaxDepth) {
        return invalid("parentheses nested deeper than " + std::to_string(kMaxDepth));
      }
      auto n = parse_or();
      --depth_;
      if (!n) return n;
      if (!eat(')')) return invalid("expected ) at position " + std::to_string(pos_));
      return n;
    }
    return parse_comparison();
  }

  Result<NodePtr> parse_comparison() {
    skip();
    if (!eat('$')) return invalid("expected a selector ($.field) at position " + std::to_string(pos_));
    auto n = std::make_shared<Node>();
    n->kind = Node::kCompare;
    for (;;) {
      if (pos_ < s_.size() && s_[pos_] == '.') {
        ++pos_;
        size_t start = pos_;
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                    s_[pos_] == '_' || s_[pos_] == '-' || s_[pos_] == '@')) {
          ++pos_;
        }
        if (pos_ == start) return invalid("empty field name in selector");
        n->path.emplace_back(s_.substr(start, pos_ - start));
      } else if (pos_ < s_.size() && s_[pos_] == '[') {
        size_t close = s_.find(']', pos_);
        if (close == std::string_view::npos) return invalid("unclosed [ in selector");
        n->path.push_back("[" + std::string(s_.substr(pos_ + 1, close - pos_ - 1)) + "]");
        pos_ = close + 1;
      } else {
        break;
      }
    }
    if (n->path.empty()) return invalid("a selector names a field: $.field");
    if (eat_keyword("IS")) {
      if (eat_keyword("NULL")) {
        n->kind = Node::kIsNull;
      } else if (eat_keyword("TRUE")) {
        n->kind = Node::kIsTrue;
      } else if (eat_keyword("FALSE")) {
        n->kind = Node::kIsFalse;
      } else {
        return invalid("IS takes NULL, TRUE or FALSE");
      }
      return NodePtr(n);
    }
    if (eat_keyword("NOT")) {
      if (!eat_keyword("EXISTS")) return invalid("NOT takes EXISTS");
      n->kind = Node::kNotExists;
      return NodePtr(n);
    }
    for (std::string_view op : {"!=", "<=", ">=", "=", "<", ">"}) {
      if (eat(op)) {
        n->op = std::string(op);
        break;
      }
    }
    if (n->op.empty()) return invalid("expected a comparison operator at position " + std::to_string(pos_));
    skip();
    if (pos_ < s_.size() && s_[pos_] == '"') {
      size_t close = pos_ + 1;
      std::string text;
      while (close < s_.size() && s_[close] != '"') {
        if (s_[close] == '\\' && close + 1 < s_.size()) ++close;
        text += s_[close++];
      }
      if (close >= s_.size()) return invalid("unclosed string");
      n->text = text;
      pos_ = close + 1;
    } else {
      size_t start = pos_;
      while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) &&
             s_[pos_] != '}' && s_[pos_] != ')' && s_[pos_] != '&' && s_[pos_] != '|') {
        ++pos_;
      }
      if (pos_ == start) return invalid("expected a value after " + n->op);
      n->text = std::string(s_.substr(start, pos_ - start));
      char* end = nullptr;
      double d = std::strtod(n->text.c_str(), &end);
      if (end && *end == '\0') {
        n->value_is_number = true;
        n->number = d;
      }
    }
    if (!n->value_is_number && n->op != "=" && n->op != "!=") {
      return invalid("only = and != compare strings");
    }
    return NodePtr(n);
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;  // parentheses open
};

const json::value* select(const json::value& root, const std::vector<std::string>& path) {
  const json::value* v = &root;
  for (const auto& p : path) {
    if (p.front() == '[') {
      if (!v->is_array()) return nullptr;
      size_t i = 0;
      auto [ptr, ec] = std::from_chars(p.data() + 1, p.data() + p.size() - 1, i);
      if (ec != std::errc() || i >= v->as_array().size()) return nullptr;
      v = &v->as_array()[i];
    } else {
      if (!v->is_object()) return nullptr;
      v = v->as_object().if_contains(p);
      if (!v) return nullptr;
    }
  }
  return v;
}

bool eval(const Node& n, const json::value& doc) {
  switch (n.kind) {
    case Node::kAnd:
      return eval(*n.left, doc) && eval(*n.right, doc);
    case Node::kOr:
      return eval(*n.left, doc) || eval(*n.right, doc);
    case Node::kIsNull: {
      const json::value* v = select(doc, n.path);
      return v && v->is_null();
    }
    case Node::kIsTrue: {
      const json::value* v = select(doc, n.path);
      return v && v->is_bool() && v->as_bool();
    }
    case Node::kIsFalse: {
      const json::value* v = select(doc, n.path);
      return v && v->is_bool() && !v->as_bool();
    }
    case Node::kNotExists:
      return select(doc, n.path) == nullptr;
    case Node::kCompare: {
      const json::value* v = select(doc, n.path);
      if (!v) return false;
      if (n.value_is_number && v->is_number()) {
        double x = v->to_number<double>();
        if (n.op == "=") return x == n.number;
        if (n.op == "!=") return x != n.number;
        if (n.op == "<") return x < n.number;
        if (n.op == ">") return x > n.number;
        if (n.op == "<=") return x <= n.number;
        if (n.op == ">=") return x >= n.number;
        return false;
      }
      std::string text;
      if (v->is_string()) {
        text = std::string(v->as_string());
      } else if (v->is_bool()) {
        text = v->as_bool() ? "true" : "false";
      } else if (v->is_number() && n.op.size() <= 2 && (n.op == "=" || n.op == "!=")) {
        text = json::serialize(*v);
      } else {
        return false;
      }
      bool eq = glob(n.text, text);
      if (n.op == "=") return eq;
      if (n.op == "!=") return !eq;
      return false;
    }
    case Node::kTerms:
      break;
  }
  return false;
}

}  // namespace

Result<FilterPattern> FilterPattern::parse(std::string_view pattern) {
  FilterPattern out;
  size_t b = pattern.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return out;  // empty: everything
  pattern = pattern.substr(b, pattern.find_last_not_of(" \t\r\n") - b + 1);
  if (pattern.front() == '{') {
    auto root = JsonParser(pattern).parse();
    if (!root) return root.error();
    out.root_ = *root;
    return out;
  }
  if (pattern.front() == '[') {
    return invalid("space-delimited patterns ([field, ...]) are not supported by Lambent yet");
  }
  if (pattern.front() == '%') {
    return invalid("regular expression patterns (%...%) are not supported by Lambent yet");
  }
  auto n = std::make_shared<Node>();
  size_t i = 0;
  while (i < pattern.size()) {
    while (i < pattern.size() && std::isspace(static_cast<unsigned char>(pattern[i]))) ++i;
    if (i >= pattern.size()) break;
    char mode = ' ';
    if (pattern[i] == '-' || pattern[i] == '?') mode = pattern[i++];
    std::string term;
    if (i < pattern.size() && pattern[i] == '"') {
      size_t close = pattern.find('"', i + 1);
      if (close == std::string_view::npos) return invalid("unclosed quote");
      term = std::string(pattern.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t end = i;
      while (end < pattern.size() && !std::isspace(static_cast<unsigned char>(pattern[end]))) ++end;
      term = std::string(pattern.substr(i, end - i));
      i = end;
    }
    if (term.empty()) return invalid("empty term");
    (mode == '-' ? n->none : mode == '?' ? n->any : n->all).push_back(std::move(term));
  }
  out.root_ = n;
  return out;
}

bool FilterPattern::matches(std::string_view message) const {
  if (!root_) return true;
  const Node& n = *root_;
  if (n.kind == Node::kTerms) {
    for (const auto& t : n.all) {
      if (message.find(t) == std::string_view::npos) return false;
    }
    for (const auto& t : n.none) {
      if (message.find(t) != std::string_view::npos) return false;
    }
    if (!n.any.empty()) {
      bool found = false;
      for (const auto& t : n.any) found = found || message.find(t) != std::string_view::npos;
      if (!found) return false;
    }
    return true;
  }
  boost::system::error_code ec;
  json::value doc = json::parse(message, ec);
  if (ec) return false;
  return eval(n, doc);
}

}  // namespace lambent::telemetry

#include "services/lambda/names.h"

#include <fmt/format.h>

#include <vector>

#include "services/lambda/errors.h"

namespace lambent::lambda {
namespace {

constexpr const char* kFunctionNamePattern =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
    "([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

bool valid_function_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

void validate_qualifier(std::string_view q) {
  bool ok = !q.empty() && q.size() <= 128;
  for (char c : q) ok = ok && (is_name_char(c) || c == '$');
  if (!ok) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at 'qualifier' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
        q));
  }
}

FunctionRef parse_function_ref(std::string_view value, const Names& names, std::string_view field,
                               size_t max_len) {
  auto invalid = [&]() {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: {}",
        value, field, kFunctionNamePattern));
  };
  if (value.empty() || value.size() > max_len) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
        "must have length less than or equal to {}",
        value, field, max_len));
  }
  auto parts = split(value, ':');
  std::string_view region, account, name, qualifier;
  bool has_qualifier = false;
  if (parts[0] == "arn") {
    // arn:partition:lambda:region:account:function:name[:qualifier]
    if (parts.size() < 7 || parts.size() > 8 || parts[2] != "lambda" || parts[5] != "function" ||
        parts[1].substr(0, 3) != "aws") {
      invalid();
    }
    region = parts[3];
    account = parts[4];
    name = parts[6];
    if (parts.size() == 8) {
      qualifier = parts[7];
      has_qualifier = true;
    }
  } else if (parts.size() >= 3 && parts[1] == "function") {
    // account:function:name[:qualifier]
    if (parts.size() > 4 || !all_digits(parts[0]) || parts[0].size() != 12) invalid();
    account = parts[0];
    name = parts[2];
    if (parts.size() == 4) {
      qualifier = parts[3];
      has_qualifier = true;
    }
  } else if (parts.size() <= 2) {
    name = parts[0];
    if (parts.size() == 2) {
      qualifier = parts[1];
      has_qualifier = true;
    }
  } else {
    invalid();
  }
  if (name.empty()) invalid();
  for (char c : name) {
    if (!is_name_char(c)) invalid();
  }
  if (has_qualifier) {
    bool ok = !qualifier.empty();
    for (char c : qualifier) ok = ok && is_name_char(c);
    if (!ok && qualifier != "$LATEST") invalid();
  }
  if (name.size() > 64) {
    throw_validation(fmt::format(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
        "must have length less than or equal to 64",
        name, field));
  }
  FunctionRef ref{std::string(name), std::nullopt};
  if (has_qualifier) ref.qualifier = std::string(qualifier);
  if ((!region.empty() && region != names.region) || (!account.empty() && account != names.account_id)) {
    throw_not_found("Function not found: " + std::string(value));
  }
  return ref;
}

std::optional<std::string> merge_qualifier(const FunctionRef& ref,
                                           const std::optional<std::string>& query) {
  if (query) validate_qualifier(*query);
  if (ref.qualifier && query && *ref.qualifier != *query) {
    throw_invalid_parameter("The derived qualifier from the function name does not match the "
                            "specified qualifier.");
  }
  return ref.qualifier ? ref.qualifier : query;
}

std::string unqualified_function(std::string_view value, const Names& names,
                                 std::string_view why) {
  FunctionRef ref = parse_function_ref(value, names);
  if (ref.qualifier) {
    throw_invalid_parameter("Unsupported qualifier in function name: " + std::string(why));
  }
  return ref.name;
}

}  // namespace lambent::lambda

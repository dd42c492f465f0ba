// Model constraints, checked the way Lambda's front end reports them: every violation of a
// request collected into one ValidationException ("2 validation errors detected: Value '0' at
// 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1;
// …"), with the member's path in camelCase as AWS names it.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "services/lambda/errors.h"

namespace lambent::lambda {

class Violations final {
 public:
  void add(std::string_view value, std::string_view field, std::string_view constraint) {
    items_.push_back(fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value,
                                 field, constraint));
  }
  // A required member that is absent.
  void null(std::string_view field) { items_.push_back(null_violation(field)); }
  void min(int64_t v, std::string_view field, int64_t lo) {
    if (v < lo) {
      add(std::to_string(v), field,
          fmt::format("Member must have value greater than or equal to {}", lo));
    }
  }
  void max(int64_t v, std::string_view field, int64_t hi) {
    if (v > hi) {
      add(std::to_string(v), field,
          fmt::format("Member must have value less than or equal to {}", hi));
    }
  }
  void range(int64_t v, std::string_view field, int64_t lo, int64_t hi) {
    min(v, field, lo);
    max(v, field, hi);
  }
  void pattern(const std::string& v, std::string_view field, const char* re) {
    if (!std::regex_match(v, std::regex(re))) {
      add(v, field, fmt::format("Member must satisfy regular expression pattern: {}", re));
    }
  }
  void max_length(const std::string& v, std::string_view field, size_t n) {
    if (v.size() > n) {
      add(v, field, fmt::format("Member must have length less than or equal to {}", n));
    }
  }
  void one_of(const std::string& v, std::string_view field,
              std::initializer_list<std::string_view> allowed) {
    for (auto a : allowed) {
      if (a == v) return;
    }
    std::string set;
    for (auto a : allowed) set += (set.empty() ? "" : ", ") + std::string(a);
    add(v, field, "Member must satisfy enum value set: [" + set + "]");
  }
  bool empty() const { return items_.empty(); }
  void throw_if_any() const {
    if (!items_.empty()) throw_validation_errors(items_);
  }

 private:
  std::vector<std::string> items_;
};

// A tag as TagResource and CreateFunction accept it: key 1–128 characters, not "aws:…";
// value up to 256 (tags.cc).
void validate_tag(const std::string& key, const std::string& value);

}  // namespace lambent::lambda

#include "services/lambda/json_body.h"

#include <boost/json.hpp>

#include "services/lambda/errors.h"

namespace lambent::lambda {
namespace json = boost::json;
namespace {
constexpr const char* kPrefix = "Could not parse request body into json: ";
}

boost::json::object parse_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) throw_invalid_content(std::string(kPrefix) + "malformed JSON (" + ec.message() + ")");
  if (!v.is_object()) throw_invalid_content(std::string(kPrefix) + "expected a JSON object");
  return std::move(v.as_object());
}

JsonObject::JsonObject(const json::object& obj, std::string context)
    : obj_(&obj), context_(std::move(context)) {}

void JsonObject::only(std::initializer_list<std::string_view> known) const {
  for (const auto& [k, v] : *obj_) {
    bool ok = false;
    for (auto n : known) ok = ok || n == k;
    if (!ok) {
      throw_invalid_content(std::string(kPrefix) + "Unrecognized field \"" + std::string(k) +
                            "\"" + (context_.empty() ? "" : " in " + context_) +
                            ", not marked as ignorable");
    }
  }
}

bool JsonObject::has(std::string_view name) const {
  const auto* v = obj_->if_contains(name);
  return v && !v->is_null();
}

const json::value* JsonObject::get(std::string_view name) const {
  const auto* v = obj_->if_contains(name);
  return (v && !v->is_null()) ? v : nullptr;
}

void JsonObject::wrong_type(std::string_view name, std::string_view expected) const {
  throw_invalid_content(std::string(kPrefix) + "member \"" +
                        (context_.empty() ? "" : context_ + ".") + std::string(name) +
                        "\" must be " + std::string(expected));
}

std::vector<std::string> JsonObject::missing(
    std::initializer_list<std::pair<std::string_view, std::string_view>> required) const {
  std::vector<std::string> out;
  for (const auto& [member, field] : required) {
    if (!has(member)) {
      out.push_back(null_violation(field));
    }
  }
  return out;
}

std::optional<std::string> JsonObject::str(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(name, "a string");
  return std::string(v->as_string());
}

std::optional<int64_t> JsonObject::integer(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= INT64_MAX) return static_cast<int64_t>(v->as_uint64());
  wrong_type(name, "an integer");
}

std::optional<double> JsonObject::number(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  wrong_type(name, "a number");
}

std::optional<bool> JsonObject::boolean(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_bool()) wrong_type(name, "a boolean");
  return v->as_bool();
}

std::optional<JsonObject> JsonObject::object(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_object()) wrong_type(name, "an object");
  return JsonObject(v->as_object(), context_.empty() ? std::string(name)
                                                     : context_ + "." + std::string(name));
}

std::optional<std::vector<std::string>> JsonObject::str_list(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) wrong_type(name, "a list of strings");
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) wrong_type(name, "a list of strings");
    out.emplace_back(e.as_string());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> JsonObject::str_map(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_object()) wrong_type(name, "a map of strings");
  std::map<std::string, std::string> out;
  for (const auto& [k, e] : v->as_object()) {
    if (!e.is_string()) wrong_type(name, "a map of strings");
    out[std::string(k)] = std::string(e.as_string());
  }
  return out;
}

}  // namespace lambent::lambda

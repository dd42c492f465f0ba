// Strict reading of a JSON request body. Lambda's front end rejects what its deserializer cannot
// map: malformed JSON, a member of the wrong type, or a member the operation does not have all get
// InvalidRequestContentException ("Could not parse request body into json: ..."), as on AWS.
#pragma once

#include <boost/json/value.hpp>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambent::lambda {

class JsonObject {
 public:
  // `context` names the object in messages ("" for the body itself).
  JsonObject(const boost::json::object& obj, std::string context);

  // Throws for members not in `known`.
  void only(std::initializer_list<std::string_view> known) const;

  bool has(std::string_view name) const;
  std::optional<std::string> str(std::string_view name) const;
  std::optional<int64_t> integer(std::string_view name) const;
  std::optional<double> number(std::string_view name) const;
  std::optional<bool> boolean(std::string_view name) const;
  std::optional<JsonObject> object(std::string_view name) const;
  std::optional<std::vector<std::string>> str_list(std::string_view name) const;
  std::optional<std::map<std::string, std::string>> str_map(std::string_view name) const;

  const boost::json::object& raw() const { return *obj_; }

  // A violation for each required member that is absent: {member, name in messages}.
  std::vector<std::string> missing(
      std::initializer_list<std::pair<std::string_view, std::string_view>> required) const;

 private:
  const boost::json::value* get(std::string_view name) const;
  [[noreturn]] void wrong_type(std::string_view name, std::string_view expected) const;

  const boost::json::object* obj_;
  std::string context_;
};

// Parses the body as a JSON object; an empty body counts as {} (botocore may send none).
boost::json::object parse_body(std::string_view body);

namespace detail {
struct OwnedObject {
  boost::json::object owned;
};
}  // namespace detail

// A request body read strictly: a JSON object (parse_body) that owns its members; only() then
// refuses those the operation does not have.
class JsonBody final : private detail::OwnedObject, public JsonObject {
 public:
  explicit JsonBody(std::string_view body)
      : detail::OwnedObject{parse_body(body)}, JsonObject(owned, "") {}
  JsonBody(const JsonBody&) = delete;
  JsonBody& operator=(const JsonBody&) = delete;
};

}  // namespace lambent::lambda

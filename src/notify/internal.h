// What the notification sources share inside notify/ (not an interface).
#pragma once

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <string_view>

#include "events/pattern.h"
#include "notify/buses.h"
#include "queue/queue_service.h"
#include "store/store.h"

namespace lambent::notify::detail {

inline constexpr size_t kMaxMessageBytes = 262'144;

// RFC 3986 unreserved characters kept, everything else %XX (URLs SNS hands out).
inline std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

inline std::string attribute_of(const std::map<std::string, std::string>& m, const std::string& key,
                                std::string fallback = "") {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

inline boost::json::object attributes_json(
    const std::map<std::string, events::Attribute>& attributes) {
  boost::json::object out;
  for (const auto& [name, a] : attributes) {
    out[name] = boost::json::object{{"Type", a.type}, {"Value", a.value}};
  }
  return out;
}

// The message a delivery of kind "queue" sends: its payload, with the delivery's message
// attributes and FIFO group and deduplication ids (delivery.cc).
queue::SendInput queue_message(const store::AsyncEvent& e, const boost::json::object& delivery);

// A string member of a JSON object, "" when absent or not a string.
inline std::string str(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline constexpr const char* kDefaultBus = "default";
inline BusError bus_validation(std::string message) {
  return {"ValidationException", std::move(message)};
}
inline BusError bus_not_found(std::string message) {
  return {"ResourceNotFoundException", std::move(message)};
}

}  // namespace lambent::notify::detail

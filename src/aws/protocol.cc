#include "aws/protocol.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "base/codec.h"

namespace lambent::aws {
namespace json = boost::json;

namespace {

std::string json_content_type(const ServiceInfo& s) {
  return "application/x-amz-json-" + s.json_version;
}

bool is_index(std::string_view p) {
  return !p.empty() && p.find_first_not_of("0123456789") == std::string_view::npos;
}

// Sets tree[parts…] = value; numbered segments are list positions (1-based).
bool put_path(json::object& root, const std::vector<std::string_view>& parts,
              std::string_view value) {
  json::value* cur = nullptr;
  json::object* obj = &root;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    bool last = i + 1 == parts.size();
    if (is_index(p)) {
      if (!cur || !cur->is_array() || p.size() > 4) return false;
      size_t n = std::stoul(std::string(p));
      if (n == 0 || n > 1000) return false;
      auto& arr = cur->as_array();
      while (arr.size() < n) arr.emplace_back(nullptr);
      cur = &arr[n - 1];
    } else {
      if (p.empty()) return false;
      if (cur) {
        if (cur->is_null()) *cur = json::object();
        if (!cur->is_object()) return false;
        obj = &cur->as_object();
      }
      json::value& slot = (*obj)[p];
      if (!last && slot.is_null()) {
        slot = is_index(parts[i + 1]) ? json::value(json::array()) : json::value(json::object());
      }
      cur = &slot;
    }
    if (last) {
      if (!cur->is_null() && !cur->is_string()) return false;
      *cur = json::string(value);
    }
  }
  return true;
}

// {"member":[…]} → […]; {"entry":[{"key","value"}…]} → {key: value}; recursively.
void unwrap(json::value& v) {
  if (v.is_array()) {
    for (auto& x : v.as_array()) unwrap(x);
    return;
  }
  if (!v.is_object()) return;
  auto& o = v.as_object();
  for (auto& [k, x] : o) unwrap(x);
  if (o.size() != 1) return;
  if (auto* m = o.if_contains("member"); m && m->is_array()) {
    json::value list = std::move(*m);
    v = std::move(list);
  } else if (auto* e = o.if_contains("entry"); e && e->is_array()) {
    json::object map;
    for (auto& item : e->as_array()) {
      if (!item.is_object()) continue;
      // key/value, or Name/Value (SNS's MessageAttributes.entry.N.Name).
      auto* key = item.as_object().if_contains("key");
      if (!key) key = item.as_object().if_contains("Name");
      auto* value = item.as_object().if_contains("value");
      if (!value) value = item.as_object().if_contains("Value");
      if (key && key->is_string()) map[key->as_string()] = value ? *value : json::value("");
    }
    v = std::move(map);
  }
}

void write_value(std::string& out, std::string_view name, const json::value& v) {
  out += fmt::format("<{}>", name);
  if (v.is_object()) {
    write_query_members(out, v.as_object());
  } else if (v.is_array()) {
    for (const auto& x : v.as_array()) write_value(out, "member", x);
  } else if (v.is_string()) {
    out += xml_escape(v.as_string());
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_double()) {
    out += fmt::format("{}", v.as_double());
  } else if (!v.is_null()) {
    out += json::serialize(v);
  }
  out += fmt::format("</{}>", name);
}

}  // namespace

void write_query_members(std::string& out, const json::object& result) {
  for (const auto& [k, v] : result) write_value(out, k, v);
}

http::Response error_response(const ServiceInfo& service, Protocol protocol,
                              const ServiceError& e, std::string_view request_id) {
  http::Response r;
  r.status = e.status;
  switch (protocol) {
    case Protocol::kRestJson: {
      json::object body;
      body["Type"] = e.sender() ? "User" : "Service";
      body[e.message_member] = e.message;
      for (const auto& [k, v] : e.extra) body[k] = v;
      r.content_type = "application/json";
      r.set_header("x-amzn-ErrorType", e.code);
      r.body = json::serialize(body);
      break;
    }
    case Protocol::kJson: {
      r.content_type = json_content_type(service);
      r.set_header("x-amzn-ErrorType", e.code);
      if (!e.query_code.empty()) {
        r.set_header("x-amzn-query-error", e.query_code + (e.sender() ? ";Sender" : ";Receiver"));
      }
      json::object body{{"__type", service.type_prefix + e.code}, {"message", e.message}};
      for (const auto& [k, v] : e.extra) body[k] = v;
      r.body = json::serialize(body);
      break;
    }
    case Protocol::kQuery:
      r.content_type = "text/xml";
      r.body = fmt::format(
          "<ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message>"
          "<Detail/></Error><RequestId>{}</RequestId></ErrorResponse>",
          service.xmlns, e.sender() ? "Sender" : "Receiver",
          xml_escape(e.query_code.empty() ? e.code : e.query_code), xml_escape(e.message),
          request_id);
      break;
    case Protocol::kRestXml: {
      r.content_type = "application/xml";
      std::string extra;
      for (const auto& [k, v] : e.extra) extra += fmt::format("<{0}>{1}</{0}>", k, xml_escape(v));
      r.body = fmt::format(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>"
          "{}<RequestId>{}</RequestId></Error>",
          xml_escape(e.code), xml_escape(e.message), extra, request_id);
      break;
    }
  }
  return r;
}

ServiceError internal_error() {
  return ServiceError(500, "InternalFailure", "An internal error occurred.");
}

http::Response json_response(const ServiceInfo& service, const json::object& result) {
  http::Response r;
  r.content_type = json_content_type(service);
  r.body = json::serialize(result);
  return r;
}

http::Response query_response(const ServiceInfo& service, std::string_view op,
                              std::string_view result_xml, std::string_view request_id) {
  http::Response r;
  r.content_type = "text/xml";
  r.body = fmt::format("<{}Response xmlns=\"{}\">", op, service.xmlns);
  if (!result_xml.empty() || service.empty_result_ops.count(op)) {
    r.body += fmt::format("<{0}Result>{1}</{0}Result>", op, result_xml);
  }
  r.body += fmt::format(
      "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{}Response>", request_id,
      op);
  return r;
}

Result<QueryForm> parse_query_form(std::string_view body) {
  const std::string form = "/?" + std::string(body);  // the parsed view points into it
  auto parsed = boost::urls::parse_origin_form(form);
  if (!parsed) return make_error(Errc::kInvalidArgument, "The request body is not a valid form.");
  QueryForm out;
  json::value tree = json::object();
  bool ok = true;
  for (auto p : parsed->params()) {
    std::string key(p.key);
    if (key.empty() && p.value.empty()) continue;  // "a=1&&b=2", or an empty body
    if (key == "Action") {
      out.action = p.value;
      continue;
    }
    if (key == "Version") {
      out.version = p.value;
      continue;
    }
    std::vector<std::string_view> parts;
    std::string_view rest = key;
    for (;;) {
      auto dot = rest.find('.');
      parts.push_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    ok = ok && put_path(tree.as_object(), parts, p.value);
    out.params.emplace_back(std::move(key), std::string(p.value));
  }
  if (!ok) {
    return make_error(Errc::kInvalidArgument, "The request has a malformed parameter name.");
  }
  // The members of the root, not the root itself: a top-level parameter named "member" or
  // "entry" would otherwise turn the whole tree into a list (found by fuzzing: an exception,
  // a 500, where a malformed form deserves its 400).
  for (auto& [name, value] : tree.as_object()) unwrap(value);
  out.tree = std::move(tree.as_object());
  return out;
}

std::string string_member(const json::object& input, std::string_view key) {
  auto* v = input.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

std::string credential_scope_service(std::string_view auth) {
  auto at = auth.find("Credential=");
  if (at == std::string_view::npos) return "";
  std::string_view cred = auth.substr(at + 11);
  cred = cred.substr(0, cred.find_first_of(", "));
  // AKID/date/region/service/aws4_request
  size_t slashes[4];
  size_t n = 0;
  for (size_t i = 0; i < cred.size() && n < 4; ++i) {
    if (cred[i] == '/') slashes[n++] = i;
  }
  if (n < 4) return "";
  return std::string(cred.substr(slashes[2] + 1, slashes[3] - slashes[2] - 1));
}

}  // namespace lambent::aws

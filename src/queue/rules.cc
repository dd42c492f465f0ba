#include "queue/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "base/codec.h"

namespace lambent::queue {
namespace json = boost::json;

void throw_exception_from_error(const QueueError& e, const boost::source_location& loc) {
  std::fprintf(stderr, "bug: value() of a queue error at %s:%u: %s\n", loc.file_name(),
               static_cast<unsigned>(loc.line()), e.message.c_str());
  std::abort();
}

namespace {

constexpr int64_t kMaxMessageAttributes = 10;

// A Number attribute: what strtod reads whole, without hex, NaN or infinity.
bool valid_number(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && s.find_first_of("xXnN") == std::string::npos;
}

}  // namespace

const IntAttr* int_attr(const std::string& name) {
  for (const auto& a : kIntAttrs) {
    if (name == a.name) return &a;
  }
  return nullptr;
}
bool text_attr(const std::string& name) {
  for (const char* a : kTextAttrs) {
    if (name == a) return true;
  }
  return false;
}
bool fifo_attr(const std::string& name) {
  for (const char* a : kFifoAttrs) {
    if (name == a) return true;
  }
  return false;
}

std::string fifo_default(const std::string& name) {
  if (name == "FifoQueue") return "true";
  if (name == "ContentBasedDeduplication") return "false";
  if (name == "DeduplicationScope") return "queue";
  return "perQueue";  // FifoThroughputLimit
}

bool valid_fifo_token(std::string_view s) {
  return !s.empty() && s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 33 && c <= 126; });
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  size_t i = 0;
  bool neg = s[0] == '-';
  if (neg) i = 1;
  if (i == s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

std::optional<uint32_t> first_invalid_char(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) {
      cp = c, n = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F, n = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F, n = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07, n = 4;
    } else {
      return c;
    }
    if (i + n > s.size()) return c;
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return c;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[n]) return c;  // overlong
    bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
              (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) return cp;
    i += n;
  }
  return std::nullopt;
}

bool valid_message_text(std::string_view s) { return !first_invalid_char(s).has_value(); }

QueueResult<void> check_message_attributes(const MessageAttributes& attrs) {
  if (static_cast<int64_t>(attrs.size()) > kMaxMessageAttributes) {
    return refuse(Refusal::kInvalidParameter,
         fmt::format("Number of message attributes [{}] exceeds the allowed maximum [{}].",
                     attrs.size(), kMaxMessageAttributes));
  }
  for (const auto& [name, a] : attrs) {
    bool name_ok = !name.empty() && name.size() <= 256 && name.front() != '.' &&
                   name.back() != '.' && name.find("..") == std::string::npos;
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
        name_ok = false;
      }
    }
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.rfind("aws.", 0) == 0 || lower.rfind("amazon.", 0) == 0) name_ok = false;
    if (!name_ok) {
      return refuse(Refusal::kInvalidParameter,
                    "Message (user) attribute name '" + name +
                        "' is invalid. The attribute name can contain alphanumeric characters, "
                        "hyphens (-), underscores (_), and periods (.). It must not start with "
                        "AWS-reserved prefixes \"AWS.\" or \"Amazon.\" (or any casing variants), "
                        "start or end with a period, or have successive periods.");
    }
    std::string base = a.data_type.substr(0, a.data_type.find('.'));
    if (base != "String" && base != "Number" && base != "Binary") {
      return refuse(Refusal::kInvalidParameter,
           "The type of message (user) attribute '" + name + "' is invalid. You must use only " +
               "the following supported type prefixes: Binary, Number, String.");
    }
    if (a.data_type.size() > 256) {
      return refuse(Refusal::kInvalidParameter, "Message attribute type of '" + name + "' is too long.");
    }
    bool has_value = base == "Binary" ? !a.binary_value.empty() : !a.string_value.empty();
    if (!has_value) {
      return refuse(Refusal::kInvalidParameter,
           "The message attribute '" + name + "' must contain non-empty message attribute value.");
    }
    if (base == "Number" && !valid_number(a.string_value)) {
      return refuse(Refusal::kInvalidParameter,
           "Can't cast the value of message (user) attribute '" + name + "' to a number.");
    }
    if (base != "Binary" && !valid_message_text(a.string_value)) {
      return refuse(Refusal::kInvalidParameter,
           "Message attribute '" + name + "' must contain only valid XML characters.");
    }
  }
  return {};
}

json::object attributes_object(const MessageAttributes& attrs, const AttributeKeys& keys) {
  json::object o;
  for (const auto& [name, a] : attrs) {
    json::object v{{keys.type, a.data_type}};
    if (a.data_type.rfind("Binary", 0) == 0) {
      v[keys.binary] = base64_encode(a.binary_value);
    } else {
      v[keys.string] = a.string_value;
    }
    o[name] = std::move(v);
  }
  return o;
}

std::string attributes_to_json(const MessageAttributes& attrs) {
  return json::serialize(attributes_object(attrs, {"t", "s", "b"}));
}

MessageAttributes attributes_from_json(std::string_view text) {
  MessageAttributes out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [k, a] : v.as_object()) {
    if (!a.is_object()) continue;
    MessageAttribute m;
    const auto& o = a.as_object();
    if (auto* t = o.if_contains("t"); t && t->is_string()) m.data_type = t->as_string();
    if (auto* s = o.if_contains("s"); s && s->is_string()) m.string_value = s->as_string();
    if (auto* b = o.if_contains("b"); b && b->is_string()) {
      m.binary_value = base64_decode(std::string(b->as_string())).value_or("");
    }
    out[std::string(k)] = std::move(m);
  }
  return out;
}

bool wanted(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names) {
    if (n == "All" || n == ".*" || n == name) return true;
    if (n.size() > 2 && n.ends_with(".*") && name.rfind(n.substr(0, n.size() - 1), 0) == 0) {
      return true;
    }
  }
  return false;
}

QueueResult<std::map<std::string, std::string>> check_attributes(
    const std::map<std::string, std::string>& in, const AttributeCheck& ctx) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : in) {
    if (const IntAttr* a = int_attr(k)) {
      auto n = parse_int(v);
      if (!n || *n < a->min || *n > a->max) {
        return refuse(Refusal::kInvalidAttributeValue, "Invalid value for the parameter " + k + ".");
      }
      out[k] = std::to_string(*n);
    } else if (k == "RedrivePolicy") {
      if (!v.empty()) {
        auto r = parse_redrive(v);
        if (!r || r->max_receive < 1 || r->max_receive > 1000) {
          return refuse(Refusal::kInvalidParameter,
               "Value " + v + " for parameter RedrivePolicy is invalid. Reason: Redrive policy " +
                   "is not a valid JSON map of deadLetterTargetArn and maxReceiveCount " +
                   "(1 to 1000).");
        }
        std::string dlq = ctx.name_from_arn(r->target_arn);
        if (dlq.empty() || !ctx.queue_exists(dlq)) {
          return refuse(Refusal::kInvalidParameter, "Value " + v +
                                            " for parameter RedrivePolicy is invalid. Reason: " +
                                            "Dead letter target does not exist.");
        }
        if (is_fifo_name(dlq) != ctx.fifo) {
          return refuse(Refusal::kInvalidParameter,
                        "Value " + v + " for parameter RedrivePolicy is invalid. Reason: " +
                            (ctx.fifo ? "The dead-letter queue of a FIFO queue must also be a "
                                        "FIFO queue."
                                      : "The dead-letter queue of a standard queue must also be "
                                        "a standard queue."));
        }
      }
      out[k] = v;
    } else if (fifo_attr(k)) {
      if (k == "FifoQueue") {
        // Only at creation, and only as what the name says ("false" on a standard queue).
        if (!ctx.creating) {
          return refuse(Refusal::kInvalidAttributeValue,
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type "
                        "is not supported.");
        }
        if (v != "true" && v != "false") {
          return refuse(Refusal::kInvalidAttributeValue,
                        "Invalid value for the parameter FifoQueue.");
        }
        if (v == "true") out[k] = v;
        continue;
      }
      if (!ctx.fifo) return refuse(Refusal::kUnknownAttribute, "Unknown Attribute " + k + ".");
      bool ok = k == "ContentBasedDeduplication" ? v == "true" || v == "false"
                : k == "DeduplicationScope"      ? v == "queue" || v == "messageGroup"
                                                 : v == "perQueue" || v == "perMessageGroupId";
      if (!ok) {
        return refuse(Refusal::kInvalidAttributeValue,
                      "Invalid value for the parameter " + k + ".");
      }
      out[k] = v;
    } else if (text_attr(k)) {
      out[k] = v;
    } else {
      return refuse(Refusal::kUnknownAttribute, "Unknown Attribute " + k + ".");
    }
  }
  return out;
}

QueueResult<void> check_queue_name(const std::string& name, bool fifo) {
  if (fifo) {
    if (!is_fifo_name(name) || !valid_name(std::string_view(name).substr(0, name.size() - 5), 75)) {
      return refuse(Refusal::kInvalidParameter,
                    "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                    "or underscores, must end with .fifo suffix and be 1 to 80 in length.");
    }
    return {};
  }
  if (!valid_name(name)) {
    return refuse(Refusal::kInvalidParameter,
         "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  return {};
}

bool valid_name(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::optional<Redrive> parse_redrive(const std::string& text) {
  boost::system::error_code ec;
  auto p = json::parse(text, ec);
  if (ec || !p.is_object()) return std::nullopt;
  const json::value* target = p.as_object().if_contains("deadLetterTargetArn");
  const json::value* count = p.as_object().if_contains("maxReceiveCount");
  std::optional<int64_t> max;
  if (count && count->is_int64()) max = count->as_int64();
  if (count && count->is_string()) max = parse_int(std::string(count->as_string()));
  if (!target || !target->is_string() || !max) return std::nullopt;
  return Redrive{std::string(target->as_string()), *max};
}

std::string attributes_md5(const MessageAttributes& attrs) {
  if (attrs.empty()) return "";
  std::string buf;
  auto put = [&buf](std::string_view s) {
    uint32_t n = static_cast<uint32_t>(s.size());
    char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                   static_cast<char>(n >> 8), static_cast<char>(n)};
    buf.append(len, 4);
    buf.append(s);
  };
  for (const auto& [name, a] : attrs) {  // std::map: sorted by name, as SQS requires
    put(name);
    put(a.data_type);
    bool binary = a.data_type.rfind("Binary", 0) == 0;
    buf.push_back(binary ? 2 : 1);
    put(binary ? a.binary_value : a.string_value);
  }
  return md5_hex(buf);
}

}  // namespace lambent::queue

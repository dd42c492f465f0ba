#include "queue/queue_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "queue/internal.h"

namespace lambent::queue {
namespace json = boost::json;
using detail::no_such_queue;
using detail::store_failed;
using detail::system_from_json;

QueueService::Queue::Queue()
    : memory(std::make_unique<Memory>()),
      msgs(memory.get()),
      order(memory.get()),
      groups(memory.get()),
      heads(memory.get()) {}

Result<std::unique_ptr<QueueService>> QueueService::open(store::Store& store, NodeIdentity id) {
  std::unique_ptr<QueueService> s(new QueueService(store, std::move(id)));
  LAMBENT_TRY(queues, store.list_queues());
  for (auto& rec : queues) {
    std::string name = rec.name;
    s->queues_[name].fifo = is_fifo_name(name);
    s->queues_[name].rec = std::move(rec);
  }
  LAMBENT_TRY(messages, store.queue_messages());
  for (auto& m : messages) {
    auto it = s->queues_.find(m.queue);
    s->next_seq_ = std::max(s->next_seq_, m.seq + 1);
    if (it == s->queues_.end()) continue;
    // insert() keeps the stored attributes and system attributes as they are (JSON): only a
    // FIFO message's group is read from them.
    Msg msg;
    msg.md5_body = md5_hex(m.body);
    if (it->second.fifo) {
      auto system = system_from_json(m.system);
      if (auto g = system.find("MessageGroupId"); g != system.end()) msg.group = g->second;
    }
    msg.m = std::move(m);
    s->insert(it->second, std::move(msg));
  }
  LAMBENT_TRY(dedup, store.queue_dedup());
  for (auto& d : dedup) {
    auto it = s->queues_.find(d.queue);
    if (it == s->queues_.end()) continue;
    it->second.dedup[d.key] = Dedup{d.message_id, d.sequence, d.expires_ms};
  }
  return s;
}

std::string QueueService::arn(const std::string& name) const {
  return id_.queue_arn(name);
}

std::string QueueService::name_from_arn(const std::string& arn) const {
  std::string prefix = id_.queue_arn("");
  if (arn.rfind(prefix, 0) != 0) return "";
  std::string name = arn.substr(prefix.size());
  return name.find(':') == std::string::npos ? name : "";
}

QueueService::Queue* QueueService::find(const std::string& name) {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : &it->second;
}

const QueueService::Queue* QueueService::find(const std::string& name) const {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : &it->second;
}

QueueService::DeadLetter QueueService::dead_letter(const Queue& q) const {
  auto it = q.rec.attributes.find("RedrivePolicy");
  if (it == q.rec.attributes.end() || it->second.empty()) return {};
  auto r = parse_redrive(it->second);
  if (!r) return {};
  return {name_from_arn(r->target_arn), r->max_receive};
}

int64_t QueueService::attr_int(const Queue& q, const std::string& key) const {
  auto it = q.rec.attributes.find(key);
  if (it != q.rec.attributes.end()) {
    if (auto v = parse_int(it->second)) return *v;
  }
  const IntAttr* a = int_attr(key);
  return a ? a->def : 0;
}

QueueResult<void> QueueService::commit(const store::QueueWrite& w) {
  if (auto r = store_.write_messages(w); !r) return store_failed(r.error());
  return {};
}

QueueResult<void> QueueService::create_queue(const std::string& name,
                                const std::map<std::string, std::string>& attributes,
                                const std::map<std::string, std::string>& tags) {
  auto fifo_attr_it = attributes.find("FifoQueue");
  const bool fifo = fifo_attr_it != attributes.end() && fifo_attr_it->second == "true";
  LAMBENT_TRY_VOID(check_queue_name(name, fifo));
  std::lock_guard lock(mu_);
  AttributeCheck ctx{[this](const std::string& n) { return queues_.count(n) > 0; },
                     [this](const std::string& a) { return name_from_arn(a); }, fifo, true};
  LAMBENT_TRY(attrs, check_attributes(attributes, ctx));
  if (auto it = queues_.find(name); it != queues_.end()) {
    // Same name: fine when every attribute given matches the queue's (defaults included).
    for (const auto& [k, v] : attrs) {
      auto cur = it->second.rec.attributes.find(k);
      std::string current = cur != it->second.rec.attributes.end() ? cur->second : "";
      if (cur == it->second.rec.attributes.end()) {
        if (const IntAttr* a = int_attr(k)) current = std::to_string(a->def);
        if (fifo_attr(k) && fifo) current = fifo_default(k);
      }
      if (current != v) {
        return refuse(Refusal::kNameTaken,
                      "A queue already exists with the same name and a different value for "
                      "attribute " + k);
      }
    }
    return {};
  }
  store::QueueRecord rec;
  rec.name = name;
  rec.created_s = this->now() / 1000;
  rec.modified_s = rec.created_s;
  rec.attributes = std::move(attrs);
  rec.tags = tags;
  if (auto r = store_.create_queue(rec); !r) return store_failed(r.error());
  queues_[name].rec = std::move(rec);
  queues_[name].fifo = fifo;
  return {};
}

QueueResult<void> QueueService::delete_queue(const std::string& name) {
  std::unique_lock gate(gate_);
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  if (auto r = store_.delete_queue(name); !r && r.error().code != Errc::kNotFound) {
    return store_failed(r.error());
  }
  wake(*q);
  queues_.erase(name);
  return {};
}

size_t QueueService::memory_bytes(const std::string& name) const {
  std::lock_guard lock(mu_);
  const Queue* q = find(name);
  return q ? q->memory->mapped() : 0;
}

bool QueueService::exists(const std::string& name) const {
  std::lock_guard lock(mu_);
  return queues_.count(name) > 0;
}

std::vector<std::string> QueueService::list_queues(const std::string& prefix) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (auto it = queues_.lower_bound(prefix); it != queues_.end(); ++it) {
    if (it->first.rfind(prefix, 0) != 0) break;
    out.push_back(it->first);
  }
  return out;
}

QueueResult<std::map<std::string, std::string>> QueueService::get_attributes(
    const std::string& name, const std::vector<std::string>& names) const {
  std::lock_guard lock(mu_);
  const Queue* found = find(name);
  if (!found) return no_such_queue();
  const Queue& q = *found;
  bool all = std::find(names.begin(), names.end(), "All") != names.end();
  for (const auto& n : names) {
    bool known = n == "All" || int_attr(n) || text_attr(n) || fifo_attr(n) ||
                 std::find_if(std::begin(kReadOnlyAttrs), std::end(kReadOnlyAttrs),
                              [&](const char* a) { return n == a; }) != std::end(kReadOnlyAttrs);
    if (!known) return refuse(Refusal::kUnknownAttribute, "Unknown Attribute " + n + ".");
  }
  auto want = [&](const char* n) {
    return all || std::find(names.begin(), names.end(), n) != names.end();
  };
  std::map<std::string, std::string> out;
  int64_t now = this->now();
  if (want("ApproximateNumberOfMessages") || want("ApproximateNumberOfMessagesNotVisible") ||
      want("ApproximateNumberOfMessagesDelayed")) {
    int64_t visible = 0, in_flight = 0, delayed = 0;
    for (const auto& [seq, m] : q.msgs) {
      if (m.visible_ms <= now) {
        ++visible;
      } else if (m.receive_count > 0) {
        ++in_flight;
      } else {
        ++delayed;
      }
    }
    if (want("ApproximateNumberOfMessages"))
      out["ApproximateNumberOfMessages"] = std::to_string(visible);
    if (want("ApproximateNumberOfMessagesNotVisible")) {
      out["ApproximateNumberOfMessagesNotVisible"] = std::to_string(in_flight);
    }
    if (want("ApproximateNumberOfMessagesDelayed")) {
      out["ApproximateNumberOfMessagesDelayed"] = std::to_string(delayed);
    }
  }
  if (want("CreatedTimestamp")) out["CreatedTimestamp"] = std::to_string(q.rec.created_s);
  if (want("LastModifiedTimestamp"))
    out["LastModifiedTimestamp"] = std::to_string(q.rec.modified_s);
  if (want("QueueArn")) out["QueueArn"] = arn(name);
  for (const auto& a : kIntAttrs) {
    if (want(a.name)) out[a.name] = std::to_string(attr_int(q, a.name));
  }
  for (const char* a : kFifoAttrs) {
    if (!q.fifo || !want(a)) continue;
    auto it = q.rec.attributes.find(a);
    out[a] = it != q.rec.attributes.end() ? it->second : fifo_default(a);
  }
  for (const char* a : kTextAttrs) {
    if (!want(a)) continue;
    auto it = q.rec.attributes.find(a);
    if (it != q.rec.attributes.end() && !it->second.empty()) {
      out[a] = it->second;
    } else if (std::string_view(a) == "SqsManagedSseEnabled") {
      out[a] = "false";
    }
  }
  return out;
}

QueueResult<void> QueueService::set_attributes(
    const std::string& name, const std::map<std::string, std::string>& attributes) {
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  AttributeCheck ctx{[this](const std::string& n) { return queues_.count(n) > 0; },
                     [this](const std::string& a) { return name_from_arn(a); }, q->fifo, false};
  LAMBENT_TRY(attrs, check_attributes(attributes, ctx));
  store::QueueRecord rec = q->rec;
  for (auto& [k, v] : attrs) {
    if (v.empty()) {
      rec.attributes.erase(k);
    } else {
      rec.attributes[k] = v;
    }
  }
  rec.modified_s = this->now() / 1000;
  return replace_record(*q, std::move(rec));
}

QueueResult<void> QueueService::replace_record(Queue& q, store::QueueRecord rec) {
  if (auto r = store_.update_queue(rec); !r) return store_failed(r.error());
  q.rec = std::move(rec);
  return {};
}

QueueResult<std::map<std::string, std::string>> QueueService::tags(const std::string& name) const {
  std::lock_guard lock(mu_);
  const Queue* q = find(name);
  if (!q) return no_such_queue();
  return q->rec.tags;
}

QueueResult<void> QueueService::tag(const std::string& name,
                                    const std::map<std::string, std::string>& tags) {
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  store::QueueRecord rec = q->rec;
  for (const auto& [k, v] : tags) rec.tags[k] = v;
  if (rec.tags.size() > 50) {
    return refuse(Refusal::kInvalidParameter, "Too many tags added for queue " + name + ".");
  }
  return replace_record(*q, std::move(rec));
}

QueueResult<void> QueueService::untag(const std::string& name,
                                      const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  store::QueueRecord rec = q->rec;
  for (const auto& k : keys) rec.tags.erase(k);
  return replace_record(*q, std::move(rec));
}

QueueResult<std::vector<std::string>> QueueService::dead_letter_sources(
    const std::string& name) const {
  std::lock_guard lock(mu_);
  if (!find(name)) return no_such_queue();
  std::vector<std::string> out;
  for (const auto& [n, q] : queues_) {
    if (dead_letter(q).queue == name) out.push_back(n);
  }
  return out;
}

QueueResult<void> QueueService::purge(const std::string& name) {
  std::unique_lock gate(gate_);
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  int64_t now = this->now();
  if (q->purged_ms != 0 && now - q->purged_ms < 60'000) {
    return refuse(Refusal::kPurgeInProgress,
                  "Only one PurgeQueue operation on " + name + " is allowed every 60 seconds.");
  }
  store::QueueWrite w;
  w.purge = name;
  LAMBENT_TRY_VOID(commit(w));
  release(*q, true);
  q->purged_ms = now;
  return {};
}

QueueResult<void> QueueService::add_permission(const std::string& name, const std::string& label,
                                               const std::vector<std::string>& accounts,
                                               const std::vector<std::string>& actions) {
  static const std::set<std::string, std::less<>> kActions = {"*",
                                                              "SendMessage",
                                                              "ReceiveMessage",
                                                              "DeleteMessage",
                                                              "ChangeMessageVisibility",
                                                              "GetQueueAttributes",
                                                              "GetQueueUrl",
                                                              "ListDeadLetterSourceQueues",
                                                              "PurgeQueue",
                                                              "ListQueueTags"};
  if (!valid_name(label, 80)) {
    return refuse(Refusal::kInvalidParameter,
                  "Value " + label + " for parameter Label is invalid. Reason: Can only include " +
                      "alphanumeric characters, hyphens, or underscores. 1 to 80 in length.");
  }
  if (accounts.empty()) {
    return refuse(Refusal::kMissingParameter,
                  "The request must contain the parameter AWSAccountId.");
  }
  if (actions.empty()) {
    return refuse(Refusal::kMissingParameter, "The request must contain the parameter ActionName.");
  }
  json::array principals, granted;
  for (const auto& a : accounts) {
    if (a.size() != 12 || !std::all_of(a.begin(), a.end(), ::isdigit)) {
      return refuse(Refusal::kInvalidParameter,
                    "Value " + a + " for parameter AWSAccountId is invalid. Reason: An AWS " +
                        "account id must be 12 digits.");
    }
    principals.emplace_back("arn:aws:iam::" + a + ":root");
  }
  for (const auto& a : actions) {
    if (!kActions.count(a)) {
      return refuse(Refusal::kInvalidParameter,
                    "Value SQS:" + a + " for parameter ActionName is invalid. Reason: Only the " +
                        "queue owner is allowed to invoke this action.");
    }
    granted.emplace_back("SQS:" + a);
  }
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  json::object policy;
  if (auto it = q->rec.attributes.find("Policy"); it != q->rec.attributes.end()) {
    boost::system::error_code ec;
    json::value v = json::parse(it->second, ec);
    if (!ec && v.is_object()) policy = v.as_object();
  }
  if (policy.empty()) {
    policy["Version"] = "2012-10-17";
    policy["Id"] = arn(name) + "/SQSDefaultPolicy";
  }
  if (!policy["Statement"].is_array()) {
    json::value single = policy["Statement"];
    policy["Statement"] = single.is_object() ? json::array{single} : json::array();
  }
  json::array& statements = policy["Statement"].as_array();
  for (const auto& st : statements) {
    const json::value* sid = st.is_object() ? st.as_object().if_contains("Sid") : nullptr;
    if (sid && sid->is_string() && sid->as_string() == label) {
      return refuse(Refusal::kInvalidParameter,
                    "Value " + label + " for parameter Label is invalid. Reason: Already exists.");
    }
  }
  statements.push_back(json::object{{"Sid", label},
                                    {"Effect", "Allow"},
                                    {"Principal", json::object{{"AWS", principals}}},
                                    {"Action", granted},
                                    {"Resource", arn(name)}});
  store::QueueRecord rec = q->rec;
  rec.attributes["Policy"] = json::serialize(policy);
  rec.modified_s = now() / 1000;
  return replace_record(*q, std::move(rec));
}

QueueResult<void> QueueService::remove_permission(const std::string& name,
                                                  const std::string& label) {
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  auto missing = [&] {
    return refuse(Refusal::kInvalidParameter,
                  "Value " + label + " for parameter Label is invalid. Reason: can't find label " +
                      "on existing policy.");
  };
  auto it = q->rec.attributes.find("Policy");
  if (it == q->rec.attributes.end()) return missing();
  boost::system::error_code ec;
  json::value v = json::parse(it->second, ec);
  if (ec || !v.is_object() || !v.as_object()["Statement"].is_array()) return missing();
  json::array& statements = v.as_object()["Statement"].as_array();
  auto before = statements.size();
  for (auto st = statements.begin(); st != statements.end();) {
    const json::value* sid = st->is_object() ? st->as_object().if_contains("Sid") : nullptr;
    st = sid && sid->is_string() && sid->as_string() == label ? statements.erase(st) : st + 1;
  }
  if (statements.size() == before) return missing();
  store::QueueRecord rec = q->rec;
  if (statements.empty()) {
    rec.attributes.erase("Policy");
  } else {
    rec.attributes["Policy"] = json::serialize(v);
  }
  rec.modified_s = now() / 1000;
  return replace_record(*q, std::move(rec));
}

}  // namespace lambent::queue

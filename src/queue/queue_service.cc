#include "queue/queue_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"

namespace lambent::queue {

namespace {

QueueError no_such_queue() {
  return refuse(Refusal::kNoSuchQueue, "The specified queue does not exist.");
}
QueueError store_failed(const Error& e) {
  log::error("queue store: {}", e.message);
  return refuse(Refusal::kUnavailable, "The queue store failed: " + e.message);
}

}  // namespace

Result<std::unique_ptr<QueueService>> QueueService::open(store::Store& store, NodeIdentity id) {
  std::unique_ptr<QueueService> s(new QueueService(store, std::move(id)));
  LAMBENT_TRY(queues, store.list_queues());
  for (auto& rec : queues) {
    std::string name = rec.name;
    s->queues_[name].rec = std::move(rec);
  }
  LAMBENT_TRY(messages, store.queue_messages());
  for (auto& m : messages) {
    auto it = s->queues_.find(m.queue);
    s->next_seq_ = std::max(s->next_seq_, m.seq + 1);
    if (it == s->queues_.end()) continue;
    Msg msg;
    msg.attrs = attributes_from_json(m.attributes);
    msg.md5_body = md5_hex(m.body);
    msg.m = std::move(m);
    s->insert(it->second, std::move(msg));
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
  LAMBENT_TRY_VOID(check_queue_name(name));
  std::lock_guard lock(mu_);
  auto exists = [this](const std::string& n) { return queues_.count(n) > 0; };
  auto from_arn = [this](const std::string& a) { return name_from_arn(a); };
  LAMBENT_TRY(attrs, check_attributes(attributes, exists, from_arn));
  if (auto it = queues_.find(name); it != queues_.end()) {
    // Same name: fine when every attribute given matches the queue's (defaults included).
    for (const auto& [k, v] : attrs) {
      auto cur = it->second.rec.attributes.find(k);
      std::string current = cur != it->second.rec.attributes.end() ? cur->second : "";
      if (cur == it->second.rec.attributes.end()) {
        if (const IntAttr* a = int_attr(k)) current = std::to_string(a->def);
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
  rec.created_s = now_ms() / 1000;
  rec.modified_s = rec.created_s;
  rec.attributes = std::move(attrs);
  rec.tags = tags;
  if (auto r = store_.create_queue(rec); !r) return store_failed(r.error());
  queues_[name].rec = std::move(rec);
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
    bool known = n == "All" || int_attr(n) || text_attr(n) ||
                 std::find_if(std::begin(kReadOnlyAttrs), std::end(kReadOnlyAttrs),
                              [&](const char* a) { return n == a; }) != std::end(kReadOnlyAttrs);
    if (!known) return refuse(Refusal::kUnknownAttribute, "Unknown Attribute " + n + ".");
  }
  auto want = [&](const char* n) {
    return all || std::find(names.begin(), names.end(), n) != names.end();
  };
  std::map<std::string, std::string> out;
  int64_t now = now_ms();
  if (want("ApproximateNumberOfMessages") || want("ApproximateNumberOfMessagesNotVisible") ||
      want("ApproximateNumberOfMessagesDelayed")) {
    int64_t visible = 0, in_flight = 0, delayed = 0;
    for (const auto& [seq, m] : q.msgs) {
      if (m.m.visible_ms <= now) {
        ++visible;
      } else if (m.m.receive_count > 0) {
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
  auto exists = [this](const std::string& n) { return queues_.count(n) > 0; };
  auto from_arn = [this](const std::string& a) { return name_from_arn(a); };
  LAMBENT_TRY(attrs, check_attributes(attributes, exists, from_arn));
  store::QueueRecord rec = q->rec;
  for (auto& [k, v] : attrs) {
    if (v.empty()) {
      rec.attributes.erase(k);
    } else {
      rec.attributes[k] = v;
    }
  }
  rec.modified_s = now_ms() / 1000;
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

QueueResult<QueueService::Msg> QueueService::make_message(const Queue& q, const SendInput& in,
                                                          int64_t now) {
  if (in.body.empty()) {
    return refuse(Refusal::kMissingParameter,
                  "The request must contain the parameter MessageBody.");
  }
  if (!valid_message_text(in.body)) {
    return refuse(
        Refusal::kInvalidMessageContents,
        "Invalid binary character in the message body. Only valid XML characters are allowed.");
  }
  LAMBENT_TRY_VOID(check_message_attributes(in.attributes));
  size_t size = in.body.size();
  for (const auto& [k, a] : in.attributes) {
    size += k.size() + a.data_type.size() + a.string_value.size() + a.binary_value.size();
  }
  int64_t max_size = attr_int(q, "MaximumMessageSize");
  if (static_cast<int64_t>(size) > max_size) {
    return refuse(Refusal::kInvalidParameter,
         fmt::format("One or more parameters are invalid. Reason: Message must be shorter than "
                     "{} bytes.",
                     max_size));
  }
  int64_t delay = in.delay_seconds >= 0 ? in.delay_seconds : attr_int(q, "DelaySeconds");
  if (delay > 900) {
    return refuse(Refusal::kInvalidParameter,
         fmt::format("Value {} for parameter DelaySeconds is invalid. Reason: DelaySeconds must "
                     "be >= 0 and <= 900.",
                     delay));
  }
  Msg msg;
  msg.m.queue = q.rec.name;
  msg.m.id = uuid4();
  msg.m.body = in.body;
  msg.m.attributes = attributes_to_json(in.attributes);
  msg.m.sent_ms = now;
  msg.m.visible_ms = now + delay * 1000;
  msg.attrs = in.attributes;
  msg.md5_body = md5_hex(in.body);
  return msg;
}

void QueueService::insert(Queue& q, Msg msg) {
  int64_t seq = msg.m.seq;
  q.order.emplace(msg.m.visible_ms, seq);
  q.msgs.emplace(seq, std::move(msg));
}

void QueueService::wake(Queue& q) {
  for (auto& w : q.waiters) w->wake();
  q.waiters.clear();
}

QueueResult<SendResult> QueueService::send(const std::string& name, const SendInput& in) {
  LAMBENT_TRY(r, send_batch(name, {in}));
  if (r[0].error) return std::move(*r[0].error);
  return std::move(*r[0].ok);
}

QueueResult<std::vector<QueueService::BatchItem>> QueueService::send_batch(
    const std::string& name, const std::vector<SendInput>& in) {
  std::shared_lock gate(gate_);
  std::vector<BatchItem> out(in.size());
  std::vector<Msg> made;
  store::QueueWrite w;
  {
    std::lock_guard lock(mu_);
    Queue* q = find(name);
    if (!q) return no_such_queue();
    int64_t now = now_ms();
    for (size_t i = 0; i < in.size(); ++i) {
      auto m = make_message(*q, in[i], now);
      if (!m) {
        out[i].error = m.error();
        continue;
      }
      m->m.seq = next_seq_++;
      out[i].ok = SendResult{m->m.id, m->md5_body, attributes_md5(m->attrs)};
      w.put.push_back(m->m);
      made.push_back(std::move(*m));
    }
  }
  // Durable first; only then can a receiver see the messages. The queue cannot go meanwhile
  // (DeleteQueue waits for the gate).
  LAMBENT_TRY_VOID(commit(w));
  if (!made.empty()) {
    std::lock_guard lock(mu_);
    Queue& q = *find(name);
    for (auto& m : made) insert(q, std::move(m));
    wake(q);
  }
  return out;
}

namespace {
std::string make_receipt(int64_t seq, const std::string& nonce) {
  return base64_encode(fmt::format("{}:{}", seq, nonce));
}
}  // namespace

QueueResult<std::pair<int64_t, std::string>> QueueService::parse_receipt(
    const std::string& receipt) const {
  auto raw = base64_decode(receipt);
  auto colon = raw ? raw->find(':') : std::string::npos;
  std::optional<int64_t> seq;
  if (colon != std::string::npos) seq = parse_int(raw->substr(0, colon));
  if (!seq || *seq <= 0 || raw->size() - colon - 1 != 16) {
    return refuse(Refusal::kInvalidReceipt,
                  "The input receipt handle \"" + receipt + "\" is not a valid receipt handle.");
  }
  return std::make_pair(*seq, raw->substr(colon + 1));
}

void QueueService::apply_visibility(Queue& q, Msg& msg, int64_t visible_ms) {
  q.order.erase({msg.m.visible_ms, msg.m.seq});
  msg.m.visible_ms = visible_ms;
  q.order.emplace(visible_ms, msg.m.seq);
}

QueueResult<std::vector<ReceivedMessage>> QueueService::receive(
    const std::string& name, const ReceiveInput& in, const std::shared_ptr<Waiter>& waiter,
    int64_t* next_visible_ms, int64_t* wait_seconds) {
  std::shared_lock gate(gate_);
  std::vector<ReceivedMessage> out;
  store::QueueWrite w;
  {
    std::lock_guard lock(mu_);
    Queue* found = find(name);
    if (!found) return no_such_queue();
    Queue& q = *found;
    int64_t now = now_ms();
    int64_t retention_ms = attr_int(q, "MessageRetentionPeriod") * 1000;
    int64_t visibility = in.visibility >= 0 ? in.visibility : attr_int(q, "VisibilityTimeout");
    if (in.processing_seconds > visibility) visibility = in.processing_seconds + 30;
    DeadLetter redrive = dead_letter(q);
    Queue* dlq = nullptr;
    if (redrive.max_receive > 0 && redrive.queue != name) {
      auto it = queues_.find(redrive.queue);
      if (it != queues_.end()) dlq = &it->second;
    }
    std::vector<int64_t> expired;
    std::vector<int64_t> moved;
    std::set<int64_t> taken;
    for (auto it = q.order.begin();
         it != q.order.end() && it->first <= now && out.size() < in.max;) {
      int64_t seq = it->second;
      ++it;
      if (!taken.insert(seq).second) continue;
      Msg& msg = q.msgs.at(seq);
      if (msg.m.sent_ms + retention_ms <= now) {
        w.remove.push_back(seq);
        expired.push_back(seq);
        continue;
      }
      if (dlq && msg.m.receive_count >= redrive.max_receive) {
        // Received maxReceiveCount times without being deleted: to the dead-letter queue, keeping
        // its id, body, attributes and sent time.
        store::QueueMessage row = msg.m;
        row.queue = redrive.queue;
        row.receive_count = 0;
        row.first_receive_ms = 0;
        row.receipt.clear();
        row.visible_ms = now;
        w.put.push_back(std::move(row));
        moved.push_back(seq);
        continue;
      }
      msg.m.receive_count += 1;
      if (msg.m.first_receive_ms == 0) msg.m.first_receive_ms = now;
      msg.m.receipt = hex_encode(random_bytes(8));
      apply_visibility(q, msg, now + visibility * 1000);
      w.update.push_back(
          {seq, msg.m.first_receive_ms, msg.m.receive_count, msg.m.visible_ms, msg.m.receipt});

      ReceivedMessage r;
      r.message_id = msg.m.id;
      r.receipt_handle = make_receipt(seq, msg.m.receipt);
      r.md5_body = msg.md5_body;
      r.body = msg.m.body;
      r.sent_ms = msg.m.sent_ms;
      r.first_receive_ms = msg.m.first_receive_ms;
      r.receive_count = msg.m.receive_count;
      r.all_attributes = msg.attrs;
      auto sys = [&](const char* key, std::string value) {
        if (wanted(in.attribute_names, key)) r.attributes[key] = std::move(value);
      };
      sys("SenderId", id_.account_id);
      sys("SentTimestamp", std::to_string(msg.m.sent_ms));
      sys("ApproximateReceiveCount", std::to_string(msg.m.receive_count));
      sys("ApproximateFirstReceiveTimestamp", std::to_string(msg.m.first_receive_ms));
      for (const auto& [k, a] : msg.attrs) {
        if (wanted(in.message_attribute_names, k)) r.message_attributes[k] = a;
      }
      r.md5_attributes = attributes_md5(r.message_attributes);
      out.push_back(std::move(r));
    }
    for (int64_t seq : expired) {
      auto node = q.msgs.find(seq);
      q.order.erase({node->second.m.visible_ms, seq});
      q.msgs.erase(node);
    }
    for (int64_t seq : moved) {
      auto node = q.msgs.find(seq);
      q.order.erase({node->second.m.visible_ms, seq});
      Msg msg = std::move(node->second);
      q.msgs.erase(node);
      msg.m.queue = redrive.queue;
      msg.m.receive_count = 0;
      msg.m.first_receive_ms = 0;
      msg.m.visible_ms = now;
      msg.m.receipt.clear();
      insert(*dlq, std::move(msg));
    }
    if (!moved.empty()) wake(*dlq);
    if (next_visible_ms) {
      *next_visible_ms = 0;
      if (!q.order.empty()) *next_visible_ms = q.order.begin()->first;
    }
    int64_t wait =
        in.wait_seconds >= 0 ? in.wait_seconds : attr_int(q, "ReceiveMessageWaitTimeSeconds");
    if (wait_seconds) *wait_seconds = wait;
    // Registered once: an idle poller re-registers on every empty receive until a send wakes it.
    if (out.empty() && waiter && wait > 0 &&
        std::find(q.waiters.begin(), q.waiters.end(), waiter) == q.waiters.end()) {
      q.waiters.push_back(waiter);
    }
  }
  // Memory changed first: a failed commit leaves these messages hidden until their timeout.
  LAMBENT_TRY_VOID(commit(w));
  return out;
}

void QueueService::unwatch(const std::string& name, const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(name);
  if (it == queues_.end()) return;
  auto& ws = it->second.waiters;
  ws.erase(std::remove(ws.begin(), ws.end(), waiter), ws.end());
}

void QueueService::wake_all() {
  std::lock_guard lock(mu_);
  for (auto& [name, q] : queues_) wake(q);
}

std::optional<QueueError> QueueService::delete_locked(Queue& q, const std::string& receipt,
                                                      store::QueueWrite& w) {
  auto parsed = parse_receipt(receipt);
  if (!parsed) return parsed.error();
  auto [seq, nonce] = *parsed;
  auto it = q.msgs.find(seq);
  // Gone already, or received again since this handle was issued: success, nothing deleted.
  if (it == q.msgs.end() || it->second.m.receipt != nonce) return std::nullopt;
  w.remove.push_back(seq);
  return std::nullopt;
}

QueueResult<void> QueueService::delete_message(const std::string& name,
                                               const std::string& receipt) {
  LAMBENT_TRY(r, delete_batch(name, {receipt}));
  if (r[0]) return std::move(*r[0]);
  return {};
}

template <class Entry, class One, class After>
QueueResult<std::vector<std::optional<QueueError>>> QueueService::per_message(
    const std::string& name, const std::vector<Entry>& entries, One one, After after) {
  std::shared_lock gate(gate_);
  store::QueueWrite w;
  std::vector<std::optional<QueueError>> out;
  {
    std::lock_guard lock(mu_);
    Queue* q = find(name);
    if (!q) return no_such_queue();
    for (const auto& e : entries) out.push_back(one(*q, e, w));
    after(*q, w);
  }
  // Memory changed first. A failed delete is an error to the caller (who deletes again; a
  // restart would deliver the message again); a failed visibility change stays in effect until
  // a restart.
  LAMBENT_TRY_VOID(commit(w));
  return out;
}

QueueResult<std::vector<std::optional<QueueError>>> QueueService::delete_batch(
    const std::string& name, const std::vector<std::string>& receipts) {
  auto one = [this](Queue& q, const std::string& receipt, store::QueueWrite& w) {
    return delete_locked(q, receipt, w);
  };
  auto after = [](Queue& q, store::QueueWrite& w) {
    std::sort(w.remove.begin(), w.remove.end());
    w.remove.erase(std::unique(w.remove.begin(), w.remove.end()), w.remove.end());
    for (int64_t seq : w.remove) {
      auto node = q.msgs.find(seq);
      q.order.erase({node->second.m.visible_ms, seq});
      q.msgs.erase(node);
    }
  };
  return per_message(name, receipts, one, after);
}

std::optional<QueueError> QueueService::visibility_locked(Queue& q, const std::string& receipt,
                                                          int64_t seconds, store::QueueWrite& w,
                                                          int64_t now) {
  if (seconds < 0 || seconds > 43'200) {
    return refuse(Refusal::kInvalidParameter,
                  fmt::format("Value {} for parameter VisibilityTimeout is invalid. Reason: Must "
                              "be between 0 and 43200.",
                              seconds));
  }
  auto parsed = parse_receipt(receipt);
  if (!parsed) return parsed.error();
  auto [seq, nonce] = *parsed;
  auto it = q.msgs.find(seq);
  if (it == q.msgs.end() || it->second.m.receipt != nonce) {
    return refuse(Refusal::kInvalidParameter,
                  "Value " + receipt + " for parameter ReceiptHandle is invalid. Reason: " +
                      "Message does not exist or is not available for visibility timeout change.");
  }
  Msg& msg = it->second;
  if (msg.m.visible_ms <= now) {
    return refuse(Refusal::kNotInFlight,
                  "Message does not exist or is not available for visibility timeout change.");
  }
  apply_visibility(q, msg, now + seconds * 1000);
  w.update.push_back(
      {seq, msg.m.first_receive_ms, msg.m.receive_count, msg.m.visible_ms, msg.m.receipt});
  return std::nullopt;
}

QueueResult<void> QueueService::change_visibility(const std::string& name,
                                                  const std::string& receipt, int64_t seconds) {
  LAMBENT_TRY(r, change_visibility_batch(name, {{receipt, seconds}}));
  if (r[0]) return std::move(*r[0]);
  return {};
}

QueueResult<std::vector<std::optional<QueueError>>> QueueService::change_visibility_batch(
    const std::string& name, const std::vector<std::pair<std::string, int64_t>>& entries) {
  const int64_t now = now_ms();
  auto one = [this, now](Queue& q, const std::pair<std::string, int64_t>& e, store::QueueWrite& w) {
    return visibility_locked(q, e.first, e.second, w, now);
  };
  auto after = [this, now](Queue& q, store::QueueWrite& w) {
    bool now_visible = false;
    for (const auto& u : w.update) now_visible |= u.visible_ms <= now;
    if (now_visible) wake(q);
  };
  return per_message(name, entries, one, after);
}

QueueResult<void> QueueService::purge(const std::string& name) {
  std::unique_lock gate(gate_);
  std::lock_guard lock(mu_);
  Queue* q = find(name);
  if (!q) return no_such_queue();
  int64_t now = now_ms();
  if (q->purged_ms != 0 && now - q->purged_ms < 60'000) {
    return refuse(Refusal::kPurgeInProgress,
                  "Only one PurgeQueue operation on " + name + " is allowed every 60 seconds.");
  }
  store::QueueWrite w;
  w.purge = name;
  LAMBENT_TRY_VOID(commit(w));
  // Swapped with empty ones, not cleared: clear() keeps the hash table's buckets (14 MB after a
  // soak's 1.8 million messages).
  decltype(q->msgs)().swap(q->msgs);
  q->order.clear();
  q->purged_ms = now;
  return {};
}

}  // namespace lambent::queue

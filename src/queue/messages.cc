// The queue service's message operations: sends (FIFO deduplication and sequence numbers),
// receives (visibility order, or FIFO groups), deletes and visibility changes.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "queue/internal.h"
#include "queue/queue_service.h"

namespace lambent::queue {
namespace json = boost::json;
using detail::kAttemptWindowMs;
using detail::kDedupWindowMs;
using detail::no_such_queue;
using detail::store_failed;
using detail::system_from_json;
using detail::system_to_json;

QueueResult<QueueService::Msg> QueueService::make_message(const Queue& q, const SendInput& in,
                                                          int64_t now) {
  if (in.body.empty()) {
    return refuse(Refusal::kMissingParameter,
                  "The request must contain the parameter MessageBody.");
  }
  if (auto bad = first_invalid_char(in.body)) {
    return refuse(Refusal::kInvalidMessageContents,
                  fmt::format("Invalid binary character '#x{:X}' was found in the message body, "
                              "the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF "
                              "| #xE000 to #xFFFD | #x10000 to #x10FFFF",
                              *bad));
  }
  LAMBENT_TRY_VOID(check_message_attributes(in.attributes));
  size_t size = in.body.size();
  for (const auto& [k, a] : in.attributes) {
    size += k.size() + a.data_type.size() + a.string_value.size() + a.binary_value.size();
  }
  int64_t max_size = attr_int(q, "MaximumMessageSize");
  if (static_cast<int64_t>(size) > max_size) {
    return refuse(
        Refusal::kInvalidParameter,
        fmt::format("One or more parameters are invalid. Reason: Message must be shorter than "
                    "{} bytes.",
                    max_size));
  }
  if (q.fifo && in.delay_seconds >= 0) {
    return refuse(Refusal::kInvalidParameter,
                  fmt::format("Value {} for parameter DelaySeconds is invalid. Reason: The request "
                              "include parameter that is not valid for this queue type.",
                              in.delay_seconds));
  }
  int64_t delay = in.delay_seconds >= 0 ? in.delay_seconds : attr_int(q, "DelaySeconds");
  if (delay > 900) {
    return refuse(
        Refusal::kInvalidParameter,
        fmt::format("Value {} for parameter DelaySeconds is invalid. Reason: DelaySeconds must "
                    "be >= 0 and <= 900.",
                    delay));
  }
  Msg msg;
  if (!in.group_id.empty() && !valid_fifo_token(in.group_id)) {
    return refuse(Refusal::kInvalidParameter,
                  "Value " + in.group_id + " for parameter MessageGroupId is invalid. Reason: " +
                      "MessageGroupId can only include alphanumeric and punctuation characters. 1 "
                      "to 128 in length.");
  }
  if (q.fifo) {
    if (in.group_id.empty()) {
      return refuse(Refusal::kMissingParameter,
                    "The request must contain the parameter MessageGroupId.");
    }
    std::string dedup = in.dedup_id;
    if (dedup.empty()) {
      auto cbd = q.rec.attributes.find("ContentBasedDeduplication");
      if (cbd == q.rec.attributes.end() || cbd->second != "true") {
        return refuse(Refusal::kInvalidParameter,
                      "The queue should either have ContentBasedDeduplication enabled or "
                      "MessageDeduplicationId provided explicitly");
      }
      dedup = hex_encode(as_bytes(sha256(in.body)));
    } else if (!valid_fifo_token(dedup)) {
      return refuse(Refusal::kInvalidParameter,
                    "Value " + dedup + " for parameter MessageDeduplicationId is invalid. " +
                        "Reason: MessageDeduplicationId can only include alphanumeric and " +
                        "punctuation characters. 1 to 128 in length.");
    }
    msg.system["MessageDeduplicationId"] = dedup;
    msg.group = in.group_id;
  } else if (!in.dedup_id.empty()) {
    return refuse(Refusal::kInvalidParameter,
                  "Value " + in.dedup_id + " for parameter MessageDeduplicationId is invalid. " +
                      "Reason: The request include parameter that is not valid for this queue " +
                      "type.");
  }
  if (!in.group_id.empty()) msg.system["MessageGroupId"] = in.group_id;
  if (!in.trace_header.empty()) msg.system["AWSTraceHeader"] = in.trace_header;
  msg.system["SenderId"] = in.sender_id.empty() ? id_.account_id : in.sender_id;
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

void QueueService::Held::set_nonce(std::string_view n) {
  receipt_size = static_cast<uint8_t>(std::min(n.size(), receipt.size()));
  std::copy_n(n.data(), receipt_size, receipt.data());
}

void QueueService::insert(Queue& q, Msg msg) {
  const int64_t seq = msg.m.seq;
  Held h{.text = std::pmr::string(q.memory.get())};  // not assigned: that would copy to the heap
  h.sent_ms = msg.m.sent_ms;
  h.visible_ms = msg.m.visible_ms;
  h.first_receive_ms = msg.m.first_receive_ms;
  h.receive_count = msg.m.receive_count;
  h.set_nonce(msg.m.receipt);
  const std::string* parts[] = {&msg.m.id,         &msg.md5_body, &msg.m.body,
                                &msg.m.attributes, &msg.m.system, &msg.group};
  size_t size = 0;
  for (const std::string* part : parts) size += part->size();
  h.text.reserve(size);
  for (size_t i = 0; i < std::size(parts); ++i) {
    h.text += *parts[i];
    if (i < h.ends.size()) h.ends[i] = static_cast<uint32_t>(h.text.size());
  }
  q.order.emplace(h.visible_ms, seq);
  if (q.fifo) {
    auto g = q.groups.find(std::string_view(msg.group));
    if (g == q.groups.end()) {
      g = q.groups.try_emplace(std::pmr::string(msg.group, q.memory.get())).first;
    }
    auto& group = g->second;
    if (!group.empty() && *group.begin() > seq) q.heads.erase(*group.begin());
    if (group.empty() || *group.begin() > seq) q.heads.insert(seq);
    group.insert(seq);
  }
  q.msgs.emplace(seq, std::move(h));
}

QueueService::Msg QueueService::unpack(const Queue& q, int64_t seq, const Held& h) const {
  Msg msg;
  msg.m.seq = seq;
  msg.m.queue = q.rec.name;
  msg.m.id = h.id();
  msg.m.body = h.body();
  msg.m.attributes = h.attributes();
  msg.m.sent_ms = h.sent_ms;
  msg.m.first_receive_ms = h.first_receive_ms;
  msg.m.receive_count = h.receive_count;
  msg.m.visible_ms = h.visible_ms;
  msg.m.receipt = h.nonce();
  msg.m.system = h.system();
  msg.md5_body = h.md5_body();
  msg.system = system_from_json(h.system());
  msg.group = h.group();
  return msg;
}

QueueService::Msg QueueService::take_out(Queue& q, int64_t seq) {
  Msg msg = unpack(q, seq, q.msgs.at(seq));
  erase(q, seq);
  return msg;
}

void QueueService::erase(Queue& q, int64_t seq) {
  auto node = q.msgs.find(seq);
  if (node == q.msgs.end()) return;
  const Held& h = node->second;
  q.order.erase({h.visible_ms, seq});
  if (q.fifo) {
    auto group = q.groups.find(h.group());
    if (group != q.groups.end()) {
      auto& seqs = group->second;
      if (*seqs.begin() == seq) q.heads.erase(seq);
      seqs.erase(seq);
      if (seqs.empty()) {
        q.groups.erase(group);
      } else if (*seqs.begin() > seq) {
        q.heads.insert(*seqs.begin());
      }
    }
  }
  q.msgs.erase(node);
  release(q, false);
}

void QueueService::release(Queue& q, bool force) {
  if (!force && (!q.msgs.empty() || !q.memory->grown())) return;
  // Swapped with empty containers on the same memory: the old ones, hash buckets and all, are
  // gone before the memory is reset.
  Memory* memory = q.memory.get();
  decltype(q.msgs)(memory).swap(q.msgs);
  decltype(q.order)(memory).swap(q.order);
  decltype(q.groups)(memory).swap(q.groups);
  decltype(q.heads)(memory).swap(q.heads);
  memory->reset();
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
  std::vector<std::string> dedup_keys;  // entered now; taken back if the commit fails
  store::QueueWrite w;
  {
    std::lock_guard lock(mu_);
    Queue* q = find(name);
    if (!q) return no_such_queue();
    int64_t now = this->now();
    if (q->fifo && now - q->dedup_pruned_ms > 60'000) {
      // Expired deduplication entries go, from memory and (in this write) from the store.
      std::erase_if(q->dedup, [now](const auto& d) { return d.second.expires_ms <= now; });
      std::erase_if(q->attempts, [now](const auto& a) { return a.second.expires_ms <= now; });
      w.dedup_prune_queue = name;
      w.dedup_expired_ms = now;
      q->dedup_pruned_ms = now;
    }
    const bool by_group = q->fifo && [&] {
      auto it = q->rec.attributes.find("DeduplicationScope");
      return it != q->rec.attributes.end() && it->second == "messageGroup";
    }();
    for (size_t i = 0; i < in.size(); ++i) {
      auto m = make_message(*q, in[i], now);
      if (!m) {
        out[i].error = m.error();
        continue;
      }
      std::string key;
      if (q->fifo) {
        key = (by_group ? m->group + "\n" : "") + m->system["MessageDeduplicationId"];
        auto seen = q->dedup.find(key);
        if (seen != q->dedup.end() && seen->second.expires_ms > now) {
          // A duplicate within the window: accepted, not delivered again; the first send's
          // MessageId and SequenceNumber answer it.
          out[i].ok = SendResult{seen->second.message_id, m->md5_body, attributes_md5(m->attrs),
                                 seen->second.sequence};
          continue;
        }
      }
      m->m.seq = next_seq_++;
      out[i].ok = SendResult{m->m.id, m->md5_body, attributes_md5(m->attrs), ""};
      if (q->fifo) {
        std::string sequence = fmt::format("{:020d}", m->m.seq);
        m->system["SequenceNumber"] = sequence;
        out[i].ok->sequence_number = sequence;
        Dedup d{m->m.id, sequence, now + kDedupWindowMs};
        q->dedup[key] = d;
        dedup_keys.push_back(key);
        w.dedup.push_back({name, key, d.message_id, d.sequence, d.expires_ms});
      }
      m->m.system = system_to_json(m->system);
      w.put.push_back(m->m);
      made.push_back(std::move(*m));
    }
  }
  // Durable first; only then can a receiver see the messages. The queue cannot go meanwhile
  // (DeleteQueue waits for the gate). The deduplication entries are in the same transaction.
  if (auto r = commit(w); !r) {
    std::lock_guard lock(mu_);
    if (Queue* q = find(name)) {
      for (const auto& k : dedup_keys) q->dedup.erase(k);
    }
    return r.error();
  }
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

void QueueService::apply_visibility(Queue& q, int64_t seq, Held& msg, int64_t visible_ms) {
  q.order.erase({msg.visible_ms, seq});
  msg.visible_ms = visible_ms;
  q.order.emplace(visible_ms, seq);
}

ReceivedMessage QueueService::delivered(int64_t seq, const Held& msg,
                                        const ReceiveInput& in) const {
  ReceivedMessage r;
  r.message_id = msg.id();
  r.receipt_handle = make_receipt(seq, std::string(msg.nonce()));
  r.md5_body = msg.md5_body();
  r.body = msg.body();
  r.sent_ms = msg.sent_ms;
  r.first_receive_ms = msg.first_receive_ms;
  r.receive_count = msg.receive_count;
  if (msg.attributes() != "{}") r.all_attributes = attributes_from_json(msg.attributes());
  r.all_system = system_from_json(msg.system());
  r.all_system["SentTimestamp"] = std::to_string(msg.sent_ms);
  r.all_system["ApproximateReceiveCount"] = std::to_string(msg.receive_count);
  r.all_system["ApproximateFirstReceiveTimestamp"] = std::to_string(msg.first_receive_ms);
  for (const auto& [k, v] : r.all_system) {
    if (wanted(in.attribute_names, k)) r.attributes[k] = v;
  }
  for (const auto& [k, a] : r.all_attributes) {
    if (wanted(in.message_attribute_names, k)) r.message_attributes[k] = a;
  }
  r.md5_attributes = attributes_md5(r.message_attributes);
  return r;
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
    int64_t now = this->now();
    // FIFO: the same attempt again, while its messages are still in flight under the receipts it
    // got, answers the same messages.
    if (q.fifo && !in.attempt_id.empty()) {
      auto a = q.attempts.find(in.attempt_id);
      if (a != q.attempts.end() && a->second.expires_ms > now) {
        bool same = true;
        for (const auto& [seq, nonce] : a->second.taken) {
          auto m = q.msgs.find(seq);
          same =
              same && m != q.msgs.end() && m->second.nonce() == nonce && m->second.visible_ms > now;
        }
        if (same) {
          for (const auto& [seq, nonce] : a->second.taken) {
            out.push_back(delivered(seq, q.msgs.at(seq), in));
          }
          return out;
        }
      }
    }
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
    std::vector<int64_t> received;
    // A visible message: gone (retention), to the dead-letter queue (received maxReceiveCount
    // times without being deleted, keeping its id, body, attributes and sent time), or received.
    auto take = [&](int64_t seq, Held& msg) {
      if (msg.sent_ms + retention_ms <= now) {
        w.remove.push_back(seq);
        expired.push_back(seq);
        return;
      }
      if (dlq && msg.receive_count >= redrive.max_receive) {
        Msg full = unpack(q, seq, msg);
        store::QueueMessage row = std::move(full.m);
        row.queue = redrive.queue;
        row.receive_count = 0;
        row.first_receive_ms = 0;
        row.receipt.clear();
        row.visible_ms = now;
        full.system["DeadLetterQueueSourceArn"] = arn(name);
        row.system = system_to_json(full.system);
        w.put.push_back(std::move(row));
        moved.push_back(seq);
        return;
      }
      msg.receive_count += 1;
      if (msg.first_receive_ms == 0) msg.first_receive_ms = now;
      std::string nonce = hex_encode(random_bytes(8));
      msg.set_nonce(nonce);
      apply_visibility(q, seq, msg, now + visibility * 1000);
      w.update.push_back(
          {seq, msg.first_receive_ms, msg.receive_count, msg.visible_ms, std::move(nonce)});
      received.push_back(seq);
      out.push_back(delivered(seq, msg, in));
    };
    if (!q.fifo) {
      std::set<int64_t> seen;
      for (auto it = q.order.begin();
           it != q.order.end() && it->first <= now && out.size() < in.max;) {
        int64_t seq = it->second;
        ++it;
        if (seen.insert(seq).second) take(seq, q.msgs.at(seq));
      }
    } else {
      // Groups by their oldest message; within a group, in order, stopping at the first message
      // not visible (in flight, or delayed): a group waits while an earlier message is in flight.
      // take() changes visibility only (moves and expiries are applied after the loop), so the
      // groups and their order can be walked as they are.
      for (int64_t head : q.heads) {
        if (out.size() >= in.max) break;
        const Held& first = q.msgs.at(head);
        if (first.visible_ms > now) continue;  // in flight or delayed: it waits
        for (int64_t seq : q.groups.find(first.group())->second) {
          if (out.size() >= in.max) break;
          Held& msg = q.msgs.at(seq);
          if (msg.visible_ms > now) break;
          take(seq, msg);
        }
      }
      if (!in.attempt_id.empty() && !received.empty()) {
        Attempt a;
        a.expires_ms = now + kAttemptWindowMs;
        for (int64_t seq : received) {
          a.taken.emplace_back(seq, std::string(q.msgs.at(seq).nonce()));
        }
        q.attempts[in.attempt_id] = std::move(a);
      }
    }
    for (int64_t seq : expired) erase(q, seq);
    for (int64_t seq : moved) {
      Msg msg = take_out(q, seq);
      msg.m.queue = redrive.queue;
      msg.m.receive_count = 0;
      msg.m.first_receive_ms = 0;
      msg.m.visible_ms = now;
      msg.m.receipt.clear();
      msg.system["DeadLetterQueueSourceArn"] = arn(name);
      msg.m.system = system_to_json(msg.system);
      if (!dlq->fifo) msg.group.clear();
      insert(*dlq, std::move(msg));
    }
    if (!moved.empty()) wake(*dlq);
    if (next_visible_ms) {
      // When a message may next become deliverable on its own. FIFO: only a group's first
      // message counts (the others wait for it; a delete wakes the waiters).
      *next_visible_ms = 0;
      if (!q.fifo && !q.order.empty()) *next_visible_ms = q.order.begin()->first;
      for (int64_t head : q.heads) {
        int64_t at = q.msgs.at(head).visible_ms;
        if (*next_visible_ms == 0 || at < *next_visible_ms) *next_visible_ms = at;
      }
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
  if (it == q.msgs.end() || it->second.nonce() != nonce) return std::nullopt;
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
  auto after = [this](Queue& q, store::QueueWrite& w) {
    std::sort(w.remove.begin(), w.remove.end());
    w.remove.erase(std::unique(w.remove.begin(), w.remove.end()), w.remove.end());
    for (int64_t seq : w.remove) erase(q, seq);
    // FIFO: a deleted message may have been what its group waited for.
    if (q.fifo && !w.remove.empty()) wake(q);
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
  if (it == q.msgs.end() || it->second.nonce() != nonce) {
    return refuse(Refusal::kInvalidParameter,
                  "Value " + receipt + " for parameter ReceiptHandle is invalid. Reason: " +
                      "Message does not exist or is not available for visibility timeout change.");
  }
  Held& msg = it->second;
  if (msg.visible_ms <= now) {
    return refuse(Refusal::kNotInFlight,
                  "Message does not exist or is not available for visibility timeout change.");
  }
  apply_visibility(q, seq, msg, now + seconds * 1000);
  w.update.push_back(
      {seq, msg.first_receive_ms, msg.receive_count, msg.visible_ms, std::string(msg.nonce())});
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
  const int64_t now = this->now();
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

}  // namespace lambent::queue

// The built-in queues: standard and FIFO SQS queues held in memory and written through to the
// store, so that an acknowledged send, delete or receive survives kill -9 (compat §5; SQS
// semantics: visibility timeouts, delays, receive counts, retention, redrive to a dead-letter queue
// after maxReceiveCount; FIFO queues: order per message group — a group's messages wait while an
// earlier one is in flight —, deduplication within 5 minutes by id or content, sequence numbers,
// receive attempt ids). The SQS wire protocols live in services/sqs; the async dispatcher and the
// event source mappings call this service directly.
// Thread: any. Calls block on the store (they belong on the worker pool). One mutex guards the
// memory; it is not held while the store commits, so concurrent calls share one group commit
// (sends reach memory only once durable; receives, deletes and visibility changes change memory
// first). Purge and DeleteQueue exclude everything else. A receiver that found nothing may
// register a Waiter, woken when a message arrives.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <functional>
#include "base/error.h"
#include "base/node.h"
#include "base/time.h"
#include "queue/memory.h"
#include "queue/rules.h"
#include "store/store.h"

namespace lambent::queue {

struct SendInput {
  std::string body;
  int64_t delay_seconds = -1;  // -1: the queue's DelaySeconds (FIFO queues refuse any other)
  MessageAttributes attributes;
  std::string group_id;      // MessageGroupId: required on FIFO queues
  std::string dedup_id;      // MessageDeduplicationId (FIFO)
  std::string trace_header;  // AWSTraceHeader (MessageSystemAttributes or X-Amzn-Trace-Id)
  std::string sender_id;     // SenderId ("" = the account)
};

struct SendResult {
  std::string message_id;
  std::string md5_body;
  std::string md5_attributes;  // "" when the message has no attributes
  std::string sequence_number;  // FIFO
};

struct ReceiveInput {
  size_t max = 1;
  int64_t visibility = -1;  // seconds; -1: the queue's VisibilityTimeout
  // Lambda's pollers: when the queue's VisibilityTimeout is shorter than the time a batch may
  // take (batching window + function timeout), messages stay hidden that long plus 30 s.
  int64_t processing_seconds = 0;
  // Long polling: seconds the caller will wait; -1 for the queue's ReceiveMessageWaitTimeSeconds.
  // A waiter is registered only when nothing was received and this is above 0.
  int64_t wait_seconds = -1;
  std::vector<std::string> attribute_names;          // system attributes wanted ("All")
  std::vector<std::string> message_attribute_names;  // "All", ".*", "prefix.*" or names
  // FIFO: a retried receive with the same id (within 5 minutes) gets the same messages and
  // receipt handles while they are still in flight.
  std::string attempt_id;
};

struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string md5_body;
  std::string body;
  std::map<std::string, std::string> attributes;  // system attributes asked for
  MessageAttributes message_attributes;           // those asked for
  std::string md5_attributes;                     // of message_attributes; "" when none
  // Always filled (for event source mappings, which give every attribute).
  int64_t sent_ms = 0;
  int64_t first_receive_ms = 0;
  int64_t receive_count = 0;
  MessageAttributes all_attributes;
  std::map<std::string, std::string> all_system;  // every system attribute the message has
};

// Woken (from any thread, under the service's lock) when a message may have become available.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void wake() = 0;
};

class QueueService final {
 public:
  // Loads every queue and message from the store.
  static Result<std::unique_ptr<QueueService>> open(store::Store& store, NodeIdentity id);

  const NodeIdentity& identity() const { return id_; }
  std::string arn(const std::string& name) const;
  // The queue name in arn:aws:sqs:<region>:<account>:<name>, or "" when it is not such an ARN.
  std::string name_from_arn(const std::string& arn) const;

  // Everything below returns a QueueError for what SQS refuses (and kUnavailable when the store
  // fails). The store is written before memory changes.
  // Creates a queue, or confirms an existing one with the same attributes.
  QueueResult<void> create_queue(const std::string& name,
                                 const std::map<std::string, std::string>& attributes,
                                 const std::map<std::string, std::string>& tags);
  QueueResult<void> delete_queue(const std::string& name);
  bool exists(const std::string& name) const;
  std::vector<std::string> list_queues(const std::string& prefix) const;
  // `names` may hold "All". Unknown names are kUnknownAttribute.
  QueueResult<std::map<std::string, std::string>> get_attributes(
      const std::string& name, const std::vector<std::string>& names) const;
  QueueResult<void> set_attributes(const std::string& name,
                                   const std::map<std::string, std::string>& attributes);
  QueueResult<std::map<std::string, std::string>> tags(const std::string& name) const;
  QueueResult<void> tag(const std::string& name, const std::map<std::string, std::string>& tags);
  QueueResult<void> untag(const std::string& name, const std::vector<std::string>& keys);
  // Queues whose RedrivePolicy targets this one.
  QueueResult<std::vector<std::string>> dead_letter_sources(const std::string& name) const;

  // One message, or a batch stored in one transaction. A batch's per-entry refusals are
  // returned in place of their results; the queue itself missing fails the whole batch.
  QueueResult<SendResult> send(const std::string& name, const SendInput& in);
  struct BatchItem {
    std::optional<SendResult> ok;
    std::optional<QueueError> error;
  };
  QueueResult<std::vector<BatchItem>> send_batch(const std::string& name,
                                                 const std::vector<SendInput>& in);

  // Up to in.max visible messages, hidden for the visibility timeout. When none is available,
  // `waiter` is given and the wait (in.wait_seconds, reported in `wait_seconds`) is above 0, it is
  // registered to be woken by the next send (or visibility change); `next_visible_ms` then says
  // when a hidden message reappears on its own (0: none).
  QueueResult<std::vector<ReceivedMessage>> receive(const std::string& name,
                                                    const ReceiveInput& in,
                                                    const std::shared_ptr<Waiter>& waiter,
                                                    int64_t* next_visible_ms,
                                                    int64_t* wait_seconds = nullptr);
  void unwatch(const std::string& name, const std::shared_ptr<Waiter>& waiter);
  // Wakes every waiting receiver (server shutdown: long polls end at once).
  void wake_all();

  // A stale receipt handle (the message was received again since) succeeds without deleting,
  // as on SQS. Returns per-handle errors for batches (nullopt = done).
  QueueResult<void> delete_message(const std::string& name, const std::string& receipt);
  QueueResult<std::vector<std::optional<QueueError>>> delete_batch(
      const std::string& name, const std::vector<std::string>& receipts);
  QueueResult<void> change_visibility(const std::string& name, const std::string& receipt,
                                      int64_t seconds);
  QueueResult<std::vector<std::optional<QueueError>>> change_visibility_batch(
      const std::string& name, const std::vector<std::pair<std::string, int64_t>>& entries);
  QueueResult<void> purge(const std::string& name);
  // The queue's Policy edited as SQS's AddPermission/RemovePermission do: a statement per label
  // (Sid) allowing the accounts the actions ("SendMessage" → "SQS:SendMessage", "*").
  QueueResult<void> add_permission(const std::string& name, const std::string& label,
                                   const std::vector<std::string>& accounts,
                                   const std::vector<std::string>& actions);
  QueueResult<void> remove_permission(const std::string& name, const std::string& label);

  // Bytes a queue's messages hold mapped (its Memory); 0 when there is no such queue.
  size_t memory_bytes(const std::string& name) const;

  // Tests: the clock the deduplication window and receive attempts are measured with.
  void set_clock(std::function<int64_t()> clock) { clock_ = std::move(clock); }

 private:
  // A message being made, moved or taken out. `attrs` is filled only for a send (its MD5 is
  // answered); otherwise the attributes are m.attributes' JSON, as held and stored.
  struct Msg {
    store::QueueMessage m;
    MessageAttributes attrs;
    std::string md5_body;
    std::map<std::string, std::string> system;  // parsed from m.system
    std::string group;                          // FIFO: its MessageGroupId
  };
  // A message as its queue holds it, in the queue's Memory: what receives and visibility changes
  // alter inline, the rest as text in one block (attributes and system attributes stay JSON
  // until delivered). The seq is its key.
  struct Held {
    int64_t sent_ms = 0;
    int64_t visible_ms = 0;
    int64_t first_receive_ms = 0;
    int64_t receive_count = 0;
    std::pmr::string text;           // id, MD5 of the body, body, attributes, system, group
    std::array<uint32_t, 5> ends{};  // where each part but the last (group) ends
    std::array<char, 16> receipt{};  // the latest receipt's nonce (16 hex digits or none)
    uint8_t receipt_size = 0;
    std::string_view part(size_t i) const {
      size_t from = i == 0 ? 0 : ends[i - 1];
      return std::string_view(text).substr(from, (i < ends.size() ? ends[i] : text.size()) - from);
    }
    std::string_view id() const { return part(0); }
    std::string_view md5_body() const { return part(1); }
    std::string_view body() const { return part(2); }
    std::string_view attributes() const { return part(3); }
    std::string_view system() const { return part(4); }
    std::string_view group() const { return part(5); }
    std::string_view nonce() const { return {receipt.data(), receipt_size}; }
    void set_nonce(std::string_view n);
  };
  struct GroupHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Dedup {
    std::string message_id;
    std::string sequence;
    int64_t expires_ms = 0;
  };
  struct Attempt {
    std::vector<std::pair<int64_t, std::string>> taken;  // (seq, receipt nonce)
    int64_t expires_ms = 0;
  };
  struct Queue {
    Queue();
    store::QueueRecord rec;
    // The messages, their order and FIFO groups live in `memory` (released when they are gone).
    std::unique_ptr<Memory> memory;
    std::pmr::unordered_map<int64_t, Held> msgs;
    std::pmr::set<std::pair<int64_t, int64_t>> order;  // (visible_ms, seq)
    std::vector<std::shared_ptr<Waiter>> waiters;
    int64_t purged_ms = 0;
    // FIFO: each group's messages in order, the groups' first messages (each group's
    // MessageGroupId is that message's), the deduplication window and recent receive attempts.
    bool fifo = false;
    std::pmr::unordered_map<std::pmr::string, std::pmr::set<int64_t>, GroupHash, std::equal_to<>>
        groups;
    std::pmr::set<int64_t> heads;
    std::unordered_map<std::string, Dedup> dedup;
    int64_t dedup_pruned_ms = 0;
    std::unordered_map<std::string, Attempt> attempts;
  };
  int64_t now() const { return clock_ ? clock_() : now_ms(); }
  // Removes a message from memory (order, its group) and hands it back; the message must exist.
  Msg take_out(Queue& q, int64_t seq);
  void erase(Queue& q, int64_t seq);  // the same, for a message that may be gone already
  // Gives a queue's memory back once it holds no message (always, when `force`: purge).
  void release(Queue& q, bool force);
  // A held message as a Msg (its `attrs` left empty).
  Msg unpack(const Queue& q, int64_t seq, const Held& h) const;
  // A received message as the caller sees it.
  ReceivedMessage delivered(int64_t seq, const Held& h, const ReceiveInput& in) const;

  QueueService(store::Store& store, NodeIdentity id) : store_(store), id_(std::move(id)) {}
  Queue* find(const std::string& name);  // nullptr when there is no such queue
  const Queue* find(const std::string& name) const;
  int64_t attr_int(const Queue& q, const std::string& key) const;
  // The queue's RedrivePolicy: its target queue's name ("" when none) and maxReceiveCount.
  struct DeadLetter {
    std::string queue;
    int64_t max_receive = 0;
  };
  DeadLetter dead_letter(const Queue& q) const;
  // Checks a message and turns it into a stored row (seq assigned).
  QueueResult<Msg> make_message(const Queue& q, const SendInput& in, int64_t now);
  void insert(Queue& q, Msg msg);
  void wake(Queue& q);
  QueueResult<void> commit(const store::QueueWrite& w);
  // Writes a queue's changed record, then keeps it.
  QueueResult<void> replace_record(Queue& q, store::QueueRecord rec);
  // Parses a receipt handle: the message's seq and nonce; kInvalidReceipt when malformed.
  QueueResult<std::pair<int64_t, std::string>> parse_receipt(const std::string& receipt) const;
  std::optional<QueueError> delete_locked(Queue& q, const std::string& receipt,
                                          store::QueueWrite& w);
  std::optional<QueueError> visibility_locked(Queue& q, const std::string& receipt, int64_t seconds,
                                              store::QueueWrite& w, int64_t now);
  void apply_visibility(Queue& q, int64_t seq, Held& msg, int64_t visible_ms);
  // A batch of changes to messages: `one(queue, entry, write)` for each entry under the lock,
  // then `after(queue, write)`; the write is committed last. Per-entry refusals come back in
  // order.
  template <class Entry, class One, class After>
  QueueResult<std::vector<std::optional<QueueError>>> per_message(const std::string& name,
                                                                  const std::vector<Entry>& entries,
                                                                  One one, After after);

  store::Store& store_;
  NodeIdentity id_;
  std::shared_mutex gate_;  // shared: message operations; exclusive: purge, delete queue
  mutable std::mutex mu_;
  std::map<std::string, Queue> queues_;
  int64_t next_seq_ = 1;
  std::function<int64_t()> clock_;
};

}  // namespace lambent::queue

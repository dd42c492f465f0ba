// What the built-in queues (SQS-compatible) and the event source mappings keep in the store.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lambent::store {

struct QueueRecord {
  std::string name;
  int64_t created_s = 0;
  int64_t modified_s = 0;
  // The settable attributes as last set (VisibilityTimeout, RedrivePolicy, ...); defaults are
  // filled in by the queue service, not stored.
  std::map<std::string, std::string> attributes;
  std::map<std::string, std::string> tags;
};

struct QueueMessage {
  int64_t seq = 0;          // the queue service's order of arrival; unique across queues
  std::string queue;
  std::string id;           // MessageId
  std::string body;
  std::string attributes;   // message attributes, JSON ({} when none)
  int64_t sent_ms = 0;
  int64_t first_receive_ms = 0;
  int64_t receive_count = 0;
  int64_t visible_ms = 0;   // hidden (delayed or in flight) until then
  std::string receipt;      // nonce of the latest receipt handle ("" before the first receive)
  // System attributes beyond the columns above, JSON ("" when none): FIFO's MessageGroupId,
  // MessageDeduplicationId and SequenceNumber, AWSTraceHeader, SenderId,
  // DeadLetterQueueSourceArn.
  std::string system;
};

// A FIFO queue's deduplication entry: a MessageDeduplicationId (prefixed with the group under
// DeduplicationScope messageGroup) seen within the 5-minute window, and what its send answered.
struct DedupRecord {
  std::string queue;
  std::string key;
  std::string message_id;
  std::string sequence;
  int64_t expires_ms = 0;
  bool operator==(const DedupRecord&) const = default;
};

// The state a receive or a visibility change moves a message to.
struct MessageState {
  int64_t seq = 0;
  int64_t first_receive_ms = 0;
  int64_t receive_count = 0;
  int64_t visible_ms = 0;
  std::string receipt;
};

// Changes to messages committed in one transaction.
struct QueueWrite {
  std::vector<QueueMessage> put;      // new messages (or moved ones: a redrive removes and puts)
  std::vector<MessageState> update;
  std::vector<int64_t> remove;        // by seq
  std::string purge;                  // every message of this queue goes
  std::vector<DedupRecord> dedup;     // deduplication entries written with the sends
  // Deduplication entries of this queue that expired before `dedup_expired_ms` go.
  std::string dedup_prune_queue;
  int64_t dedup_expired_ms = 0;
  bool empty() const {
    return put.empty() && update.empty() && remove.empty() && purge.empty() && dedup.empty() &&
           dedup_prune_queue.empty();
  }
};

// An event source mapping: its identity and its configuration as JSON (the poller's own format).
struct EventSourceMappingRecord {
  std::string uuid;
  std::string config;
};

}  // namespace lambent::store

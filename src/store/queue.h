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
  bool empty() const { return put.empty() && update.empty() && remove.empty() && purge.empty(); }
};

// An event source mapping: its identity and its configuration as JSON (the poller's own format).
struct EventSourceMappingRecord {
  std::string uuid;
  std::string config;
};

}  // namespace lambent::store

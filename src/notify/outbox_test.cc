#include "notify/outbox.h"

#include <gtest/gtest.h>

#include <set>

#include "base/codec.h"
#include "base/time.h"
#include "store/sqlite_store.h"

namespace lambent::notify {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::SqliteStore::open(":memory:", cipher_);
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    auto q = queue::QueueService::open(*store_, {"us-east-1", "000000000000"});
    ASSERT_TRUE(q);
    queues_ = std::move(*q);
    ASSERT_TRUE(queues_->create_queue("sink", {}, {}));
  }
  static store::AsyncEvent delivery(std::string target, std::string payload, std::string delivery) {
    store::AsyncEvent e;
    e.id = uuid4();
    e.function = std::move(target);
    e.payload = std::move(payload);
    e.delivery = std::move(delivery);
    return e;
  }
  std::vector<queue::ReceivedMessage> receive(const std::string& name) {
    queue::ReceiveInput in;
    in.max = 10;
    in.visibility = 30;
    in.message_attribute_names = {"All"};
    return queues_->receive(name, in, nullptr, nullptr).value();
  }
  std::vector<store::AsyncEvent> stored() { return store_->due_events(now_ms() + 1, 100).value(); }

  Cipher cipher_{random_bytes(32)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<queue::QueueService> queues_;
  std::vector<store::AsyncEvent> submitted_;
};

TEST_F(OutboxTest, QueueDeliveriesAreSentAtOnceAndNotStored) {
  Outbox outbox(*store_, queues_.get(),
                [this](std::vector<store::AsyncEvent> e) { submitted_ = std::move(e); });
  const std::string sink = "arn:aws:sqs:us-east-1:000000000000:sink";
  ASSERT_TRUE(outbox.post(
      {delivery(sink, "first",
                R"({"kind":"queue","attributes":{"a":{"DataType":"String","StringValue":"x"}}})"),
       delivery(sink, "second", R"({"kind":"queue"})"),
       // A target's dead-letter queue gets a plain message.
       delivery(sink, "plain", "")}));
  auto got = receive("sink");
  ASSERT_EQ(got.size(), 3u);
  std::multiset<std::string> bodies;
  for (const auto& m : got) bodies.insert(m.body);
  EXPECT_EQ(bodies, (std::multiset<std::string>{"first", "second", "plain"}));
  for (const auto& m : got) {
    if (m.body == "first") {
      ASSERT_EQ(m.message_attributes.count("a"), 1u);
      EXPECT_EQ(m.message_attributes.at("a").string_value, "x");
    }
  }
  EXPECT_TRUE(stored().empty());
  EXPECT_TRUE(submitted_.empty());
}

TEST_F(OutboxTest, WhatAQueueCannotTakeAndOtherKindsAreStoredForTheDispatcher) {
  Outbox outbox(*store_, queues_.get(),
                [this](std::vector<store::AsyncEvent> e) { submitted_ = std::move(e); });
  const std::string sink = "arn:aws:sqs:us-east-1:000000000000:sink";
  ASSERT_TRUE(outbox.post({
      delivery(sink, "taken", R"({"kind":"queue"})"),
      // The queue is gone: the dispatcher dead-letters it by the delivery's rules.
      delivery("arn:aws:sqs:us-east-1:000000000000:gone", "orphan", R"({"kind":"queue"})"),
      // SQS refuses the body (a character outside its set): the same.
      delivery(sink, std::string("bad\x01", 4), R"({"kind":"queue"})"),
      delivery("fn", "{}", R"({"kind":"lambda"})"),
      delivery("http://127.0.0.1:9/", "n", R"({"kind":"http"})"),
  }));
  auto got = receive("sink");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "taken");
  auto left = stored();
  std::multiset<std::string> payloads;
  for (const auto& e : left) payloads.insert(e.payload);
  EXPECT_EQ(payloads, (std::multiset<std::string>{"orphan", std::string("bad\x01", 4), "{}", "n"}));
  EXPECT_EQ(submitted_.size(), 4u);
}

TEST_F(OutboxTest, WithoutQueuesEverythingIsStored) {
  Outbox outbox(*store_, nullptr, nullptr);
  ASSERT_TRUE(outbox.post(
      {delivery("arn:aws:sqs:us-east-1:000000000000:sink", "m", R"({"kind":"queue"})")}));
  EXPECT_TRUE(receive("sink").empty());
  EXPECT_EQ(stored().size(), 1u);
}

}  // namespace
}  // namespace lambent::notify

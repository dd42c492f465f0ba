#include "queue/queue_service.h"

#include <gtest/gtest.h>

#include <map>

#include "base/codec.h"
#include "store/sqlite_store.h"

namespace lambent::queue {
namespace {

class CountingWaiter final : public Waiter {
 public:
  void wake() override { ++wakes; }
  int wakes = 0;
};

class QueueServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::SqliteStore::open(":memory:", cipher_);
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    reopen();
  }
  void reopen() {
    auto q = QueueService::open(*store_, {"us-east-1", "000000000000"});
    ASSERT_TRUE(q);
    queues_ = std::move(*q);
  }
  std::vector<ReceivedMessage> receive(const std::string& name, size_t max, int64_t visibility) {
    ReceiveInput in;
    in.max = max;
    in.visibility = visibility;
    in.attribute_names = {"All"};
    return queues_->receive(name, in, nullptr, nullptr).value();
  }
  // The refusal of a call that must fail.
  template <class T>
  static std::optional<Refusal> refusal(const QueueResult<T>& r) {
    if (r) return std::nullopt;
    return r.error().code;
  }

  Cipher cipher_{random_bytes(32)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<QueueService> queues_;
};

TEST_F(QueueServiceTest, AttributesMd5MatchesAwsDocumentedEncoding) {
  // Computed independently (tests/e2e/test_sqs.py implements the same algorithm in Python and
  // checks it against boto3's round trip); here the byte layout itself is pinned.
  MessageAttributes a{{"k", {"String", "v", ""}}};
  std::string buf = std::string("\0\0\0\1k", 5) + std::string("\0\0\0\6String", 10) + '\1' +
                    std::string("\0\0\0\1v", 5);
  EXPECT_EQ(attributes_md5(a), md5_hex(buf));
  EXPECT_EQ(attributes_md5({}), "");
}

TEST_F(QueueServiceTest, ReceiveHidesAndStaleReceiptsDeleteNothing) {
  ASSERT_TRUE(queues_->create_queue("q", {}, {}));
  ASSERT_TRUE(queues_->send("q", {"hello", -1, {}}));
  auto first = receive("q", 10, 0);  // visible again at once
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].receive_count, 1);
  auto second = receive("q", 10, 30);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].receive_count, 2);
  EXPECT_NE(first[0].receipt_handle, second[0].receipt_handle);
  EXPECT_TRUE(receive("q", 10, 30).empty());
  // The first handle is stale: success, nothing deleted; it cannot change visibility either.
  ASSERT_TRUE(queues_->delete_message("q", first[0].receipt_handle));
  EXPECT_EQ(queues_->get_attributes("q", {"ApproximateNumberOfMessagesNotVisible"})
                .value()
                .at("ApproximateNumberOfMessagesNotVisible"),
            "1");
  EXPECT_EQ(refusal(queues_->change_visibility("q", first[0].receipt_handle, 0)),
            Refusal::kInvalidParameter);
  EXPECT_EQ(refusal(queues_->delete_message("q", "garbage")), Refusal::kInvalidReceipt);
  // The current one works, also after the service is rebuilt from the store.
  reopen();
  ASSERT_TRUE(queues_->delete_message("q", second[0].receipt_handle));
  EXPECT_EQ(queues_->get_attributes("q", {"All"}).value().at("ApproximateNumberOfMessagesNotVisible"), "0");
}

TEST_F(QueueServiceTest, RedriveMovesAfterMaxReceiveCountAndSurvivesReopen) {
  ASSERT_TRUE(queues_->create_queue("dlq", {}, {}));
  ASSERT_TRUE(queues_->create_queue(
      "src",
      {{"RedrivePolicy",
        R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2})"}},
      {}));
  auto sent = queues_->send("src", {"poison", -1, {{"k", {"String", "v", ""}}}}).value();
  EXPECT_EQ(receive("src", 1, 0).size(), 1u);
  EXPECT_EQ(receive("src", 1, 0).size(), 1u);
  EXPECT_TRUE(receive("src", 1, 0).empty());  // moved instead of delivered a third time
  reopen();
  auto d = receive("dlq", 10, 30);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message_id, sent.message_id);
  EXPECT_EQ(d[0].receive_count, 1);
  EXPECT_EQ(d[0].all_attributes.at("k").string_value, "v");
  EXPECT_EQ(queues_->dead_letter_sources("dlq").value(), std::vector<std::string>{"src"});
  // A redrive policy must name an existing queue; a queue cannot be FIFO here.
  EXPECT_EQ(refusal(queues_->set_attributes( "src", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:none",)" R"("maxReceiveCount":2})"}})),
            Refusal::kInvalidParameter);
  EXPECT_EQ(refusal(queues_->create_queue("f.fifo", {}, {})), Refusal::kInvalidParameter);
}

TEST_F(QueueServiceTest, ADrainedOrPurgedQueueGivesItsMemoryBack) {
  ASSERT_TRUE(queues_->create_queue("big", {}, {}));
  EXPECT_EQ(queues_->memory_bytes("big"), 0u);
  auto fill = [&](const std::string& tag) {
    for (int i = 0; i < 500; ++i) {
      std::vector<SendInput> batch;
      for (int j = 0; j < 10; ++j) {
        batch.push_back({tag + std::to_string(i * 10 + j) + std::string(2000, 'b'),
                         -1,
                         {{"n", {"Number", std::to_string(j), ""}}}});
      }
      ASSERT_TRUE(queues_->send_batch("big", batch));
    }
  };
  fill("a");
  EXPECT_GT(queues_->memory_bytes("big"), 10'000'000u);
  size_t drained = 0;
  for (auto got = receive("big", 10, 30); !got.empty(); got = receive("big", 10, 30)) {
    for (const auto& m : got) {
      ASSERT_EQ(m.body.substr(0, 1), "a");
      ASSERT_EQ(m.all_attributes.at("n").data_type, "Number");
      ASSERT_TRUE(queues_->delete_message("big", m.receipt_handle));
      ++drained;
    }
  }
  EXPECT_EQ(drained, 5000u);
  EXPECT_EQ(queues_->memory_bytes("big"), Memory::kRegion);  // one mapping kept, pages returned
  // The memory serves the next messages as before, and a purge gives it back too.
  fill("c");
  auto got = receive("big", 10, 30);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[0].md5_body, md5_hex(got[0].body));
  EXPECT_EQ(got[0].body.substr(0, 1), "c");
  EXPECT_GT(queues_->memory_bytes("big"), 10'000'000u);
  ASSERT_TRUE(queues_->purge("big"));
  EXPECT_EQ(queues_->memory_bytes("big"), Memory::kRegion);
  EXPECT_TRUE(receive("big", 10, 0).empty());
}

TEST_F(QueueServiceTest, WaitersAreRegisteredOnceAndWokenBySends) {
  ASSERT_TRUE(queues_->create_queue("w", {}, {}));
  auto waiter = std::make_shared<CountingWaiter>();
  ReceiveInput in;
  in.wait_seconds = 20;  // a long poll (registers the waiter)
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(queues_->receive("w", in, waiter, nullptr).value().empty());
  ASSERT_TRUE(queues_->send("w", {"x", -1, {}}));
  EXPECT_EQ(waiter->wakes, 1);  // once, although it registered three times
  ASSERT_TRUE(queues_->send("w", {"y", -1, {}}));
  EXPECT_EQ(waiter->wakes, 1);  // woken waiters are forgotten until they wait again
}

TEST_F(QueueServiceTest, BadMessagesAreRefusedAndBatchesReportPerEntry) {
  ASSERT_TRUE(queues_->create_queue("b", {{"MaximumMessageSize", "1024"}}, {}));
  auto r = queues_->send_batch("b", {{"ok", -1, {}},
                                     {"", -1, {}},
                                     {std::string(2000, 'x'), -1, {}},
                                     {"bell\x07", -1, {}},
                                     {"n", -1, {{"n", {"Number", "abc", ""}}}},
                                     {"d", 901, {}}})
               .value();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_TRUE(r[0].ok);
  EXPECT_EQ(r[1].error->code, Refusal::kMissingParameter);
  EXPECT_EQ(r[2].error->code, Refusal::kInvalidParameter);
  EXPECT_EQ(r[3].error->code, Refusal::kInvalidMessageContents);
  EXPECT_EQ(r[4].error->code, Refusal::kInvalidParameter);
  EXPECT_EQ(r[5].error->code, Refusal::kInvalidParameter);
  EXPECT_EQ(queues_->get_attributes("b", {"ApproximateNumberOfMessages"})
                .value()
                .at("ApproximateNumberOfMessages"),
            "1");
  EXPECT_EQ(refusal(queues_->send("absent", {"x", -1, {}})), Refusal::kNoSuchQueue);
  EXPECT_EQ(refusal(queues_->set_attributes("b", {{"VisibilityTimeout", "-1"}})),
            Refusal::kInvalidAttributeValue);
  EXPECT_EQ(refusal(queues_->get_attributes("b", {"Colour"})), Refusal::kUnknownAttribute);
}

class FifoTest : public QueueServiceTest {
 protected:
  void SetUp() override {
    QueueServiceTest::SetUp();
    clock();
    ASSERT_TRUE(queues_->create_queue("f.fifo", {{"FifoQueue", "true"}}, {}));
  }
  // The service's clock, moved by the test (no sleeps).
  void clock() {
    queues_->set_clock([this] { return now_; });
  }
  void reopen_with_clock() {
    reopen();
    clock();
  }
  QueueResult<SendResult> send(const std::string& body, const std::string& group,
                               const std::string& dedup = "", const std::string& queue = "f.fifo") {
    SendInput in;
    in.body = body;
    in.group_id = group;
    in.dedup_id = dedup.empty() ? body : dedup;
    return queues_->send(queue, in);
  }
  std::vector<std::string> bodies(const std::vector<ReceivedMessage>& got) {
    std::vector<std::string> out;
    for (const auto& m : got) out.push_back(m.body);
    return out;
  }
  int64_t now_ = 1'700'000'000'000;
};

TEST_F(FifoTest, GroupsAreDeliveredInOrderAndWaitWhileOneIsInFlight) {
  for (const char* b : {"a1", "a2", "a3"}) ASSERT_TRUE(send(b, "A"));
  for (const char* b : {"b1", "b2"}) ASSERT_TRUE(send(b, "B"));
  auto first = receive("f.fifo", 2, 30);
  EXPECT_EQ(bodies(first), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(first[0].attributes.at("MessageGroupId"), "A");
  EXPECT_LT(first[0].attributes.at("SequenceNumber"), first[1].attributes.at("SequenceNumber"));
  // Group A waits while a1 and a2 are in flight: only B's messages come.
  auto second = receive("f.fifo", 10, 30);
  EXPECT_EQ(bodies(second), (std::vector<std::string>{"b1", "b2"}));
  EXPECT_TRUE(receive("f.fifo", 10, 30).empty());
  // a1 deleted, a2 still in flight: A still waits.
  ASSERT_TRUE(queues_->delete_message("f.fifo", first[0].receipt_handle));
  EXPECT_TRUE(receive("f.fifo", 10, 30).empty());
  ASSERT_TRUE(queues_->delete_message("f.fifo", first[1].receipt_handle));
  EXPECT_EQ(bodies(receive("f.fifo", 10, 30)), (std::vector<std::string>{"a3"}));
  // Visibility timeouts that pass give the groups back, each in order, oldest group first.
  now_ += 31'000;
  EXPECT_EQ(bodies(receive("f.fifo", 10, 30)), (std::vector<std::string>{"a3", "b1", "b2"}));
}

TEST_F(FifoTest, ADrainedQueueGivesItsMemoryBackAndKeepsGroupOrderAfter) {
  // 1,200 messages over 7 groups, each group's drained in order; then the memory is given back,
  // and the groups made again on it keep their order.
  auto fill = [&](const std::string& tag) {
    for (int i = 0; i < 1200; ++i) {
      ASSERT_TRUE(send(tag + std::to_string(i) + std::string(1000, '.'),
                       "g" + std::to_string(i % 7), tag + std::to_string(i)));
    }
  };
  fill("a");
  EXPECT_GT(queues_->memory_bytes("f.fifo"), Memory::kRegion);
  std::map<std::string, int> last;  // group → last index received
  size_t drained = 0;
  for (auto got = receive("f.fifo", 10, 30); !got.empty(); got = receive("f.fifo", 10, 30)) {
    for (const auto& m : got) {
      int index = std::stoi(m.body.substr(1));
      const std::string& group = m.attributes.at("MessageGroupId");
      EXPECT_EQ(group, "g" + std::to_string(index % 7));
      if (last.count(group)) {
        EXPECT_EQ(index, last[group] + 7);
      }
      last[group] = index;
      ASSERT_TRUE(queues_->delete_message("f.fifo", m.receipt_handle));
      ++drained;
    }
  }
  EXPECT_EQ(drained, 1200u);
  EXPECT_EQ(queues_->memory_bytes("f.fifo"), Memory::kRegion);
  now_ += 6 * 60'000;  // past the deduplication window
  fill("b");
  auto got = receive("f.fifo", 10, 30);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(bodies(got)[0].substr(0, 2), "b0");
  EXPECT_EQ(got[0].attributes.at("MessageGroupId"), "g0");
  EXPECT_EQ(got[1].body.substr(0, 2), "b7");  // the rest of g0's messages first
}

TEST_F(FifoTest, DeduplicationByIdAndContentWithinTheWindowOnly) {
  auto one = send("x", "g", "d1");
  ASSERT_TRUE(one);
  auto again = send("other body", "g", "d1");  // same id: a duplicate whatever the body
  ASSERT_TRUE(again);
  EXPECT_EQ(again->message_id, one->message_id);
  EXPECT_EQ(again->sequence_number, one->sequence_number);
  // Content-based: the body's SHA-256.
  ASSERT_TRUE(queues_->create_queue(
      "c.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}}, {}));
  SendInput in;
  in.body = "same";
  in.group_id = "g";
  auto c1 = queues_->send("c.fifo", in);
  auto c2 = queues_->send("c.fifo", in);
  ASSERT_TRUE(c1 && c2);
  EXPECT_EQ(c1->message_id, c2->message_id);
  EXPECT_EQ(receive("c.fifo", 10, 30).size(), 1u);
  // The window survives a restart (kill -9: the entries were committed with the sends).
  reopen_with_clock();
  EXPECT_EQ(send("x", "g", "d1")->message_id, one->message_id);
  // After five minutes the same id is a new message.
  now_ += 5 * 60 * 1000 + 1;
  auto later = send("x", "g", "d1");
  ASSERT_TRUE(later);
  EXPECT_NE(later->message_id, one->message_id);
  EXPECT_EQ(receive("f.fifo", 10, 30).size(), 2u);
}

TEST_F(FifoTest, DeduplicationScopeMessageGroup) {
  ASSERT_TRUE(queues_->create_queue("m.fifo",
                                    {{"FifoQueue", "true"},
                                     {"DeduplicationScope", "messageGroup"},
                                     {"FifoThroughputLimit", "perMessageGroupId"}},
                                    {}));
  auto a = send("x", "A", "same", "m.fifo");
  auto b = send("x", "B", "same", "m.fifo");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->message_id, b->message_id);  // another group: not a duplicate
  EXPECT_EQ(send("x", "A", "same", "m.fifo")->message_id, a->message_id);
  auto attrs = queues_->get_attributes("m.fifo", {"All"});
  EXPECT_EQ(attrs->at("DeduplicationScope"), "messageGroup");
  EXPECT_EQ(attrs->at("FifoQueue"), "true");
  EXPECT_EQ(attrs->at("ContentBasedDeduplication"), "false");
}

TEST_F(FifoTest, OrderAndInFlightStateSurviveARestart) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(send("m" + std::to_string(i), "g"));
  auto first = receive("f.fifo", 2, 30);
  ASSERT_EQ(bodies(first), (std::vector<std::string>{"m0", "m1"}));
  reopen_with_clock();
  EXPECT_TRUE(receive("f.fifo", 10, 30).empty());  // still in flight after the restart
  ASSERT_TRUE(queues_->delete_batch("f.fifo", {first[0].receipt_handle, first[1].receipt_handle}));
  EXPECT_EQ(bodies(receive("f.fifo", 10, 30)), (std::vector<std::string>{"m2", "m3", "m4"}));
}

TEST_F(FifoTest, ReceiveAttemptIdsAnswerTheSameMessages) {
  for (const char* b : {"a", "b"}) ASSERT_TRUE(send(b, "g"));
  ReceiveInput in;
  in.max = 10;
  in.visibility = 30;
  in.attempt_id = "attempt-1";
  auto first = queues_->receive("f.fifo", in, nullptr, nullptr);
  auto retry = queues_->receive("f.fifo", in, nullptr, nullptr);
  ASSERT_TRUE(first && retry);
  ASSERT_EQ(first->size(), 2u);
  ASSERT_EQ(retry->size(), 2u);
  EXPECT_EQ(retry->at(0).receipt_handle, first->at(0).receipt_handle);
  in.attempt_id = "attempt-2";
  EXPECT_TRUE(queues_->receive("f.fifo", in, nullptr, nullptr)->empty());
}

TEST_F(FifoTest, WhatFifoQueuesRefuse) {
  EXPECT_EQ(refusal(send("x", "")), Refusal::kMissingParameter);
  SendInput no_dedup;
  no_dedup.body = "x";
  no_dedup.group_id = "g";
  EXPECT_EQ(refusal(queues_->send("f.fifo", no_dedup)), Refusal::kInvalidParameter);
  SendInput delayed = no_dedup;
  delayed.dedup_id = "d";
  delayed.delay_seconds = 5;
  EXPECT_EQ(refusal(queues_->send("f.fifo", delayed)), Refusal::kInvalidParameter);
  SendInput bad_group = no_dedup;
  bad_group.dedup_id = "d";
  bad_group.group_id = "has space";
  EXPECT_EQ(refusal(queues_->send("f.fifo", bad_group)), Refusal::kInvalidParameter);
  // Names and kinds.
  EXPECT_EQ(refusal(queues_->create_queue("plain", {{"FifoQueue", "true"}}, {})),
            Refusal::kInvalidParameter);
  EXPECT_EQ(refusal(queues_->create_queue("x.fifo", {}, {})), Refusal::kInvalidParameter);
  EXPECT_TRUE(queues_->create_queue("std", {{"FifoQueue", "false"}}, {}));
  EXPECT_EQ(refusal(queues_->create_queue("std2", {{"ContentBasedDeduplication", "true"}}, {})),
            Refusal::kUnknownAttribute);
  EXPECT_EQ(refusal(queues_->set_attributes("f.fifo", {{"FifoQueue", "true"}})),
            Refusal::kInvalidAttributeValue);
  SendInput std_dedup = no_dedup;
  std_dedup.dedup_id = "d";
  EXPECT_EQ(refusal(queues_->send("std", std_dedup)), Refusal::kInvalidParameter);
  // Dead-letter queues of the same kind only.
  std::string std_arn = queues_->arn("std");
  EXPECT_EQ(refusal(queues_->set_attributes(
                "f.fifo", {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + std_arn +
                                                 R"(","maxReceiveCount":1})"}})),
            Refusal::kInvalidParameter);
}

TEST_F(FifoTest, RedriveToAFifoDeadLetterQueueNamesItsSource) {
  ASSERT_TRUE(queues_->create_queue("dlq.fifo", {{"FifoQueue", "true"}}, {}));
  ASSERT_TRUE(queues_->set_attributes(
      "f.fifo", {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + queues_->arn("dlq.fifo") +
                                       R"(","maxReceiveCount":1})"}}));
  ASSERT_TRUE(send("poison", "g"));
  ASSERT_TRUE(send("next", "g"));
  EXPECT_EQ(bodies(receive("f.fifo", 1, 0)), (std::vector<std::string>{"poison"}));
  // Received once without being deleted: moved on the next receive; the group goes on.
  EXPECT_EQ(bodies(receive("f.fifo", 1, 30)), (std::vector<std::string>{"next"}));
  auto dead = receive("dlq.fifo", 10, 30);
  ASSERT_EQ(bodies(dead), (std::vector<std::string>{"poison"}));
  EXPECT_EQ(dead[0].attributes.at("DeadLetterQueueSourceArn"), queues_->arn("f.fifo"));
  EXPECT_EQ(dead[0].attributes.at("MessageGroupId"), "g");
  // The source queue's group is intact after the move: "next" (received once) goes the same
  // way, and the group goes on with what comes later.
  now_ += 31'000;
  EXPECT_TRUE(receive("f.fifo", 10, 30).empty());
  ASSERT_TRUE(send("last", "g"));
  EXPECT_EQ(bodies(receive("f.fifo", 10, 30)), (std::vector<std::string>{"last"}));
  EXPECT_EQ(bodies(receive("dlq.fifo", 10, 30)), (std::vector<std::string>{"poison", "next"}));
}

TEST_F(QueueServiceTest, SystemAttributesAreReturnedAsAskedAndPermissionsEditThePolicy) {
  ASSERT_TRUE(queues_->create_queue("q", {}, {}));
  SendInput in;
  in.body = "b";
  in.trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
  in.sender_id = "AIDAEXAMPLE";
  ASSERT_TRUE(queues_->send("q", in));
  ReceiveInput r;
  r.max = 1;
  r.attribute_names = {"AWSTraceHeader", "SenderId"};
  auto got = queues_->receive("q", r, nullptr, nullptr);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->at(0).attributes,
            (std::map<std::string, std::string>{{"AWSTraceHeader", in.trace_header},
                                                {"SenderId", "AIDAEXAMPLE"}}));
  EXPECT_EQ(got->at(0).all_system.at("ApproximateReceiveCount"), "1");
  // Permissions.
  ASSERT_TRUE(queues_->add_permission("q", "cross", {"111122223333"}, {"SendMessage"}));
  EXPECT_EQ(refusal(queues_->add_permission("q", "cross", {"111122223333"}, {"SendMessage"})),
            Refusal::kInvalidParameter);
  EXPECT_EQ(refusal(queues_->add_permission("q", "x", {"111122223333"}, {"CreateQueue"})),
            Refusal::kInvalidParameter);
  auto policy = queues_->get_attributes("q", {"Policy"})->at("Policy");
  EXPECT_NE(policy.find(R"("Sid":"cross")"), std::string::npos);
  EXPECT_NE(policy.find("arn:aws:iam::111122223333:root"), std::string::npos);
  EXPECT_NE(policy.find("SQS:SendMessage"), std::string::npos);
  ASSERT_TRUE(queues_->remove_permission("q", "cross"));
  EXPECT_FALSE(queues_->get_attributes("q", {"Policy"})->count("Policy"));
  EXPECT_EQ(refusal(queues_->remove_permission("q", "cross")), Refusal::kInvalidParameter);
  // No attribute names: no attributes, as SQS answers.
  EXPECT_TRUE(queues_->get_attributes("q", {})->empty());
}

}  // namespace
}  // namespace lambent::queue

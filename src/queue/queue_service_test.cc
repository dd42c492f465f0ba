#include "queue/queue_service.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace lambent::queue

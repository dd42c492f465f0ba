#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "base/codec.h"
#include "base/fs.h"

namespace lambent::store {
namespace {

Function make(const std::string& name) {
  Function f;
  f.name = name;
  f.created_ms = 1000;
  f.latest.config.runtime = "python3.11";
  f.latest.config.handler = "app.handler";
  f.latest.config.environment = std::map<std::string, std::string>{{"SECRET", "hunter2-value"}};
  f.latest.code = {"ab12", "qw==", 42};
  f.latest.revision_id = "rev-1";
  f.latest.last_modified_ms = 1000;
  return f;
}

class StoreTest : public ::testing::Test {
 protected:
  Cipher cipher_{random_bytes(32)};
};

TEST_F(StoreTest, EveryConfigurationMemberRoundTrips) {
  auto s = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(s);
  Function f = make("all");
  FunctionConfig& c = f.latest.config;  // every member away from its default
  c.role = "arn:aws:iam::000000000000:role/r";
  c.description = "d";
  c.timeout = 77;
  c.memory_size = 1769;
  c.ephemeral_storage = 1024;
  c.layers = {{"arn:aws:lambda:us-east-1:000000000000:layer:l:1", "dd", 10, 100}};
  c.architecture = "arm64";
  c.tracing_mode = "Active";
  c.dead_letter_target = "arn:aws:sqs:us-east-1:000000000000:dlq";
  c.kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/k";
  c.log_format = "JSON";
  c.application_log_level = "DEBUG";
  c.system_log_level = "WARN";
  c.log_group = "/custom";
  c.snap_start_apply_on = "PublishedVersions";
  ASSERT_TRUE((*s)->create_function(f));
  auto got = (*s)->get_function("all");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->latest.config, c);
}

TEST_F(StoreTest, CreateGetListUpdateDelete) {
  auto s = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(s);
  auto& store = **s;
  ASSERT_TRUE(store.create_function(make("b")));
  ASSERT_TRUE(store.create_function(make("a")));
  auto dup = store.create_function(make("a"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::kAlreadyExists);

  auto got = store.get_function("a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->latest.config, make("a").latest.config);
  EXPECT_EQ(got->latest.code, make("a").latest.code);

  auto page = store.list_functions("", 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "a");
  page = store.list_functions("a", 10);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "b");

  auto updated = store.update_function("a", [](Function& f) -> Result<void> {
    f.latest.config.memory_size = 512;
    f.tags["team"] = "x";
    return {};
  });
  ASSERT_TRUE(updated);
  EXPECT_EQ(store.get_function("a")->latest.config.memory_size, 512);
  EXPECT_EQ(store.get_function("a")->tags.at("team"), "x");

  // A failing mutation changes nothing.
  auto failed = store.update_function("a", [](Function& f) -> Result<void> {
    f.latest.config.memory_size = 1024;
    return make_error(Errc::kPreconditionFailed, "stale");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::kPreconditionFailed);
  EXPECT_EQ(store.get_function("a")->latest.config.memory_size, 512);

  EXPECT_EQ(store.account_usage()->function_count, 2);
  EXPECT_EQ(store.referenced_code()->count("ab12"), 1u);
  ASSERT_TRUE(store.delete_function("a"));
  EXPECT_EQ(store.get_function("a").error().code, Errc::kNotFound);
  EXPECT_EQ(store.delete_function("a").error().code, Errc::kNotFound);
  EXPECT_EQ(store.account_usage()->function_count, 1);
}

TEST_F(StoreTest, SurvivesReopenAndNeverStoresEnvironmentInPlaintext) {
  auto dir = std::filesystem::temp_directory_path() / ("lambent-store-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  auto path = (dir / "meta.db").string();
  {
    auto s = SqliteStore::open(path, cipher_);
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->create_function(make("fn")));
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto bytes = read_file(entry.path());
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->find("hunter2-value"), std::string::npos) << entry.path();
  }
  {
    auto s = SqliteStore::open(path, cipher_);
    ASSERT_TRUE(s);
    auto f = (*s)->get_function("fn");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->latest.config.environment->at("SECRET"), "hunter2-value");
    EXPECT_EQ((*s)->schema_version(), 11);
  }
  {
    // Under another key the environment cannot be read: reported, not garbage.
    Cipher other(random_bytes(32));
    auto s = SqliteStore::open(path, other);
    ASSERT_TRUE(s);
    auto f = (*s)->get_function("fn");
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, Errc::kCorrupt);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, AliasesConcurrencyAndVersionDeleteChecks) {
  auto s = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(s);
  auto& store = **s;
  ASSERT_TRUE(store.create_function(make("fn")));
  auto updated = store.update_function("fn", [](Function& f) -> Result<void> {
    FunctionVersion v = f.latest;
    v.version = "1";
    f.versions.push_back(v);
    f.next_version = 2;
    f.aliases.push_back({"live", "1", "prod", {{"2", 0.25}}, "rev-a"});
    f.reserved_concurrency = 7;
    f.provisioned.push_back({"live", 3, 1234});
    f.provisioned.push_back({"1", 1, 1235});
    f.urls.push_back({"live", "abcdefghijklmnopqrstuvwxyz012345", "NONE", R"({"MaxAge":5})",
                      "RESPONSE_STREAM", 10, 20});
    return {};
  });
  ASSERT_TRUE(updated);
  auto f = store.get_function("fn");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->aliases.size(), 1u);
  EXPECT_EQ(f->aliases[0], (Alias{"live", "1", "prod", {{"2", 0.25}}, "rev-a"}));
  EXPECT_EQ(f->reserved_concurrency, 7);
  ASSERT_EQ(f->provisioned.size(), 2u);
  EXPECT_EQ(f->provisioned[0], (ProvisionedConfig{"live", 3, 1234}));
  ASSERT_EQ(f->urls.size(), 1u);
  EXPECT_EQ(f->urls[0], (FunctionUrlConfig{"live", "abcdefghijklmnopqrstuvwxyz012345", "NONE",
                                           R"({"MaxAge":5})", "RESPONSE_STREAM", 10, 20}));
  auto reserved = store.reserved_concurrency();
  ASSERT_TRUE(reserved);
  EXPECT_EQ(*reserved, (std::map<std::string, int64_t>{{"fn", 7}}));

  // A refusing check leaves the version in place; an accepting one removes it and its
  // provisioned configuration.
  auto refused = store.delete_version("fn", "1", [](const Function&) -> Result<void> {
    return make_error(Errc::kConflict, "referenced");
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kConflict);
  EXPECT_EQ(store.get_function("fn")->versions.size(), 1u);
  ASSERT_TRUE(store.delete_version("fn", "1", [](const Function&) -> Result<void> { return {}; }));
  f = store.get_function("fn");
  EXPECT_TRUE(f->versions.empty());
  ASSERT_EQ(f->provisioned.size(), 1u);
  EXPECT_EQ(f->provisioned[0].qualifier, "live");
}

TEST_F(StoreTest, LayersKeepNumbersAndDeletedVersionsStayReferenced) {
  auto s = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(s);
  auto& store = **s;
  auto publish = [&](const std::string& digest) {
    return store.update_layer(
        "lib",
        [&](Layer& l) -> Result<void> {
          LayerVersion v;
          v.version = l.next_version++;
          v.code = {digest, "b64", 10};
          v.unzipped_size = 100;
          v.compatible_runtimes = {"python3.11"};
          l.versions.push_back(v);
          return {};
        },
        true);
  };
  ASSERT_TRUE(publish("d1"));
  ASSERT_TRUE(publish("d2"));
  EXPECT_FALSE(store.update_layer("absent", [](Layer&) -> Result<void> { return {}; }, false));
  // A function uses version 1; then version 1 is deleted.
  Function fn = make("user");
  fn.latest.config.layers.push_back({"arn:aws:lambda:us-east-1:000000000000:layer:lib:1", "d1", 10, 100});
  ASSERT_TRUE(store.create_function(fn));
  ASSERT_TRUE(store.update_layer("lib", [](Layer& l) -> Result<void> {
    l.find(1)->deleted = true;
    return {};
  }, false));
  ASSERT_TRUE(publish("d3"));
  auto l = store.get_layer("lib");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->versions.size(), 3u);
  EXPECT_EQ(l->versions[2].version, 3);  // never reused
  EXPECT_EQ(l->find(1), nullptr);
  EXPECT_EQ(l->versions[1].compatible_runtimes, std::vector<std::string>{"python3.11"});
  EXPECT_EQ(l->versions[1].unzipped_size, 100);
  auto refs = store.referenced_code();
  ASSERT_TRUE(refs);
  EXPECT_TRUE(refs->count("d1"));  // deleted, but a function still uses it
  EXPECT_TRUE(refs->count("d2"));
  EXPECT_TRUE(refs->count("ab12"));
  ASSERT_TRUE(store.delete_function("user"));
  refs = store.referenced_code();
  EXPECT_FALSE(refs->count("d1"));
  auto got = store.get_function("user");
  EXPECT_FALSE(got);
}

TEST_F(StoreTest, QueuesMessagesAndMappingsRoundTrip) {
  auto s = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(s);
  auto& store = **s;
  QueueRecord q{"jobs", 10, 10, {{"VisibilityTimeout", "5"}}, {{"team", "core"}}};
  ASSERT_TRUE(store.create_queue(q));
  EXPECT_EQ(store.create_queue(q).error().code, Errc::kAlreadyExists);
  QueueWrite w;
  w.put.push_back({1, "jobs", "id-1", std::string("a\0b", 3), "{}", 100, 0, 0, 100});
  w.put.push_back({2, "jobs", "id-2", "second", "{}", 101, 0, 0, 101});
  ASSERT_TRUE(store.write_messages(w));
  QueueWrite u;
  u.update.push_back({1, 200, 1, 5200, "0123456789abcdef"});
  u.remove.push_back(2);
  ASSERT_TRUE(store.write_messages(u));
  auto msgs = store.queue_messages();
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].body, std::string("a\0b", 3));
  EXPECT_EQ((*msgs)[0].receive_count, 1);
  EXPECT_EQ((*msgs)[0].visible_ms, 5200);
  EXPECT_EQ((*msgs)[0].receipt, "0123456789abcdef");
  // A redrive moves a message by rewriting its row under another queue.
  ASSERT_TRUE(store.create_queue({"dlq", 10, 10, {}, {}}));
  QueueWrite move;
  move.put.push_back({1, "dlq", "id-1", "a", "{}", 100, 0, 0, 300});
  ASSERT_TRUE(store.write_messages(move));
  EXPECT_EQ(store.queue_messages()->at(0).queue, "dlq");
  ASSERT_TRUE(store.delete_queue("dlq"));
  EXPECT_TRUE(store.queue_messages()->empty());
  EXPECT_EQ(store.delete_queue("dlq").error().code, Errc::kNotFound);
  auto queues = store.list_queues();
  ASSERT_EQ(queues->size(), 1u);
  EXPECT_EQ(queues->at(0).attributes.at("VisibilityTimeout"), "5");
  EXPECT_EQ(queues->at(0).tags.at("team"), "core");
  // FIFO: system attributes on the row, deduplication entries with the sends, pruned by expiry.
  ASSERT_TRUE(store.create_queue({"f.fifo", 10, 10, {{"FifoQueue", "true"}}, {}}));
  QueueWrite fifo;
  fifo.put.push_back({7, "f.fifo", "id-7", "x", "{}", 100, 0, 0, 100, "", R"({"g":"g1"})"});
  fifo.dedup.push_back({"f.fifo", "d1", "id-7", "00000000000000000007", 1000});
  fifo.dedup.push_back({"f.fifo", "d0", "id-6", "00000000000000000006", 50});
  ASSERT_TRUE(store.write_messages(fifo));
  EXPECT_EQ(store.queue_messages()->back().system, R"({"g":"g1"})");
  QueueWrite prune;
  prune.dedup_prune_queue = "f.fifo";
  prune.dedup_expired_ms = 100;
  ASSERT_TRUE(store.write_messages(prune));
  auto dedup = store.queue_dedup();
  ASSERT_TRUE(dedup);
  ASSERT_EQ(dedup->size(), 1u);
  EXPECT_EQ(dedup->at(0), (DedupRecord{"f.fifo", "d1", "id-7", "00000000000000000007", 1000}));
  ASSERT_TRUE(store.delete_queue("f.fifo"));
  EXPECT_TRUE(store.queue_dedup()->empty());
  ASSERT_TRUE(store.put_mapping({"u-1", "{\"a\":1}"}));
  ASSERT_TRUE(store.put_mapping({"u-1", "{\"a\":2}"}));
  ASSERT_EQ(store.list_mappings()->size(), 1u);
  EXPECT_EQ(store.list_mappings()->at(0).config, "{\"a\":2}");
  ASSERT_TRUE(store.delete_mapping("u-1"));
  EXPECT_TRUE(store.list_mappings()->empty());
}

// Concurrent writers share commits; a writer whose work fails is rolled back alone.
TEST_F(StoreTest, GroupCommitIsolatesFailuresAndKeepsEveryWrite) {
  auto dir = std::filesystem::temp_directory_path() / ("lambent-store-" + uuid4());
  std::filesystem::create_directories(dir);
  {
    auto s = SqliteStore::open((dir / "meta.db").string(), cipher_);
    ASSERT_TRUE(s);
    auto& store = **s;
    constexpr int kThreads = 8, kEach = 50;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          AsyncEvent e{"e-" + std::to_string(t) + "-" + std::to_string(i), "f", "", "{}", 1, 0, 0, 1};
          if (!store.enqueue_event(e)) failures++;
          // A duplicate id violates the primary key: only this write fails.
          if (i % 10 == 0 && store.enqueue_event(e)) failures += 100;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(*store.pending_events(), kThreads * kEach);
  }
  auto again = SqliteStore::open((dir / "meta.db").string(), cipher_);
  ASSERT_TRUE(again);
  EXPECT_EQ(*(*again)->pending_events(), 400);
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, IdentitiesAreWrittenAndRemovedInOneTransaction) {
  auto s = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(s);
  auto& store = **s;
  ASSERT_TRUE(store.write_identities({{"user", "alice", "{\"a\":1}"}, {"role", "r", "{}"}}, {}));
  ASSERT_TRUE(store.write_identities({{"user", "alice", "{\"a\":2}"}}, {{"role", "r", ""}}));
  auto all = store.identities();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].kind, "user");
  EXPECT_EQ((*all)[0].doc, "{\"a\":2}");
}

}  // namespace
}  // namespace lambent::store

namespace lambent::store {
namespace {

TEST_F(StoreTest, TopicsSubscriptionsAndABatchOfDeliveries) {
  auto opened = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(opened);
  auto& store = **opened;
  TopicRecord t{"orders", {{"DisplayName", "Orders"}}, {{"team", "a"}}, 5};
  ASSERT_TRUE(store.create_topic(t));
  EXPECT_EQ(store.create_topic(t).error().code, Errc::kAlreadyExists);
  SubscriptionRecord s{"arn:aws:sns:us-east-1:000000000000:orders:1",
                       "orders",
                       "sqs",
                       "arn:aws:sqs:us-east-1:000000000000:q",
                       "000000000000",
                       {{"RawMessageDelivery", "true"}},
                       true,
                       "",
                       7};
  ASSERT_TRUE(store.put_subscription(s));
  SubscriptionRecord orphan = s;
  orphan.arn += "x";
  orphan.topic = "gone";
  EXPECT_EQ(store.put_subscription(orphan).error().code, Errc::kNotFound);
  t.attributes["Policy"] = "{}";
  ASSERT_TRUE(store.update_topic(t));
  auto topics = store.list_topics();
  ASSERT_TRUE(topics);
  ASSERT_EQ(topics->size(), 1u);
  EXPECT_EQ((*topics)[0], t);
  auto subs = store.list_subscriptions();
  ASSERT_TRUE(subs);
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0], s);

  // A publish's deliveries go in together, with how each is delivered.
  std::vector<AsyncEvent> batch{
      {"d1", "arn:aws:sqs:us-east-1:000000000000:q", "", "m", 1, 0, 0, 1, R"({"raw":true})"},
      {"d2", "fn", "", "m", 1, 0, 0, 1, ""}};
  ASSERT_TRUE(store.enqueue_events(batch));
  auto due = store.due_events(10, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].delivery + (*due)[1].delivery, R"({"raw":true})");
  // A batch with a duplicate id stores nothing.
  std::vector<AsyncEvent> dup{{"d3", "fn", "", "m", 1, 0, 0, 1, ""}, batch[0]};
  EXPECT_FALSE(store.enqueue_events(dup));
  EXPECT_EQ(*store.pending_events(), 2);

  ASSERT_TRUE(store.delete_topic("orders"));
  EXPECT_TRUE(store.list_topics()->empty());
  EXPECT_TRUE(store.list_subscriptions()->empty());
}

}  // namespace
}  // namespace lambent::store

namespace lambent::store {
namespace {

TEST_F(StoreTest, BusesRulesAndAScheduleTickFiredOnce) {
  auto opened = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(opened);
  auto& store = **opened;
  ASSERT_TRUE(store.put_event_bus({"orders", {{"k", "v"}}, 3}));
  RuleRecord r{"default", "every-minute",
               "",        "rate(1 minute)",
               "ENABLED", "d",
               "",        R"([{"Id":"t","Arn":"x"}])",
               {},        10,
               0};
  ASSERT_TRUE(store.put_rule(r));
  ASSERT_TRUE(store.put_rule(
      {"orders", "r2", R"({"source":["a"]})", "", "DISABLED", "", "", "[]", {{"a", "b"}}, 11, 0}));
  std::vector<AsyncEvent> events{{"tick-1", "fn", "", "{}", 1, 0, 0, 1, ""}};
  EXPECT_TRUE(*store.fire_tick("default", "every-minute", 60'000, events));
  // The same tick again, or an older one: nothing.
  events[0].id = "tick-1b";
  EXPECT_FALSE(*store.fire_tick("default", "every-minute", 60'000, events));
  EXPECT_FALSE(*store.fire_tick("default", "every-minute", 30'000, events));
  EXPECT_EQ(*store.pending_events(), 1);
  EXPECT_FALSE(*store.fire_tick("default", "gone", 60'000, events));
  auto rules = store.list_rules();
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 2u);
  r.last_tick_ms = 60'000;
  EXPECT_EQ((*rules)[0], r);
  EXPECT_EQ((*rules)[1].tags.at("a"), "b");
  ASSERT_TRUE(store.delete_event_bus("orders"));
  EXPECT_EQ(store.list_rules()->size(), 1u);
  EXPECT_TRUE(store.list_event_buses()->empty());
  ASSERT_TRUE(store.delete_rule("default", "every-minute"));
  EXPECT_TRUE(store.list_rules()->empty());
}

TEST_F(StoreTest, DistributionsKeepOneCallerReferenceAndLoseInvalidationsWithThem) {
  auto opened = SqliteStore::open(":memory:", cipher_);
  ASSERT_TRUE(opened);
  auto& store = **opened;
  DistributionRecord d{"EABCDEFGHIJKLM",        "ref-1",           "E1", "dabcdefghijklm",
                       "<DistributionConfig/>", {{"team", "web"}}, 1,    2};
  ASSERT_TRUE(store.create_distribution(d));
  auto again = d;
  again.id = "EOTHER";
  EXPECT_EQ(store.create_distribution(again).error().code, Errc::kAlreadyExists);
  d.etag = "E2";
  ASSERT_TRUE(store.put_distribution(d));
  ASSERT_TRUE(store.put_invalidation({d.id, "I1", "inv-1", {"/a", "/b/*"}, 5}));
  auto all = store.list_distributions();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0], d);
  auto invs = store.list_invalidations();
  ASSERT_TRUE(invs);
  ASSERT_EQ(invs->size(), 1u);
  EXPECT_EQ((*invs)[0].paths, (std::vector<std::string>{"/a", "/b/*"}));
  ASSERT_TRUE(store.delete_distribution(d.id));
  EXPECT_TRUE(store.list_distributions()->empty());
  EXPECT_TRUE(store.list_invalidations()->empty());
}

}  // namespace
}  // namespace lambent::store

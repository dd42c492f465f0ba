#include "telemetry/log_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/codec.h"
#include "sqlite/sqlite.h"

namespace lambent::telemetry {
namespace {

TEST(LogStore, AppendsInOrderAndSurvivesReopen) {
  auto dir = std::filesystem::temp_directory_path() / ("lambent-logs-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  auto path = (dir / "logs.db").string();
  {
    auto s = LogStore::open(path);
    ASSERT_TRUE(s) << s.error().message;
    for (int i = 0; i < 1000; ++i) (*s)->append("/aws/lambda/f", "st", 1000 + i, "line " + std::to_string(i));
    (*s)->append("/aws/lambda/f", "other", 5, "x");
    (*s)->flush();
    auto ev = (*s)->read_stream("/aws/lambda/f", "st");
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->size(), 1000u);
    EXPECT_EQ((*ev)[999].message, "line 999");
    EXPECT_LT((*ev)[0].id, (*ev)[1].id);
  }
  auto s = LogStore::open(path);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->read_stream("/aws/lambda/f", "st")->size(), 1000u);
  EXPECT_EQ(*(*s)->streams("/aws/lambda/f"), (std::vector<std::string>{"other", "st"}));
  std::filesystem::remove_all(dir);
}

TEST(LogStore, QueuedLinesKeepTheirStreamsOrderAndBytesAcrossChunks) {
  // Lines are queued packed in 256 KiB chunks: these cross many chunk boundaries, interleave two
  // streams, include empty lines, bytes that are not text, and lines longer than a chunk.
  auto dir =
      std::filesystem::temp_directory_path() / ("lambent-logs-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  auto s = LogStore::open((dir / "logs.db").string());
  ASSERT_TRUE(s) << s.error().message;
  auto a = LogStore::stream_ref("/aws/lambda/f", "a");
  auto b = LogStore::stream_ref("/aws/lambda/f", "b");
  std::vector<std::string> want_a, want_b;
  for (int i = 0; i < 20000; ++i) {
    std::string line = std::to_string(i) + std::string(static_cast<size_t>(i % 97), 'x');
    if (i % 5000 == 1) line = std::string(300'000 + i, 'L');  // longer than a chunk
    if (i % 1000 == 2) line.clear();
    if (i % 777 == 3) line = std::string("\0\1\xff", 3) + line;
    auto& ref = i % 3 == 0 ? b : a;
    (i % 3 == 0 ? want_b : want_a).push_back(line);
    (*s)->append(ref, 1000 + i, line);
  }
  (*s)->flush();
  EXPECT_EQ((*s)->queued_bytes(), 0);
  EXPECT_EQ(a->queued_bytes.load(), 0);
  for (auto [name, want] : {std::pair{"a", &want_a}, std::pair{"b", &want_b}}) {
    auto ev = (*s)->read_stream("/aws/lambda/f", name);
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->size(), want->size());
    for (size_t i = 0; i < want->size(); ++i) {
      ASSERT_EQ((*ev)[i].message, (*want)[i]) << name << " line " << i;
      if (i > 0) {
        ASSERT_LE((*ev)[i - 1].timestamp_ms, (*ev)[i].timestamp_ms);
      }
    }
  }
  // The stores goes on after the backlog: chunks are reused.
  (*s)->append(a, 99'999, "after");
  (*s)->flush();
  EXPECT_EQ((*s)->read_stream("/aws/lambda/f", "a")->back().message, "after");
  std::filesystem::remove_all(dir);
}

TEST(LogStore, KeepsItsBytesUnderTheBoundDroppingTheOldestFirst) {
  auto dir =
      std::filesystem::temp_directory_path() / ("lambent-logs-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  auto s = LogStore::open((dir / "logs.db").string());
  ASSERT_TRUE(s) << s.error().message;
  auto ref = LogStore::stream_ref("/aws/lambda/f", "st");
  const std::string line(1000, 'x');
  // Queued bytes are counted per stream and in all, and given back once committed.
  for (int i = 0; i < 100; ++i) (*s)->append(ref, i, std::to_string(i) + line.substr(0, 990));
  EXPECT_GT((*s)->queued_bytes(), 0);
  (*s)->flush();
  EXPECT_EQ((*s)->queued_bytes(), 0);
  EXPECT_EQ(ref->queued_bytes.load(), 0);
  EXPECT_FALSE((*s)->congested(ref));
  // 3,000 events of ~1 KB against a bound of 1 MiB: only the newest ~1,000 stay.
  for (int i = 100; i < 3000; ++i) (*s)->append(ref, i, std::to_string(i) + line);
  (*s)->flush();
  auto removed = (*s)->enforce_limits(0, 0, 1 << 20);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_GT(*removed, 1500);
  auto group = (*s)->group("/aws/lambda/f");
  ASSERT_TRUE(group);
  EXPECT_LE(group->stored_bytes, 1 << 20);
  EXPECT_GT(group->stored_bytes, (1 << 20) - 30'000);  // chunks of the oldest, not everything
  auto events = (*s)->read_stream("/aws/lambda/f", "st");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->back().message.substr(0, 4), "2999");
  EXPECT_EQ(events->front().timestamp_ms, 3000 - static_cast<int64_t>(events->size()));
  std::filesystem::remove_all(dir);
}

TEST(LogStore, CarriesOverTheFirstLayout) {
  auto dir = std::filesystem::temp_directory_path() / ("lambent-logs-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  auto path = (dir / "logs.db").string();
  {
    auto db = sqlite::Database::open(path);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->exec(R"sql(
      CREATE TABLE log_streams (
        log_group TEXT NOT NULL, stream TEXT NOT NULL, created_ms INTEGER NOT NULL,
        first_event_ms INTEGER, last_event_ms INTEGER, last_ingestion_ms INTEGER,
        PRIMARY KEY (log_group, stream)) WITHOUT ROWID;
      CREATE TABLE log_events (
        id INTEGER PRIMARY KEY, log_group TEXT NOT NULL, stream TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL, ingestion_ms INTEGER NOT NULL, message TEXT NOT NULL);
      INSERT INTO log_streams VALUES ('/aws/lambda/f', 's1', 10, 11, 12, 13);
      INSERT INTO log_events VALUES (7, '/aws/lambda/f', 's1', 11, 13, 'old line');
      INSERT INTO log_events VALUES (9, '/aws/lambda/f', 's1', 12, 13, 'old line 2');
    )sql"));
  }
  auto s = LogStore::open(path);
  ASSERT_TRUE(s) << s.error().message;
  (*s)->append("/aws/lambda/f", "s1", 20, "new line");
  (*s)->flush();
  auto ev = (*s)->read_stream("/aws/lambda/f", "s1");
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->size(), 3u);
  EXPECT_EQ((*ev)[0].id, 7);
  EXPECT_EQ((*ev)[0].message, "old line");
  EXPECT_EQ((*ev)[2].message, "new line");
  EXPECT_GT((*ev)[2].id, 9);  // ids keep increasing across the migration
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lambent::telemetry

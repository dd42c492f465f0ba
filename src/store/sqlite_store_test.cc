#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>

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
    EXPECT_EQ((*s)->schema_version(), 2);
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

}  // namespace
}  // namespace lambent::store

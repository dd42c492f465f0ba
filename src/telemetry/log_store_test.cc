#include "telemetry/log_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/codec.h"

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

}  // namespace
}  // namespace lambent::telemetry

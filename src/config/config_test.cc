#include "config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace lambent::config {
namespace {

std::map<std::string, std::string> g_env;
const char* fake_env(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

TEST(Config, DefaultsAndPrecedence) {
  g_env = {{"HOME", "/home/u"}};
  auto c = load(std::nullopt, fake_env, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen_port, 9777);
  EXPECT_EQ(c->data_dir, "/home/u/.local/share/lambent");
  EXPECT_EQ(c->code_cache.string().rfind("/dev/shm/lambent-", 0), 0u);

  g_env["LAMBENT_LISTEN"] = "0.0.0.0:8000";
  g_env["LAMBENT_REGION"] = "eu-west-1";
  c = load(std::nullopt, fake_env, {{"listen", "127.0.0.1:0"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen_port, 0);
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->region, "eu-west-1");
}

TEST(Config, RejectsBadValuesNamingTheSource) {
  g_env = {{"LAMBENT_ACCOUNT_ID", "12"}};
  auto c = load(std::nullopt, fake_env, {});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("LAMBENT_ACCOUNT_ID"), std::string::npos);
  g_env.clear();
  EXPECT_FALSE(load(std::nullopt, fake_env, {{"listen", "nohostport"}}));
  EXPECT_FALSE(load(std::nullopt, fake_env, {{"listen", "h:70000"}}));
  EXPECT_FALSE(load(std::nullopt, fake_env, {{"bogus", "1"}}));
}

TEST(Config, PublicUrl) {
  g_env = {{"HOME", "/home/u"}};
  for (auto [value, want] : {std::pair{"https://lambda.example.com/", "https://lambda.example.com"},
                             {"http://10.0.0.5:9777", "http://10.0.0.5:9777"},
                             {"http://[fd00::1]:9777/prefix/", "http://[fd00::1]:9777/prefix"}}) {
    auto c = load(std::nullopt, fake_env, {{"public_url", value}});
    ASSERT_TRUE(c) << value;
    EXPECT_EQ(c->public_url, want);
  }
  for (const char* bad :
       {"ftp://x", "http://", "http://h/p?q=1", "http://h\r\nX: y", "h:80", "http://user@h/"}) {
    auto c = load(std::nullopt, fake_env, {{"public_url", bad}});
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().message.find("--public_url"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace lambent::config

namespace lambent::config {
namespace {

TEST(Config, Network) {
  g_env = {{"HOME", "/home/u"}, {"LAMBENT_EGRESS", "internet"}};
  auto c =
      load(std::nullopt, fake_env,
           {{"network_cidr", "10.50.0.0/20"}, {"egress_deny", "198.51.100.0/24, 203.0.113.9"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->network);
  EXPECT_EQ(c->network_cidr, "10.50.0.0/20");
  EXPECT_EQ(c->uplink_cidr, "100.127.0.0/16");
  EXPECT_EQ(c->egress, "internet");
  EXPECT_EQ(c->egress_deny, "198.51.100.0/24, 203.0.113.9");
  g_env = {{"HOME", "/home/u"}};
  EXPECT_EQ(load(std::nullopt, fake_env, {})->egress, "platform");
  EXPECT_TRUE(load(std::nullopt, fake_env, {{"network", "on"}})->network);
  EXPECT_FALSE(load(std::nullopt, fake_env, {{"network", "off"}})->network);
  for (auto [key, bad] : {std::pair{"network_cidr", "10.50.0.1/20"},  // host bits
                          {"network_cidr", "10.0.0.0/30"},            // too small
                          {"uplink_cidr", "100.127.0.0/32"},
                          {"egress", "Internet"},
                          {"egress_allow", "10.0.0.0/8 nope"},
                          {"network", "yes"}}) {
    auto r = load(std::nullopt, fake_env, {{key, bad}});
    ASSERT_FALSE(r) << key << " = " << bad;
    EXPECT_NE(r.error().message.find(std::string("--") + key), std::string::npos)
        << r.error().message;
  }
}

}  // namespace
}  // namespace lambent::config

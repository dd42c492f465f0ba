#include "iam/directory.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/codec.h"
#include "store/sqlite_store.h"

namespace lambent::iam {
namespace {

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lambent-dir-test-" + hex_encode(random_bytes(6)));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
  Cipher cipher_{random_bytes(32)};
  NodeIdentity node_{"us-east-1", "000000000000"};
};

TEST_F(DirectoryTest, EntitiesAndKeysSurviveAReloadWithSecretsSealed) {
  auto store = store::SqliteStore::open((dir_ / "meta.db").string(), cipher_);
  ASSERT_TRUE(store);
  std::string secret;
  {
    Directory d(**store, cipher_, node_);
    bool created = false;
    ASSERT_TRUE(d.load(dir_ / "root-credentials", std::nullopt, &created));
    EXPECT_TRUE(created);
    auto r = d.update([&](Snapshot& s, Touched& t) -> Result<void> {
      User u;
      u.name = "alice";
      u.id = new_id("AIDA", 17);
      u.inline_policies["p"] =
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]})";
      s.users["alice"] = u;
      AccessKey k;
      k.id = new_id("AKIA", 16);
      k.user = "alice";
      k.secret = secret = new_secret();
      s.keys[k.id] = k;
      t.users.push_back("alice");
      t.keys.push_back(k.id);
      return {};
    });
    ASSERT_TRUE(r);
    // A change that fails writes nothing and publishes nothing.
    auto failed = d.update([](Snapshot& s, Touched& t) -> Result<void> {
      s.users.erase("alice");
      t.users.push_back("alice");
      return make_error(Errc::kConflict, "no");
    });
    EXPECT_FALSE(failed);
    EXPECT_EQ(d.view()->users.count("alice"), 1u);
  }
  Directory again(**store, cipher_, node_);
  bool created = true;
  ASSERT_TRUE(again.load(dir_ / "root-credentials", std::nullopt, &created));
  EXPECT_FALSE(created);
  auto view = again.view();
  ASSERT_EQ(view->users.count("alice"), 1u);
  EXPECT_EQ(view->users.at("alice").inline_policies.size(), 1u);
  // Root key and alice's key, both with their secrets back; alice's compiled with her policy.
  ASSERT_EQ(view->keys.size(), 2u);
  int found = 0;
  for (const auto& [id, k] : view->keys) {
    if (k.user == "alice") {
      EXPECT_EQ(k.secret, secret);
      EXPECT_EQ(view->by_key.at(id).policies.size(), 1u);
      EXPECT_EQ(view->by_key.at(id).caller->arn, "arn:aws:iam::000000000000:user/alice");
      ++found;
    } else {
      EXPECT_TRUE(view->by_key.at(id).caller->root);
    }
  }
  EXPECT_EQ(found, 1);
  // Nothing on disk holds a secret in plaintext.
  (*store).reset();
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    std::string content = read(e.path());
    EXPECT_EQ(content.find(secret), std::string::npos) << e.path();
  }
  EXPECT_EQ(std::filesystem::status(dir_ / "root-credentials").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(DirectoryTest, TheRootKeyGivenAtFirstStartIsKeptAndReadableWithTheNodeKey) {
  auto store = store::SqliteStore::open(":memory:", cipher_);
  Directory d(**store, cipher_, node_);
  bool created = false;
  Directory::RootKey given{"AKIAGIVEN00000000001", "given-secret-given-secret"};
  ASSERT_TRUE(d.load(dir_ / "root-credentials", given, &created));
  auto read_back = Directory::read_root_file(dir_ / "root-credentials", cipher_);
  ASSERT_TRUE(read_back);
  EXPECT_EQ(read_back->secret, given.secret);
  EXPECT_EQ(read(dir_ / "root-credentials").find(given.secret), std::string::npos);
  Cipher other(random_bytes(32));
  EXPECT_FALSE(Directory::read_root_file(dir_ / "root-credentials", other));
  // A later start with another key given keeps the first.
  Directory later(**store, cipher_, node_);
  ASSERT_TRUE(later.load(dir_ / "root-credentials", Directory::RootKey{"AKIAOTHER0000000001", "x"},
                         &created));
  EXPECT_FALSE(created);
  EXPECT_EQ(later.view()->keys.count("AKIAGIVEN00000000001"), 1u);
}

TEST_F(DirectoryTest, SessionTokensAreSealedAndTamperEvident) {
  auto store = store::SqliteStore::open(":memory:", cipher_);
  Directory d(**store, cipher_, node_);
  Role r;
  r.name = "exec";
  r.id = new_id("AROA", 17);
  Session s = d.new_session(r, "fn", 1000, 3600, "");
  EXPECT_TRUE(s.access_key_id.starts_with("ASIA"));
  std::string token = d.session_token(s);
  EXPECT_EQ(token.find(s.secret), std::string::npos);
  auto opened = d.open_session_token(token);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->secret, s.secret);
  EXPECT_EQ(opened->expires, 4600);
  std::string bad = token;
  bad[bad.size() / 2] = bad[bad.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(d.open_session_token(bad));
  EXPECT_FALSE(d.open_session_token("not-a-token"));
}

}  // namespace
}  // namespace lambent::iam

#include "iam/access_control.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "aws/sigv4.h"
#include "base/codec.h"
#include "base/time.h"
#include "http/router.h"
#include "store/sqlite_store.h"

namespace lambent::iam {
namespace {

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("lambent-ac-test-" + hex_encode(random_bytes(6)));
    std::filesystem::create_directories(dir_);
    store_ = std::move(*store::SqliteStore::open(":memory:", cipher_));
    directory_ =
        std::make_unique<Directory>(*store_, cipher_, NodeIdentity{"us-east-1", "000000000000"});
    bool created = false;
    ASSERT_TRUE(directory_->load(dir_ / "root-credentials",
                                 Directory::RootKey{kRootId, kRootSecret}, &created));
    access_ = std::make_unique<AccessControl>(*directory_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  http::Request signed_request(const std::string& key, const std::string& secret,
                               const std::string& token = "",
                               const std::string& service = "lambda") {
    http::Request r;
    r.method = "GET";
    r.target = "/2015-03-31/functions/";
    http::parse_target(r.target, r);
    r.headers = {{"host", "127.0.0.1:9777"}};
    for (auto& [k, v] : aws::sigv4::sign("GET", r.target, r.headers, "", {key, secret, token},
                                         "us-east-1", service, now_ms() / 1000)) {
      std::string lower = k;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(lower, v);
    }
    return r;
  }
  aws::Guard::Authenticated authenticate(const http::Request& r) {
    aws::ServiceInfo info{.name = "lambda", .skew_seconds = 300};
    return access_->authenticate(r, info, hex_encode(as_bytes(sha256(r.body))));
  }

  static constexpr const char* kRootId = "AKIAROOT000000000001";
  static constexpr const char* kRootSecret = "root-secret-root-secret-root-secret-0000";
  std::filesystem::path dir_;
  Cipher cipher_{random_bytes(32)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<AccessControl> access_;
};

TEST_F(AccessControlTest, RootKeyAuthenticatesAsTheAccount) {
  auto a = authenticate(signed_request(kRootId, kRootSecret));
  ASSERT_FALSE(a.failure) << a.failure->message;
  EXPECT_TRUE(a.caller->root);
  EXPECT_EQ(a.caller->arn, "arn:aws:iam::000000000000:root");
  auto wrong = authenticate(signed_request(kRootId, "not-the-secret"));
  ASSERT_TRUE(wrong.failure);
  EXPECT_EQ(wrong.failure->kind, aws::sigv4::Failure::kMismatch);
  auto unknown = authenticate(signed_request("AKIAUNKNOWN000000000", kRootSecret));
  ASSERT_TRUE(unknown.failure);
  EXPECT_EQ(unknown.failure->kind, aws::sigv4::Failure::kUnknownKey);
}

TEST_F(AccessControlTest, SessionsAuthenticateAsTheirRoleAndExpire) {
  Role role;
  role.name = "exec";
  role.id = new_id("AROA", 17);
  role.trust_policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  ASSERT_TRUE(directory_->update([&](Snapshot& s, Touched& t) -> Result<void> {
    s.roles[role.name] = role;
    t.roles.push_back(role.name);
    return {};
  }));
  EXPECT_FALSE(access_->may_assume(role, nullptr, "lambda.amazonaws.com", nullptr));
  EXPECT_TRUE(access_->may_assume(role, nullptr, "s3.amazonaws.com", nullptr));
  const int64_t now = now_ms() / 1000;
  Session live = directory_->new_session(role, "fn", now, 3600, "");
  auto a = authenticate(
      signed_request(live.access_key_id, live.secret, directory_->session_token(live)));
  ASSERT_FALSE(a.failure) << a.failure->message;
  EXPECT_EQ(a.caller->arn, "arn:aws:sts::000000000000:assumed-role/exec/fn");
  EXPECT_EQ(a.caller->user_id, role.id + ":fn");
  Session old = directory_->new_session(role, "fn", now - 7200, 3600, "");
  auto expired =
      authenticate(signed_request(old.access_key_id, old.secret, directory_->session_token(old)));
  ASSERT_TRUE(expired.failure);
  EXPECT_EQ(expired.failure->kind, aws::sigv4::Failure::kExpiredToken);
  // Another session's token with this key id: refused.
  auto mixed =
      authenticate(signed_request(live.access_key_id, live.secret, directory_->session_token(old)));
  ASSERT_TRUE(mixed.failure);
  EXPECT_EQ(mixed.failure->kind, aws::sigv4::Failure::kUnknownKey);
}

TEST_F(AccessControlTest, ServicePrincipalsNeedTheResourcePolicyWithItsConditions) {
  const std::string fn = "arn:aws:lambda:us-east-1:000000000000:function:thumbs";
  access_->add_resource_policies("lambda", [&](std::string_view arn) -> std::optional<std::string> {
    if (arn != fn) return std::nullopt;
    return R"({"Version":"2012-10-17","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":")" +
           fn +
           R"(","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"},"StringEquals":{"AWS:SourceAccount":"000000000000"}}}]})";
  });
  aws::Access invoke{"lambda:InvokeFunction", fn, {}};
  EXPECT_FALSE(access_->authorize_service("s3.amazonaws.com", invoke, "arn:aws:s3:::uploads",
                                          "000000000000"));
  EXPECT_TRUE(
      access_->authorize_service("s3.amazonaws.com", invoke, "arn:aws:s3:::other", "000000000000"));
  EXPECT_TRUE(access_->authorize_service("s3.amazonaws.com", invoke, "arn:aws:s3:::uploads",
                                         "111111111111"));
  EXPECT_TRUE(access_->authorize_service("sns.amazonaws.com", invoke, "arn:aws:s3:::uploads",
                                         "000000000000"));
  aws::Access other{"lambda:InvokeFunction", fn + "-other", {}};
  auto denied =
      access_->authorize_service("s3.amazonaws.com", other, "arn:aws:s3:::uploads", "000000000000");
  ASSERT_TRUE(denied);
  EXPECT_NE(denied->message.find("because no resource-based policy allows"), std::string::npos);
}

TEST_F(AccessControlTest, AnonymousCallersNeedAPolicyGrantingEveryone) {
  access_->add_resource_policies("s3", [&](std::string_view arn) -> std::optional<std::string> {
    if (arn.starts_with("arn:aws:s3:::public/")) {
      return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public/*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public/secret/*"}]})";
    }
    if (arn.starts_with("arn:aws:s3:::account/")) {
      return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::account/*"}]})";
    }
    return std::nullopt;
  });
  http::Request req;
  req.peer = "127.0.0.1:5000";
  EXPECT_FALSE(
      access_->authorize_anonymous({"s3:GetObject", "arn:aws:s3:::public/a.html", {}}, req));
  EXPECT_TRUE(
      access_->authorize_anonymous({"s3:PutObject", "arn:aws:s3:::public/a.html", {}}, req));
  EXPECT_TRUE(
      access_->authorize_anonymous({"s3:GetObject", "arn:aws:s3:::public/secret/k", {}}, req));
  EXPECT_TRUE(access_->authorize_anonymous({"s3:GetObject", "arn:aws:s3:::account/a", {}}, req));
  EXPECT_TRUE(access_->authorize_anonymous({"s3:GetObject", "arn:aws:s3:::none/a", {}}, req));
}

}  // namespace
}  // namespace lambent::iam

#include "iam/directory.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"

namespace lambent::iam {
namespace json = boost::json;

namespace {

constexpr std::string_view kRootAad = "lambent root credentials v1";
constexpr std::string_view kSessionAad = "lambent sts session v1";
constexpr std::string_view kTokenPrefix = "LMBT";

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}
int64_t num(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->get_int64() : 0;
}
json::object docs(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}
std::map<std::string, std::string> read_docs(const json::object& o, std::string_view k) {
  std::map<std::string, std::string> out;
  if (auto* v = o.if_contains(k); v && v->is_object()) {
    for (const auto& [name, doc] : v->get_object()) {
      if (doc.is_string()) out[std::string(name)] = std::string(doc.get_string());
    }
  }
  return out;
}
json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}
std::vector<std::string> read_strings(const json::object& o, std::string_view k) {
  std::vector<std::string> out;
  if (auto* v = o.if_contains(k); v && v->is_array()) {
    for (const auto& s : v->get_array()) {
      if (s.is_string()) out.emplace_back(s.get_string());
    }
  }
  return out;
}
json::array tags(const std::vector<Tag>& v) {
  json::array a;
  for (const auto& t : v) a.push_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return a;
}
std::vector<Tag> read_tags(const json::object& o) {
  std::vector<Tag> out;
  if (auto* v = o.if_contains("tags"); v && v->is_array()) {
    for (const auto& t : v->get_array()) {
      if (t.is_object()) out.push_back({str(t.get_object(), "Key"), str(t.get_object(), "Value")});
    }
  }
  return out;
}

std::string user_doc(const User& u) {
  return json::serialize(json::object{{"name", u.name},
                                      {"path", u.path},
                                      {"id", u.id},
                                      {"created", u.created_ms},
                                      {"inline", docs(u.inline_policies)},
                                      {"attached", strings(u.attached)},
                                      {"boundary", u.boundary},
                                      {"tags", tags(u.tags)}});
}
User read_user(const json::object& o) {
  User u;
  u.name = str(o, "name");
  u.path = str(o, "path");
  u.id = str(o, "id");
  u.created_ms = num(o, "created");
  u.inline_policies = read_docs(o, "inline");
  u.attached = read_strings(o, "attached");
  u.boundary = str(o, "boundary");
  u.tags = read_tags(o);
  return u;
}
std::string role_doc(const Role& r) {
  return json::serialize(json::object{{"name", r.name},
                                      {"path", r.path},
                                      {"id", r.id},
                                      {"created", r.created_ms},
                                      {"trust", r.trust_policy},
                                      {"description", r.description},
                                      {"max_session", r.max_session_seconds},
                                      {"inline", docs(r.inline_policies)},
                                      {"attached", strings(r.attached)},
                                      {"boundary", r.boundary},
                                      {"tags", tags(r.tags)}});
}
Role read_role(const json::object& o) {
  Role r;
  r.name = str(o, "name");
  r.path = str(o, "path");
  r.id = str(o, "id");
  r.created_ms = num(o, "created");
  r.trust_policy = str(o, "trust");
  r.description = str(o, "description");
  r.max_session_seconds = static_cast<int>(num(o, "max_session"));
  r.inline_policies = read_docs(o, "inline");
  r.attached = read_strings(o, "attached");
  r.boundary = str(o, "boundary");
  r.tags = read_tags(o);
  return r;
}
std::string policy_doc(const ManagedPolicy& p) {
  json::array versions;
  for (const auto& v : p.versions) {
    versions.push_back(json::object{{"id", v.id}, {"doc", v.document}, {"created", v.created_ms}});
  }
  return json::serialize(json::object{{"arn", p.arn},
                                      {"name", p.name},
                                      {"path", p.path},
                                      {"id", p.id},
                                      {"description", p.description},
                                      {"created", p.created_ms},
                                      {"updated", p.updated_ms},
                                      {"default", p.default_version},
                                      {"versions", versions},
                                      {"next", p.next_version}});
}
ManagedPolicy read_policy(const json::object& o) {
  ManagedPolicy p;
  p.arn = str(o, "arn");
  p.name = str(o, "name");
  p.path = str(o, "path");
  p.id = str(o, "id");
  p.description = str(o, "description");
  p.created_ms = num(o, "created");
  p.updated_ms = num(o, "updated");
  p.default_version = str(o, "default");
  p.next_version = static_cast<int>(num(o, "next"));
  if (auto* v = o.if_contains("versions"); v && v->is_array()) {
    for (const auto& x : v->get_array()) {
      if (!x.is_object()) continue;
      const auto& xo = x.get_object();
      p.versions.push_back({str(xo, "id"), str(xo, "doc"), num(xo, "created")});
    }
  }
  return p;
}

std::shared_ptr<const Policy> compiled(const std::string& doc, PolicyKind kind) {
  auto p = parse_policy(doc, kind);
  if (!p) {
    // Stored documents were validated when written; one that no longer parses grants nothing.
    log::warn("a stored policy no longer parses: {}", p.error().message);
    return nullptr;
  }
  return std::make_shared<const Policy>(std::move(*p));
}

}  // namespace

const PolicyVersion* ManagedPolicy::current() const {
  for (const auto& v : versions) {
    if (v.id == default_version) return &v;
  }
  return nullptr;
}

std::string new_id(std::string_view prefix, size_t length) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";  // base32, as AWS's
  std::string bytes = random_bytes(length);
  std::string out(prefix);
  for (size_t i = 0; i < length; ++i) out += kChars[static_cast<unsigned char>(bytes[i]) % 32];
  return out;
}

std::string new_secret() {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes = random_bytes(40);
  std::string out;
  for (unsigned char b : bytes) out += kChars[b % 64];
  return out;
}

Directory::Directory(store::Store& store, const Cipher& cipher, NodeIdentity names)
    : store_(store),
      cipher_(cipher),
      names_(std::move(names)),
      current_(std::make_shared<const Snapshot>()) {}

std::string Directory::user_arn(const User& u) const {
  return fmt::format("arn:aws:iam::{}:user{}{}", names_.account_id, u.path, u.name);
}
std::string Directory::role_arn(const Role& r) const {
  return fmt::format("arn:aws:iam::{}:role{}{}", names_.account_id, r.path, r.name);
}
const Role* Directory::find_role(const Snapshot& s, std::string_view arn) const {
  auto it = s.roles.find(std::string(arn.substr(arn.rfind('/') + 1)));
  return it != s.roles.end() && role_arn(it->second) == arn ? &it->second : nullptr;
}

std::string Directory::policy_arn(std::string_view path, std::string_view name) const {
  return fmt::format("arn:aws:iam::{}:policy{}{}", names_.account_id, path, name);
}

Result<Directory::RootKey> Directory::read_root_file(const std::filesystem::path& file,
                                                     const Cipher& cipher) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(Errc::kNotFound, "no root credentials at " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  auto sealed = base64_decode(ss.str());
  if (!sealed) return make_error(Errc::kCorrupt, "the root credentials file is damaged");
  LAMBENT_TRY(plain, cipher.open(*sealed, kRootAad));
  boost::system::error_code ec;
  json::value v = json::parse(plain, ec);
  if (ec || !v.is_object())
    return make_error(Errc::kCorrupt, "the root credentials file is damaged");
  return RootKey{str(v.get_object(), "id"), str(v.get_object(), "secret")};
}

Result<void> Directory::load(const std::filesystem::path& root_file,
                             const std::optional<RootKey>& first, bool* created) {
  auto s = std::make_shared<Snapshot>();
  for (auto& p : aws_managed_policies()) s->policies[p.arn] = std::move(p);
  LAMBENT_TRY(records, store_.identities());
  for (const auto& r : records) {
    boost::system::error_code ec;
    json::value v = json::parse(r.doc, ec);
    if (ec || !v.is_object())
      return make_error(Errc::kCorrupt, "IAM " + r.kind + " " + r.name + " is damaged");
    const auto& o = v.get_object();
    if (r.kind == "user") {
      s->users[r.name] = read_user(o);
    } else if (r.kind == "role") {
      s->roles[r.name] = read_role(o);
    } else if (r.kind == "policy") {
      s->policies[r.name] = read_policy(o);
    } else if (r.kind == "access_key") {
      AccessKey k;
      k.id = r.name;
      k.user = str(o, "user");
      k.active = str(o, "status") != "Inactive";
      k.created_ms = num(o, "created");
      auto sealed = base64_decode(str(o, "secret"));
      if (!sealed) return make_error(Errc::kCorrupt, "access key " + k.id + " is damaged");
      LAMBENT_TRY(secret, cipher_.open(*sealed, k.id));
      k.secret = std::move(secret);
      s->keys[k.id] = std::move(k);
    }
  }
  *created = false;
  auto root = read_root_file(root_file, cipher_);
  if (!root && root.error().code != Errc::kNotFound) return root.error();
  if (!root) {
    RootKey key = first ? *first : RootKey{new_id("AKIA", 16), new_secret()};
    std::string sealed = base64_encode(cipher_.seal(
        json::serialize(json::object{{"id", key.access_key_id}, {"secret", key.secret}}),
        kRootAad));
    std::filesystem::path tmp = root_file;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(Errc::kIo, "cannot write " + tmp.string());
    bool ok = ::write(fd, sealed.data(), sealed.size()) == static_cast<ssize_t>(sealed.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    std::error_code ec;
    if (ok) std::filesystem::rename(tmp, root_file, ec);
    if (!ok || ec) return make_error(Errc::kIo, "cannot write " + root_file.string());
    root = key;
    *created = true;
  }
  AccessKey k;
  k.id = root->access_key_id;
  k.secret = root->secret;
  s->keys[k.id] = std::move(k);
  compile(*s);
  std::lock_guard lock(mu_);
  current_ = std::move(s);
  return {};
}

void Directory::compile(Snapshot& s) const {
  s.by_key.clear();
  s.by_role.clear();
  auto managed = [&](const std::string& arn) -> std::shared_ptr<const Policy> {
    auto it = s.policies.find(arn);
    if (it == s.policies.end() || !it->second.current()) return nullptr;
    return compiled(it->second.current()->document, PolicyKind::kIdentity);
  };
  auto gather = [&](const std::map<std::string, std::string>& inline_policies,
                    const std::vector<std::string>& attached, const std::string& boundary) {
    Principal p;
    for (const auto& [_, doc] : inline_policies) {
      if (auto c = compiled(doc, PolicyKind::kIdentity)) p.policies.push_back(std::move(c));
    }
    for (const auto& arn : attached) {
      if (auto c = managed(arn)) p.policies.push_back(std::move(c));
    }
    if (!boundary.empty()) p.boundary = managed(boundary);
    return p;
  };
  for (const auto& [id, key] : s.keys) {
    auto caller = std::make_shared<aws::Caller>();
    caller->account = names_.account_id;
    caller->access_key_id = id;
    Principal p;
    if (key.user.empty()) {
      caller->arn = fmt::format("arn:aws:iam::{}:root", names_.account_id);
      caller->user_id = names_.account_id;
      caller->type = "Account";
      caller->root = true;
    } else {
      auto u = s.users.find(key.user);
      if (u == s.users.end()) continue;
      p = gather(u->second.inline_policies, u->second.attached, u->second.boundary);
      caller->arn = user_arn(u->second);
      caller->user_id = u->second.id;
      caller->type = "User";
      caller->name = u->second.name;
    }
    p.caller = std::move(caller);
    s.by_key[id] = std::move(p);
  }
  for (const auto& [name, role] : s.roles) {
    s.by_role[name] = gather(role.inline_policies, role.attached, role.boundary);
  }
}

std::shared_ptr<const Snapshot> Directory::view() const {
  std::lock_guard lock(mu_);
  return current_;
}

Result<void> Directory::persist(const Snapshot& s, const Touched& t) {
  std::vector<store::IdentityRecord> put, remove;
  for (const auto& name : t.users) {
    auto it = s.users.find(name);
    if (it == s.users.end())
      remove.push_back({"user", name, ""});
    else
      put.push_back({"user", name, user_doc(it->second)});
  }
  for (const auto& name : t.roles) {
    auto it = s.roles.find(name);
    if (it == s.roles.end())
      remove.push_back({"role", name, ""});
    else
      put.push_back({"role", name, role_doc(it->second)});
  }
  for (const auto& arn : t.policies) {
    auto it = s.policies.find(arn);
    if (it == s.policies.end())
      remove.push_back({"policy", arn, ""});
    else if (!it->second.aws_managed)
      put.push_back({"policy", arn, policy_doc(it->second)});
  }
  for (const auto& id : t.keys) {
    auto it = s.keys.find(id);
    if (it == s.keys.end()) {
      remove.push_back({"access_key", id, ""});
      continue;
    }
    const AccessKey& k = it->second;
    put.push_back(
        {"access_key", id,
         json::serialize(json::object{{"user", k.user},
                                      {"status", k.active ? "Active" : "Inactive"},
                                      {"created", k.created_ms},
                                      {"secret", base64_encode(cipher_.seal(k.secret, k.id))}})});
  }
  return store_.write_identities(put, remove);
}

Result<void> Directory::update(const std::function<Result<void>(Snapshot&, Touched&)>& change) {
  std::lock_guard serial(update_mu_);
  auto next = std::make_shared<Snapshot>(*view());
  Touched touched;
  LAMBENT_TRY_VOID(change(*next, touched));
  LAMBENT_TRY_VOID(persist(*next, touched));
  compile(*next);
  std::lock_guard lock(mu_);
  current_ = std::move(next);
  return {};
}

Session Directory::new_session(const Role& role, std::string session_name, int64_t now,
                               int64_t seconds, std::string policy) const {
  Session s;
  s.access_key_id = new_id("ASIA", 16);
  s.secret = new_secret();
  s.role_name = role.name;
  s.role_id = role.id;
  s.session_name = std::move(session_name);
  s.policy = std::move(policy);
  s.issued = now;
  s.expires = now + seconds;
  return s;
}

std::string Directory::session_token(const Session& s) const {
  json::object o{{"k", s.access_key_id}, {"s", s.secret}, {"r", s.role_name}, {"ri", s.role_id},
                 {"n", s.session_name},  {"i", s.issued}, {"e", s.expires}};
  if (!s.policy.empty()) o["p"] = s.policy;
  return std::string(kTokenPrefix) + base64_encode(cipher_.seal(json::serialize(o), kSessionAad));
}

Result<Session> Directory::open_session_token(std::string_view token) const {
  auto bad =
      make_error(Errc::kInvalidArgument, "The security token included in the request is invalid.");
  if (!token.starts_with(kTokenPrefix)) return bad;
  auto sealed = base64_decode(token.substr(kTokenPrefix.size()));
  if (!sealed) return bad;
  auto plain = cipher_.open(*sealed, kSessionAad);
  if (!plain) return bad;
  boost::system::error_code ec;
  json::value v = json::parse(*plain, ec);
  if (ec || !v.is_object()) return bad;
  const auto& o = v.get_object();
  Session s;
  s.access_key_id = str(o, "k");
  s.secret = str(o, "s");
  s.role_name = str(o, "r");
  s.role_id = str(o, "ri");
  s.session_name = str(o, "n");
  s.policy = str(o, "p");
  s.issued = num(o, "i");
  s.expires = num(o, "e");
  return s;
}

std::vector<ManagedPolicy> aws_managed_policies() {
  struct Def {
    const char* path;
    const char* name;
    const char* document;
    int64_t created_ms;
  };
  // The published documents (services-compat §2.12), and the broad ones people attach.
  static const Def kDefs[] = {
      {"/service-role/", "AWSLambdaBasicExecutionRole",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]})",
       1428537600000},
      {"/service-role/", "AWSLambdaSQSQueueExecutionRole",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]})",
       1528934400000},
      {"/service-role/", "AWSLambdaRole",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]})",
       1423180800000},
      {"/", "AWSLambdaExecute",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"arn:aws:logs:*:*:*"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::*"}]})",
       1423180800000},
      {"/", "AWSLambda_FullAccess",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudwatch:ListMetrics","cloudwatch:GetMetricData","cloudwatch:GetMetricStatistics","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","lambda:*","logs:DescribeLogGroups","sqs:ListQueues","sqs:SendMessage","sns:ListTopics","s3:ListAllMyBuckets","events:ListRules"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]})",
       1605225600000},
      {"/", "AWSLambda_ReadOnlyAccess",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","iam:GetRole","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","lambda:Get*","lambda:List*","logs:DescribeLogGroups","sqs:ListQueues"],"Resource":"*"},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]})",
       1605225600000},
      {"/", "AdministratorAccess",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})",
       1423180800000},
      {"/", "ReadOnlyAccess",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","iam:Get*","iam:List*","lambda:Get*","lambda:List*","logs:Describe*","logs:Get*","logs:FilterLogEvents","sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListQueueTags","sts:GetCallerIdentity"],"Resource":"*"}]})",
       1423180800000},
      {"/", "AmazonSQSFullAccess",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:*"],"Resource":"*"}]})",
       1423180800000},
      {"/", "CloudWatchLogsFullAccess",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"*"}]})",
       1423180800000},
  };
  std::vector<ManagedPolicy> out;
  for (const auto& d : kDefs) {
    ManagedPolicy p;
    p.arn = fmt::format("arn:aws:iam::aws:policy{}{}", d.path, d.name);
    p.name = d.name;
    p.path = d.path;
    // A stable id per policy (ANPA + 17), derived from its name.
    std::string digest = hex_encode(as_bytes(sha256(p.arn)));
    p.id = "ANPA";
    for (size_t i = 0; i < 17; ++i) {
      p.id += static_cast<char>(std::toupper(static_cast<unsigned char>(digest[i])));
    }
    p.created_ms = p.updated_ms = d.created_ms;
    p.versions.push_back({"v1", d.document, d.created_ms});
    p.aws_managed = true;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace lambent::iam

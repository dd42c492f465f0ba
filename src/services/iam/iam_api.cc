#include "services/iam/iam_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>
#include <regex>

#include "aws/sigv4.h"
#include "base/time.h"

namespace lambent::iam_api {
namespace json = boost::json;
using aws::Call;
using aws::Output;
using aws::ServiceError;
using iam::Directory;
using iam::ManagedPolicy;
using iam::Role;
using iam::Snapshot;
using iam::Touched;
using iam::User;

namespace {

constexpr const char* kXmlns = "https://iam.amazonaws.com/doc/2010-05-08/";

ServiceError no_such(std::string message) {
  return ServiceError(404, "NoSuchEntity", std::move(message));
}
ServiceError exists(std::string message) {
  return ServiceError(409, "EntityAlreadyExists", std::move(message));
}
ServiceError conflict(std::string message) {
  return ServiceError(409, "DeleteConflict", std::move(message));
}
ServiceError limit(std::string message) {
  return ServiceError(409, "LimitExceeded", std::move(message));
}
// IAM's timestamps: ISO 8601 to the second.
std::string iso(int64_t ms) { return format_iso8601_seconds(ms); }

std::string encoded(const std::string& doc) { return aws::sigv4::uri_encode(doc, false); }

std::string opt(const json::object& in, std::string_view key) {
  return aws::string_member(in, key);
}

std::string lower_first(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::string required(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (!v || !v->is_string()) {
    throw aws::validation_error("null", lower_first(key), "Member must not be null");
  }
  return std::string(v->get_string());
}

// Names of users and roles: [\w+=,.@-]{1,64}; policies up to 128.
std::string name_of(const json::object& in, std::string_view key, size_t max = 64) {
  std::string v = required(in, key);
  static const std::regex kName(R"([\w+=,.@-]+)");
  if (v.empty() || v.size() > max) {
    throw aws::validation_error(
        v, lower_first(key), fmt::format("Member must have length less than or equal to {}", max));
  }
  if (!std::regex_match(v, kName)) {
    throw aws::validation_error(v, lower_first(key),
                                "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  }
  return v;
}

std::string path_of(const json::object& in) {
  std::string p = opt(in, "Path");
  if (p.empty()) return "/";
  if (p.front() != '/' || p.back() != '/' || p.size() > 512) {
    throw aws::validation_error(p, "path",
                                "Member must satisfy regular expression pattern: "
                                "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  }
  return p;
}

std::string document(const json::object& in, std::string_view key, iam::PolicyKind kind,
                     size_t max) {
  std::string doc = required(in, key);
  size_t chars = std::count_if(doc.begin(), doc.end(),
                               [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
  if (chars > max) {
    throw limit(fmt::format("Cannot exceed quota for PolicySize: {}", max));
  }
  auto p = iam::parse_policy(doc, kind);
  if (!p) throw ServiceError(400, "MalformedPolicyDocument", p.error().message);
  return doc;
}

json::array tags_out(const std::vector<iam::Tag>& tags) {
  json::array a;
  for (const auto& t : tags) a.push_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return a;
}

std::vector<iam::Tag> tags_in(const json::object& in) {
  std::vector<iam::Tag> out;
  if (auto* v = in.if_contains("Tags"); v && v->is_array()) {
    for (const auto& t : v->get_array()) {
      if (!t.is_object()) continue;
      out.push_back({opt(t.get_object(), "Key"), opt(t.get_object(), "Value")});
    }
  }
  if (out.size() > 50) throw limit("Cannot exceed quota for TagsPerUser: 50");
  return out;
}

int max_items(const json::object& in) {
  std::string m = opt(in, "MaxItems");
  if (m.empty()) return 100;
  int n = std::atoi(m.c_str());
  if (n < 1 || n > 1000) {
    throw aws::validation_error(m, "maxItems", "Member must have value between 1 and 1000");
  }
  return n;
}

// One page of `items` (ordered by their key) after Marker.
template <class Map, class Fn>
json::object page(const Map& items, const json::object& in, const char* member, Fn&& write,
                  const std::function<bool(const typename Map::mapped_type&)>& keep = nullptr) {
  const std::string marker = opt(in, "Marker");
  const int max = max_items(in);
  json::array out;
  bool truncated = false;
  std::string last;
  for (auto it = marker.empty() ? items.begin() : items.upper_bound(marker); it != items.end();
       ++it) {
    if (keep && !keep(it->second)) continue;
    if (static_cast<int>(out.size()) == max) {
      truncated = true;
      break;
    }
    out.push_back(write(it->second));
    last = it->first;
  }
  json::object r{{member, std::move(out)}, {"IsTruncated", truncated}};
  if (truncated) r["Marker"] = last;
  return r;
}

}  // namespace

aws::ServiceInfo IamApi::info() {
  return {.name = "iam", .protocol = aws::Protocol::kQuery, .xmlns = kXmlns, .global = true};
}

IamApi::IamApi(Directory& directory, boost::asio::thread_pool& pool)
    : dir_(directory), service_(info(), pool) {
  Directory& dir = dir_;
  const std::string account = dir.names().account_id;

  auto user_out = [&dir](const User& u) {
    json::object o{{"Path", u.path},
                   {"UserName", u.name},
                   {"UserId", u.id},
                   {"Arn", dir.user_arn(u)},
                   {"CreateDate", iso(u.created_ms)}};
    if (!u.boundary.empty()) {
      o["PermissionsBoundary"] = json::object{{"PermissionsBoundaryType", "Policy"},
                                              {"PermissionsBoundaryArn", u.boundary}};
    }
    if (!u.tags.empty()) o["Tags"] = tags_out(u.tags);
    return o;
  };
  auto role_out = [&dir](const Role& r) {
    json::object o{{"Path", r.path},
                   {"RoleName", r.name},
                   {"RoleId", r.id},
                   {"Arn", dir.role_arn(r)},
                   {"CreateDate", iso(r.created_ms)},
                   {"AssumeRolePolicyDocument", encoded(r.trust_policy)},
                   {"MaxSessionDuration", r.max_session_seconds}};
    if (!r.description.empty()) o["Description"] = r.description;
    if (!r.boundary.empty()) {
      o["PermissionsBoundary"] = json::object{{"PermissionsBoundaryType", "Policy"},
                                              {"PermissionsBoundaryArn", r.boundary}};
    }
    if (!r.tags.empty()) o["Tags"] = tags_out(r.tags);
    return o;
  };
  auto count_attachments = [](const Snapshot& s, const std::string& arn) {
    int n = 0;
    for (const auto& [_, u] : s.users) n += std::count(u.attached.begin(), u.attached.end(), arn);
    for (const auto& [_, r] : s.roles) n += std::count(r.attached.begin(), r.attached.end(), arn);
    return n;
  };
  auto policy_out = [count_attachments](const Snapshot& s, const ManagedPolicy& p) {
    json::object o{{"PolicyName", p.name},
                   {"PolicyId", p.id},
                   {"Arn", p.arn},
                   {"Path", p.path},
                   {"DefaultVersionId", p.default_version},
                   {"AttachmentCount", count_attachments(s, p.arn)},
                   {"PermissionsBoundaryUsageCount", 0},
                   {"IsAttachable", true},
                   {"CreateDate", iso(p.created_ms)},
                   {"UpdateDate", iso(p.updated_ms)}};
    if (!p.description.empty()) o["Description"] = p.description;
    return o;
  };
  auto find_user = [](Snapshot& s, const std::string& name) -> User& {
    auto it = s.users.find(name);
    if (it == s.users.end()) throw no_such("The user with name " + name + " cannot be found.");
    return it->second;
  };
  auto find_role = [](Snapshot& s, const std::string& name) -> Role& {
    auto it = s.roles.find(name);
    if (it == s.roles.end()) throw no_such("The role with name " + name + " cannot be found.");
    return it->second;
  };
  auto find_policy = [](Snapshot& s, const std::string& arn) -> ManagedPolicy& {
    auto it = s.policies.find(arn);
    if (it == s.policies.end())
      throw no_such("Policy " + arn + " does not exist or is not attachable.");
    return it->second;
  };
  // Runs a change; a ServiceError thrown inside aborts it (nothing is written).
  auto change = [&dir](const std::function<void(Snapshot&, Touched&)>& fn) {
    auto r = dir.update([&](Snapshot& s, Touched& t) -> Result<void> {
      fn(s, t);
      return {};
    });
    if (!r) throw ServiceError(500, "ServiceFailure", r.error().message);
  };
  auto caller_user = [](const Call& call) -> std::string {
    auto c = aws::caller_of(call.req);
    return c && c->type == "User" ? c->name : "";
  };

  // Authorization: the IAM action on the entity named by the request.
  service_.set_access([&dir](const Call& call) -> std::vector<aws::Access> {
    const auto& in = call.input;
    const std::string action = "iam:" + call.operation;
    const std::string& account = dir.names().account_id;
    std::string resource = "*";
    if (auto p = opt(in, "PolicyArn"); !p.empty()) {
      resource = p;
    }
    if (auto u = opt(in, "UserName"); !u.empty()) {
      auto s = dir.view();
      auto it = s->users.find(u);
      resource = it != s->users.end()
                     ? dir.user_arn(it->second)
                     : fmt::format("arn:aws:iam::{}:user{}{}", account,
                                   opt(in, "Path").empty() ? "/" : opt(in, "Path"), u);
    } else if (auto r = opt(in, "RoleName"); !r.empty()) {
      auto s = dir.view();
      auto it = s->roles.find(r);
      resource = it != s->roles.end()
                     ? dir.role_arn(it->second)
                     : fmt::format("arn:aws:iam::{}:role{}{}", account,
                                   opt(in, "Path").empty() ? "/" : opt(in, "Path"), r);
    } else if (call.operation == "CreatePolicy") {
      resource =
          dir.policy_arn(opt(in, "Path").empty() ? "/" : opt(in, "Path"), opt(in, "PolicyName"));
    } else if (call.operation == "GetUser" ||
               call.operation.find("AccessKey") != std::string::npos) {
      // Without UserName: the caller's own user.
      auto c = aws::caller_of(call.req);
      if (c && c->type == "User") resource = c->arn;
    }
    return {{action, resource, {}}};
  });

  // ---- Users ----
  service_.add("CreateUser", [=, &dir](Call& call) -> Output {
    const std::string name = name_of(call.input, "UserName");
    User u;
    u.name = name;
    u.path = path_of(call.input);
    u.id = iam::new_id("AIDA", 17);
    u.created_ms = now_ms();
    u.tags = tags_in(call.input);
    u.boundary = opt(call.input, "PermissionsBoundary");
    change([&](Snapshot& s, Touched& t) {
      if (s.users.count(name)) throw exists("User with name " + name + " already exists.");
      if (!u.boundary.empty()) find_policy(s, u.boundary);
      s.users[name] = u;
      t.users.push_back(name);
    });
    return json::object{{"User", user_out(u)}};
  });
  service_.add("GetUser", [=, &dir](Call& call) -> Output {
    std::string name = opt(call.input, "UserName");
    if (name.empty()) name = caller_user(call);
    if (name.empty()) {
      auto c = aws::caller_of(call.req);
      if (c && c->root) {
        return json::object{
            {"User", json::object{{"UserId", account}, {"Arn", c->arn}, {"CreateDate", iso(0)}}}};
      }
      throw ServiceError(400, "ValidationError",
                         "Must specify userName when calling with non-User credentials");
    }
    Snapshot s = *dir.view();
    return json::object{{"User", user_out(find_user(s, name))}};
  });
  service_.add("ListUsers", [=, &dir](Call& call) -> Output {
    auto s = dir.view();
    std::string prefix = opt(call.input, "PathPrefix");
    return page(s->users, call.input, "Users", user_out,
                [&](const User& u) { return u.path.starts_with(prefix); });
  });
  service_.add("UpdateUser", [=](Call& call) -> Output {
    const std::string name = name_of(call.input, "UserName");
    const std::string new_name = opt(call.input, "NewUserName");
    const std::string new_path = opt(call.input, "NewPath");
    change([&](Snapshot& s, Touched& t) {
      User u = find_user(s, name);
      if (!new_path.empty()) {
        json::object p{{"Path", new_path}};
        u.path = path_of(p);
      }
      if (!new_name.empty() && new_name != name) {
        if (s.users.count(new_name))
          throw exists("User with name " + new_name + " already exists.");
        s.users.erase(name);
        t.users.push_back(name);
        u.name = new_name;
        for (auto& [id, k] : s.keys) {
          if (k.user == name) {
            k.user = new_name;
            t.keys.push_back(id);
          }
        }
      }
      s.users[u.name] = u;
      t.users.push_back(u.name);
    });
    return json::object{};
  });
  service_.add("DeleteUser", [=](Call& call) -> Output {
    const std::string name = name_of(call.input, "UserName");
    change([&](Snapshot& s, Touched& t) {
      User& u = find_user(s, name);
      for (const auto& [_, k] : s.keys) {
        if (k.user == name) throw conflict("Cannot delete entity, must delete access keys first.");
      }
      if (!u.inline_policies.empty())
        throw conflict("Cannot delete entity, must delete policies first.");
      if (!u.attached.empty())
        throw conflict("Cannot delete entity, must detach all policies first.");
      s.users.erase(name);
      t.users.push_back(name);
    });
    return json::object{};
  });

  // ---- Access keys ----
  auto key_user = [=](const Call& call) {
    std::string name = opt(call.input, "UserName");
    if (name.empty()) name = caller_user(call);
    if (name.empty()) {
      throw ServiceError(400, "ValidationError",
                         "Must specify userName when calling with non-User credentials");
    }
    return name;
  };
  service_.add("CreateAccessKey", [=](Call& call) -> Output {
    const std::string name = key_user(call);
    iam::AccessKey k;
    k.id = iam::new_id("AKIA", 16);
    k.user = name;
    k.secret = iam::new_secret();
    k.created_ms = now_ms();
    change([&](Snapshot& s, Touched& t) {
      find_user(s, name);
      int n = std::count_if(s.keys.begin(), s.keys.end(),
                            [&](const auto& e) { return e.second.user == name; });
      if (n >= 2) throw limit("Cannot exceed quota for AccessKeysPerUser: 2");
      s.keys[k.id] = k;
      t.keys.push_back(k.id);
    });
    return json::object{{"AccessKey", json::object{{"UserName", name},
                                                   {"AccessKeyId", k.id},
                                                   {"Status", "Active"},
                                                   {"SecretAccessKey", k.secret},
                                                   {"CreateDate", iso(k.created_ms)}}}};
  });
  service_.add("ListAccessKeys", [=, &dir](Call& call) -> Output {
    const std::string name = key_user(call);
    Snapshot s = *dir.view();
    find_user(s, name);
    json::array keys;
    for (const auto& [id, k] : s.keys) {
      if (k.user != name) continue;
      keys.push_back(json::object{{"UserName", name},
                                  {"AccessKeyId", id},
                                  {"Status", k.active ? "Active" : "Inactive"},
                                  {"CreateDate", iso(k.created_ms)}});
    }
    return json::object{{"AccessKeyMetadata", std::move(keys)}, {"IsTruncated", false}};
  });
  auto find_key = [](Snapshot& s, const std::string& id,
                     const std::string& user) -> iam::AccessKey& {
    auto it = s.keys.find(id);
    if (it == s.keys.end() || it->second.user.empty() || it->second.user != user) {
      throw no_such("The Access Key with id " + id + " cannot be found.");
    }
    return it->second;
  };
  service_.add("UpdateAccessKey", [=](Call& call) -> Output {
    const std::string name = key_user(call);
    const std::string id = required(call.input, "AccessKeyId");
    const std::string status = required(call.input, "Status");
    if (status != "Active" && status != "Inactive") {
      throw aws::validation_error(status, "status",
                                  "Member must satisfy enum value set: [Active, Inactive]");
    }
    change([&](Snapshot& s, Touched& t) {
      find_key(s, id, name).active = status == "Active";
      t.keys.push_back(id);
    });
    return json::object{};
  });
  service_.add("DeleteAccessKey", [=](Call& call) -> Output {
    const std::string name = key_user(call);
    const std::string id = required(call.input, "AccessKeyId");
    change([&](Snapshot& s, Touched& t) {
      find_key(s, id, name);
      s.keys.erase(id);
      t.keys.push_back(id);
    });
    return json::object{};
  });

  // ---- Roles ----
  service_.add("CreateRole", [=](Call& call) -> Output {
    Role r;
    r.name = name_of(call.input, "RoleName");
    r.path = path_of(call.input);
    r.trust_policy =
        document(call.input, "AssumeRolePolicyDocument", iam::PolicyKind::kTrust, 2048);
    r.description = opt(call.input, "Description");
    if (r.description.size() > 1000) {
      throw aws::validation_error(r.description, "description",
                                  "Member must have length less than or equal to 1000");
    }
    if (auto m = opt(call.input, "MaxSessionDuration"); !m.empty()) {
      r.max_session_seconds = std::atoi(m.c_str());
      if (r.max_session_seconds < 3600 || r.max_session_seconds > 43200) {
        throw aws::validation_error(m, "maxSessionDuration",
                                    "Member must have value between 3600 and 43200");
      }
    }
    r.id = iam::new_id("AROA", 17);
    r.created_ms = now_ms();
    r.tags = tags_in(call.input);
    r.boundary = opt(call.input, "PermissionsBoundary");
    change([&](Snapshot& s, Touched& t) {
      if (s.roles.count(r.name)) throw exists("Role with name " + r.name + " already exists.");
      if (!r.boundary.empty()) find_policy(s, r.boundary);
      s.roles[r.name] = r;
      t.roles.push_back(r.name);
    });
    return json::object{{"Role", role_out(r)}};
  });
  service_.add("GetRole", [=, &dir](Call& call) -> Output {
    Snapshot s = *dir.view();
    return json::object{{"Role", role_out(find_role(s, name_of(call.input, "RoleName")))}};
  });
  service_.add("ListRoles", [=, &dir](Call& call) -> Output {
    auto s = dir.view();
    std::string prefix = opt(call.input, "PathPrefix");
    return page(s->roles, call.input, "Roles", role_out,
                [&](const Role& r) { return r.path.starts_with(prefix); });
  });
  service_.add("UpdateRole", [=](Call& call) -> Output {
    const std::string name = name_of(call.input, "RoleName");
    change([&](Snapshot& s, Touched& t) {
      Role& r = find_role(s, name);
      if (call.input.contains("Description")) r.description = opt(call.input, "Description");
      if (auto m = opt(call.input, "MaxSessionDuration"); !m.empty()) {
        int v = std::atoi(m.c_str());
        if (v < 3600 || v > 43200) {
          throw aws::validation_error(m, "maxSessionDuration",
                                      "Member must have value between 3600 and 43200");
        }
        r.max_session_seconds = v;
      }
      t.roles.push_back(name);
    });
    return json::object{};
  });
  service_.add("UpdateAssumeRolePolicy", [=](Call& call) -> Output {
    const std::string name = name_of(call.input, "RoleName");
    const std::string doc = document(call.input, "PolicyDocument", iam::PolicyKind::kTrust, 2048);
    change([&](Snapshot& s, Touched& t) {
      find_role(s, name).trust_policy = doc;
      t.roles.push_back(name);
    });
    return json::object{};
  });
  service_.add("DeleteRole", [=](Call& call) -> Output {
    const std::string name = name_of(call.input, "RoleName");
    change([&](Snapshot& s, Touched& t) {
      Role& r = find_role(s, name);
      if (!r.inline_policies.empty())
        throw conflict("Cannot delete entity, must delete policies first.");
      if (!r.attached.empty())
        throw conflict("Cannot delete entity, must detach all policies first.");
      s.roles.erase(name);
      t.roles.push_back(name);
    });
    return json::object{};
  });

  // ---- Inline policies (users and roles) ----
  struct Holder {
    const char* kind;      // "User" / "Role"
    const char* name_key;  // "UserName" / "RoleName"
    size_t quota;          // aggregate inline size
  };
  auto inline_ops = [&](Holder h) {
    const std::string kind = h.kind;
    const std::string name_key = h.name_key;
    const size_t quota = h.quota;
    auto policies_of = [=](Snapshot& s,
                           const std::string& name) -> std::map<std::string, std::string>& {
      if (kind == "User") return find_user(s, name).inline_policies;
      return find_role(s, name).inline_policies;
    };
    auto touch = [kind](Touched& t, const std::string& name) {
      (kind == "User" ? t.users : t.roles).push_back(name);
    };
    service_.add("Put" + kind + "Policy", [=](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      const std::string policy = name_of(call.input, "PolicyName", 128);
      const std::string doc =
          document(call.input, "PolicyDocument", iam::PolicyKind::kIdentity, quota);
      change([&](Snapshot& s, Touched& t) {
        auto& m = policies_of(s, name);
        size_t total = 0;
        for (const auto& [n, d] : m) {
          if (n != policy) total += d.size();
        }
        if (total + doc.size() > quota) {
          throw limit(fmt::format("Maximum policy size of {} bytes exceeded for {} {}.", quota,
                                  kind == "User" ? "user" : "role", name));
        }
        m[policy] = doc;
        touch(t, name);
      });
      return json::object{};
    });
    service_.add("Get" + kind + "Policy", [=, &dir](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      const std::string policy = name_of(call.input, "PolicyName", 128);
      Snapshot s = *dir.view();
      auto& m = policies_of(s, name);
      auto it = m.find(policy);
      if (it == m.end()) {
        throw no_such(fmt::format("The {} policy with name {} cannot be found.",
                                  kind == "User" ? "user" : "role", policy));
      }
      return json::object{
          {name_key, name}, {"PolicyName", policy}, {"PolicyDocument", encoded(it->second)}};
    });
    service_.add("List" + kind + "Policies", [=, &dir](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      Snapshot s = *dir.view();
      json::array names;
      for (const auto& [n, _] : policies_of(s, name)) names.emplace_back(n);
      return json::object{{"PolicyNames", std::move(names)}, {"IsTruncated", false}};
    });
    service_.add("Delete" + kind + "Policy", [=](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      const std::string policy = name_of(call.input, "PolicyName", 128);
      change([&](Snapshot& s, Touched& t) {
        auto& m = policies_of(s, name);
        if (!m.erase(policy)) {
          throw no_such(fmt::format("The {} policy with name {} cannot be found.",
                                    kind == "User" ? "user" : "role", policy));
        }
        touch(t, name);
      });
      return json::object{};
    });
    // Managed policy attachments.
    auto attached_of = [=](Snapshot& s, const std::string& name) -> std::vector<std::string>& {
      if (kind == "User") return find_user(s, name).attached;
      return find_role(s, name).attached;
    };
    service_.add("Attach" + kind + "Policy", [=](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      const std::string arn = required(call.input, "PolicyArn");
      change([&](Snapshot& s, Touched& t) {
        auto& list = attached_of(s, name);
        find_policy(s, arn);
        if (std::find(list.begin(), list.end(), arn) != list.end()) return;
        if (list.size() >= 10) {
          throw limit(fmt::format("Cannot exceed quota for PoliciesPer{}: 10", kind));
        }
        list.push_back(arn);
        touch(t, name);
      });
      return json::object{};
    });
    service_.add("Detach" + kind + "Policy", [=](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      const std::string arn = required(call.input, "PolicyArn");
      change([&](Snapshot& s, Touched& t) {
        auto& list = attached_of(s, name);
        auto it = std::find(list.begin(), list.end(), arn);
        if (it == list.end()) throw no_such("Policy " + arn + " was not found.");
        list.erase(it);
        touch(t, name);
      });
      return json::object{};
    });
    service_.add("ListAttached" + kind + "Policies", [=, &dir](Call& call) -> Output {
      const std::string name = name_of(call.input, name_key);
      Snapshot s = *dir.view();
      json::array out;
      for (const auto& arn : attached_of(s, name)) {
        auto it = s.policies.find(arn);
        out.push_back(json::object{{"PolicyName", it == s.policies.end() ? arn : it->second.name},
                                   {"PolicyArn", arn}});
      }
      return json::object{{"AttachedPolicies", std::move(out)}, {"IsTruncated", false}};
    });
  };
  inline_ops({"User", "UserName", 2048});
  inline_ops({"Role", "RoleName", 10240});

  // ---- Managed policies ----
  service_.add("CreatePolicy", [=, &dir](Call& call) -> Output {
    ManagedPolicy p;
    p.name = name_of(call.input, "PolicyName", 128);
    p.path = path_of(call.input);
    p.description = opt(call.input, "Description");
    const std::string doc =
        document(call.input, "PolicyDocument", iam::PolicyKind::kIdentity, 6144);
    p.arn = dir.policy_arn(p.path, p.name);
    p.id = iam::new_id("ANPA", 17);
    p.created_ms = p.updated_ms = now_ms();
    p.versions.push_back({"v1", doc, p.created_ms});
    Snapshot after;
    change([&](Snapshot& s, Touched& t) {
      for (const auto& [arn, existing] : s.policies) {
        if (!existing.aws_managed && existing.name == p.name) {
          throw exists("A policy called " + p.name +
                       " already exists. Duplicate names are not allowed.");
        }
      }
      s.policies[p.arn] = p;
      t.policies.push_back(p.arn);
      after = s;
    });
    return json::object{{"Policy", policy_out(after, p)}};
  });
  service_.add("GetPolicy", [=, &dir](Call& call) -> Output {
    Snapshot s = *dir.view();
    return json::object{
        {"Policy", policy_out(s, find_policy(s, required(call.input, "PolicyArn")))}};
  });
  service_.add("ListPolicies", [=, &dir](Call& call) -> Output {
    auto s = dir.view();
    const std::string scope = opt(call.input, "Scope");
    const bool only_attached = opt(call.input, "OnlyAttached") == "true";
    const std::string prefix = opt(call.input, "PathPrefix");
    if (!scope.empty() && scope != "All" && scope != "AWS" && scope != "Local") {
      throw aws::validation_error(scope, "scope",
                                  "Member must satisfy enum value set: [All, AWS, Local]");
    }
    auto write = [&](const ManagedPolicy& p) { return policy_out(*s, p); };
    return page(s->policies, call.input, "Policies", write, [&](const ManagedPolicy& p) {
      if (scope == "AWS" && !p.aws_managed) return false;
      if (scope == "Local" && p.aws_managed) return false;
      if (only_attached && count_attachments(*s, p.arn) == 0) return false;
      return p.path.starts_with(prefix);
    });
  });
  service_.add("DeletePolicy", [=](Call& call) -> Output {
    const std::string arn = required(call.input, "PolicyArn");
    change([&](Snapshot& s, Touched& t) {
      ManagedPolicy& p = find_policy(s, arn);
      if (p.aws_managed)
        throw ServiceError(400, "UnmodifiableEntity", "Cannot delete an AWS managed policy.");
      if (count_attachments(s, arn) > 0)
        throw conflict("Cannot delete a policy attached to entities.");
      if (p.versions.size() > 1)
        throw conflict(
            "This policy has more than one version. Before you delete a policy, you must delete "
            "the policy's versions. The default version is deleted with the policy.");
      for (const auto& [_, u] : s.users) {
        if (u.boundary == arn) throw conflict("Cannot delete a policy attached to entities.");
      }
      s.policies.erase(arn);
      t.policies.push_back(arn);
    });
    return json::object{};
  });
  auto version_out = [](const ManagedPolicy& p, const iam::PolicyVersion& v, bool with_doc) {
    json::object o{{"VersionId", v.id},
                   {"IsDefaultVersion", v.id == p.default_version},
                   {"CreateDate", iso(v.created_ms)}};
    if (with_doc) o["Document"] = encoded(v.document);
    return o;
  };
  service_.add("CreatePolicyVersion", [=](Call& call) -> Output {
    const std::string arn = required(call.input, "PolicyArn");
    const std::string doc =
        document(call.input, "PolicyDocument", iam::PolicyKind::kIdentity, 6144);
    const bool set_default = opt(call.input, "SetAsDefault") == "true";
    json::object out;
    change([&](Snapshot& s, Touched& t) {
      ManagedPolicy& p = find_policy(s, arn);
      if (p.aws_managed)
        throw ServiceError(400, "UnmodifiableEntity", "Cannot modify an AWS managed policy.");
      if (p.versions.size() >= 5)
        throw limit(
            "A managed policy can have up to 5 versions. Before you create a new version, you must "
            "delete an existing version.");
      iam::PolicyVersion v{"v" + std::to_string(p.next_version++), doc, now_ms()};
      p.versions.push_back(v);
      if (set_default) p.default_version = v.id;
      p.updated_ms = v.created_ms;
      t.policies.push_back(arn);
      out = json::object{{"PolicyVersion", version_out(p, v, false)}};
    });
    return out;
  });
  auto find_version = [](ManagedPolicy& p, const std::string& id) -> iam::PolicyVersion& {
    for (auto& v : p.versions) {
      if (v.id == id) return v;
    }
    throw no_such("Policy " + p.arn + " version " + id + " does not exist or is not attachable.");
  };
  service_.add("GetPolicyVersion", [=, &dir](Call& call) -> Output {
    Snapshot s = *dir.view();
    ManagedPolicy& p = find_policy(s, required(call.input, "PolicyArn"));
    return json::object{{"PolicyVersion",
                         version_out(p, find_version(p, required(call.input, "VersionId")), true)}};
  });
  service_.add("ListPolicyVersions", [=, &dir](Call& call) -> Output {
    Snapshot s = *dir.view();
    ManagedPolicy& p = find_policy(s, required(call.input, "PolicyArn"));
    json::array out;
    for (auto it = p.versions.rbegin(); it != p.versions.rend(); ++it)
      out.push_back(version_out(p, *it, false));
    return json::object{{"Versions", std::move(out)}, {"IsTruncated", false}};
  });
  service_.add("DeletePolicyVersion", [=](Call& call) -> Output {
    const std::string arn = required(call.input, "PolicyArn");
    const std::string id = required(call.input, "VersionId");
    change([&](Snapshot& s, Touched& t) {
      ManagedPolicy& p = find_policy(s, arn);
      find_version(p, id);
      if (p.default_version == id) throw conflict("Cannot delete the default version of a policy.");
      std::erase_if(p.versions, [&](const iam::PolicyVersion& v) { return v.id == id; });
      t.policies.push_back(arn);
    });
    return json::object{};
  });
  service_.add("SetDefaultPolicyVersion", [=](Call& call) -> Output {
    const std::string arn = required(call.input, "PolicyArn");
    const std::string id = required(call.input, "VersionId");
    change([&](Snapshot& s, Touched& t) {
      ManagedPolicy& p = find_policy(s, arn);
      if (p.aws_managed)
        throw ServiceError(400, "UnmodifiableEntity", "Cannot modify an AWS managed policy.");
      find_version(p, id);
      p.default_version = id;
      p.updated_ms = now_ms();
      t.policies.push_back(arn);
    });
    return json::object{};
  });
}

}  // namespace lambent::iam_api

// `lambent deploy DIR|ZIP --name F [--runtime R --handler H --memory MB --timeout S --env K=V ...
//  --role ARN --description D --publish]`: zips a folder (or takes a .zip), creates the function
// or updates its code and configuration, waits until it is active, prints its ARN and CodeSha256.
#include <archive.h>
#include <archive_entry.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/codec.h"
#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Failure("cannot read " + p.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The folder as a zip: regular files (with their exec bits), directories, symlinks as links.
std::string zip_folder(const fs::path& dir) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) throw Failure("cannot read " + dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end());
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& p : entries) {
    auto st = fs::symlink_status(p);
    std::string rel = p.lexically_relative(dir).generic_string();
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, (fs::is_directory(st) ? rel + "/" : rel).c_str());
    archive_entry_set_mtime(e, 315532800, 0);  // 1980-01-01: zips of equal trees are equal
    if (fs::is_symlink(st)) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, fs::read_symlink(p).c_str());
      archive_entry_set_perm(e, 0777);
      archive_write_header(a, e);
    } else if (fs::is_directory(st)) {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
      archive_write_header(a, e);
    } else if (fs::is_regular_file(st)) {
      std::string data = read_all(p);
      bool exec = (fs::status(p).permissions() & fs::perms::owner_exec) != fs::perms::none;
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, exec ? 0755 : 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
      archive_write_header(a, e);
      archive_write_data(a, data.data(), data.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

json::object config_member(const std::optional<std::string>& runtime,
                           const std::optional<std::string>& handler,
                           const std::optional<int>& memory, const std::optional<int>& timeout,
                           const std::vector<std::string>& env,
                           const std::optional<std::string>& description) {
  json::object o;
  if (runtime) o["Runtime"] = *runtime;
  if (handler) o["Handler"] = *handler;
  if (memory) o["MemorySize"] = *memory;
  if (timeout) o["Timeout"] = *timeout;
  if (description) o["Description"] = *description;
  if (!env.empty()) {
    json::object vars;
    for (const auto& kv : env) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw Failure("--env takes KEY=VALUE (got '" + kv + "')");
      }
      vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    o["Environment"] = json::object{{"Variables", std::move(vars)}};
  }
  return o;
}

// Polls until the function is Active with its last update Successful.
json::object wait_ready(const Client& client, const std::string& name) {
  for (int i = 0; i < 600; ++i) {
    Reply r = client.call("GET", "/2015-03-31/functions/" + url_encode(name) + "/configuration");
    json::object c = r.json().as_object();
    std::string state(c.at("State").as_string());
    std::string update = c.if_contains("LastUpdateStatus")
                             ? std::string(c.at("LastUpdateStatus").as_string())
                             : "Successful";
    if (state == "Failed" || update == "Failed") {
      throw Failure("the function " + name + " failed to become active");
    }
    if (state == "Active" && update == "Successful") return c;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw Failure("the function " + name + " did not become active within a minute");
}

}  // namespace

namespace {

// The text of an element of an IAM (query protocol) answer, "" when absent.
std::string xml_element(const std::string& xml, const std::string& name) {
  auto open = xml.find("<" + name + ">");
  if (open == std::string::npos) return "";
  open += name.size() + 2;
  auto close = xml.find("</" + name + ">", open);
  return close == std::string::npos ? "" : xml.substr(open, close - open);
}

// The execution role deploy uses when none is given: made once, trusting Lambda, with basic
// execution permissions (logs), as the AWS console makes one for a new function.
std::string default_role(Client& client) {
  constexpr const char* kRole = "lambent-basic-execution";
  const std::string form = "Version=2010-05-08&RoleName=" + std::string(kRole);
  const std::map<std::string, std::string> headers{
      {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  Reply got = client.request("POST", "/", "Action=GetRole&" + form, headers);
  if (got.status == 200) return xml_element(got.body, "Arn");
  if (xml_element(got.body, "Code") != "NoSuchEntity") {
    throw Failure("cannot look up the default execution role: " + xml_element(got.body, "Code") +
                  ": " + xml_element(got.body, "Message") +
                  "\nPass --role with the ARN of a role that trusts lambda.amazonaws.com.");
  }
  const std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  Reply made = client.request(
      "POST", "/",
      "Action=CreateRole&" + form + "&AssumeRolePolicyDocument=" + url_encode(trust) +
          "&Description=" + url_encode("Made by lambent deploy: basic execution"),
      headers);
  if (made.status != 200) {
    throw Failure("cannot create the default execution role: " + xml_element(made.body, "Code") +
                  ": " + xml_element(made.body, "Message"));
  }
  Reply attached = client.request(
      "POST", "/",
      "Action=AttachRolePolicy&" + form + "&PolicyArn=" +
          url_encode("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
      headers);
  if (attached.status != 200) {
    throw Failure("cannot attach AWSLambdaBasicExecutionRole to the default role: " +
                  xml_element(attached.body, "Message"));
  }
  return xml_element(made.body, "Arn");
}

struct Options : VerbOptions {
  std::string path, name;
  std::optional<std::string> runtime, handler, role, description, s3_bucket;
  std::optional<int> memory, timeout;
  std::vector<std::string> env;
  bool publish = false;
};

void declare(CLI::App& cmd, Options& o) {
  cmd.description("Create or update a function from a folder or a .zip");
  cmd.add_option("path", o.path, "folder to zip, or a .zip file")->required();
  cmd.add_option("--name,-n", o.name, "function name")->required();
  cmd.add_option("--runtime", o.runtime, "e.g. python3.11, nodejs20.x, provided.al2023");
  cmd.add_option("--handler", o.handler, "e.g. app.handler");
  cmd.add_option("--memory", o.memory, "MemorySize in MB (128-10240)");
  cmd.add_option("--timeout", o.timeout, "Timeout in seconds (1-900)");
  cmd.add_option("--env", o.env, "environment variable KEY=VALUE (repeatable)");
  cmd.add_option("--role", o.role,
                 "execution role ARN (default: the role lambent-basic-execution, made once with "
                 "AWSLambdaBasicExecutionRole, as the AWS console does)");
  cmd.add_option("--description", o.description, "function description");
  cmd.add_flag("--publish", o.publish, "publish a version after deploying");
  cmd.add_option("--s3-bucket", o.s3_bucket,
                 "stage the package in this bucket (lambent-deploy/NAME/SHA256.zip) and deploy it "
                 "from there: packages larger than a direct upload allows");
}

int run(Options& o, Client& client) {
  fs::path path(o.path);
  std::string zip;
  if (fs::is_directory(path)) {
    zip = zip_folder(path);
  } else if (fs::is_regular_file(path)) {
    zip = read_all(path);
  } else {
    throw Failure(o.path + " is neither a folder nor a file");
  }
  // The code member: the zip itself, or where it was staged in a bucket.
  json::object code;
  std::string b64;
  if (o.s3_bucket) {
    std::string key = "lambent-deploy/" + o.name + "/" + hex_encode(as_bytes(sha256(zip))) + ".zip";
    Reply put = client.request("PUT",
                               "/" + url_encode(*o.s3_bucket) + "/lambent-deploy/" +
                                   url_encode(o.name) + "/" + key.substr(key.rfind('/') + 1),
                               zip, {{"x-amz-content-sha256", hex_encode(as_bytes(sha256(zip)))}});
    if (put.status != 200) {
      throw Failure("staging the package in bucket " + *o.s3_bucket + " failed (HTTP " +
                    std::to_string(put.status) + "): make it with `lambent s3 mb " + *o.s3_bucket +
                    "`");
    }
    code = json::object{{"S3Bucket", *o.s3_bucket}, {"S3Key", key}};
  } else {
    b64 = base64_encode(zip);
    code = json::object{{"ZipFile", b64}};
  }
  bool show_progress = !o.common->json && b64.size() > (4u << 20);
  auto progress = [&](size_t sent, size_t total) {
    if (!show_progress) return;
    std::fprintf(stderr, "\ruploading %.1f of %.1f MB (%3d%%)", sent / 1048576.0, total / 1048576.0,
                 static_cast<int>(sent * 100 / total));
    if (sent == total) std::fprintf(stderr, "\n");
  };
  std::string fn = "/2015-03-31/functions/" + url_encode(o.name);
  Reply existing = client.request("GET", fn + "/configuration");
  json::object cfg = config_member(o.runtime, o.handler, o.memory, o.timeout, o.env, o.description);
  bool created = false;
  if (existing.status == 404) {
    if (!o.runtime || !o.handler) {
      throw Failure("the function " + o.name +
                    " does not exist yet: creating it needs "
                    "--runtime and --handler (e.g. --runtime python3.11 --handler app.handler)");
    }
    json::object body = cfg;
    body["FunctionName"] = o.name;
    body["Role"] = o.role ? *o.role : default_role(client);
    body["Code"] = code;
    body["Publish"] = o.publish;
    Reply r = client.request("POST", "/2015-03-31/functions", json::serialize(body),
                             {{"content-type", "application/json"}}, progress);
    if (r.status != 201) throw Failure(error_text(r));
    created = true;
  } else if (existing.status == 200) {
    json::object body = code;
    body["Publish"] = o.publish && cfg.empty();
    Reply r = client.request("PUT", fn + "/code", json::serialize(body),
                             {{"content-type", "application/json"}}, progress);
    if (r.status != 200) throw Failure(error_text(r));
    if (!cfg.empty() || o.role) {
      wait_ready(client, o.name);
      if (o.role) cfg["Role"] = *o.role;
      client.call("PUT", fn + "/configuration", json::serialize(cfg),
                  {{"content-type", "application/json"}});
      if (o.publish) {
        wait_ready(client, o.name);
        client.call("POST", fn + "/versions", "{}", {{"content-type", "application/json"}});
      }
    }
  } else {
    throw Failure(error_text(existing));
  }
  json::object ready = wait_ready(client, o.name);
  std::string version;
  if (o.publish) {
    // Versions come oldest first, 50 a page: the last of the last page is the new one.
    json::value page = client.call("GET", fn + "/versions?MaxItems=50").json();
    while (page.as_object().contains("NextMarker")) {
      page = client
                 .call("GET", fn + "/versions?MaxItems=50&Marker=" +
                                  url_encode(std::string(page.at("NextMarker").as_string())))
                 .json();
    }
    for (const auto& v : page.as_object().at("Versions").as_array()) {
      version = std::string(v.as_object().at("Version").as_string());
    }
  }
  if (o.common->json) {
    json::object out{{"FunctionArn", ready.at("FunctionArn")},
                     {"CodeSha256", ready.at("CodeSha256")},
                     {"CodeSize", ready.at("CodeSize")},
                     {"Created", created}};
    if (!version.empty()) out["Version"] = version;
    std::printf("%s\n", pretty(out).c_str());
  } else {
    std::printf("%s %s\n", created ? "created" : "updated",
                std::string(ready.at("FunctionArn").as_string()).c_str());
    std::printf("CodeSha256 %s (%lld bytes)\n",
                std::string(ready.at("CodeSha256").as_string()).c_str(),
                static_cast<long long>(ready.at("CodeSize").as_int64()));
    if (!version.empty()) std::printf("published version %s\n", version.c_str());
  }
  return 0;
}

}  // namespace

Runner add_deploy(CLI::App& app) { return client_verb<Options>(app, "deploy", declare, run); }

}  // namespace lambent::cli

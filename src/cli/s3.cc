// `lambent s3 ls|mb|rb|cp|rm`: buckets and objects, as a user needs to see and move them (the
// aws CLI's `s3` commands remain the full tool: multipart, sync, presign).
#include <fstream>
#include <iterator>
#include <pugixml.hpp>

#include "base/codec.h"
#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace {

struct Options : VerbOptions {
  std::string action;
  std::string first, second;
};

// "s3://bucket/key" or "bucket/key" → (bucket, key).
std::pair<std::string, std::string> split(std::string uri) {
  if (uri.rfind("s3://", 0) == 0) uri = uri.substr(5);
  size_t slash = uri.find('/');
  if (slash == std::string::npos) return {uri, ""};
  return {uri.substr(0, slash), uri.substr(slash + 1)};
}

std::string object_path(const std::string& bucket, const std::string& key) {
  std::string out = "/" + url_encode(bucket) + "/";
  // Keep '/' in keys as the aws CLI does.
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    out += url_encode(
        key.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    out += "/";
    start = slash + 1;
  }
  return out;
}

std::map<std::string, std::string> s3_headers(const std::string& body) {
  return {{"x-amz-content-sha256", hex_encode(as_bytes(sha256(body)))}};
}

std::string xml_error(const Reply& r) {
  pugi::xml_document doc;
  if (doc.load_buffer(r.body.data(), r.body.size())) {
    auto e = doc.child("Error");
    if (e) return std::string(e.child_value("Code")) + ": " + e.child_value("Message");
  }
  return "HTTP " + std::to_string(r.status);
}

Reply must(const Reply& r, const std::string& advice = "") {
  if (r.status >= 300) throw Failure(xml_error(r) + (advice.empty() ? "" : ". " + advice));
  return r;
}

void declare(CLI::App& cmd, Options& o) {
  cmd.description(
      "Buckets and objects: ls [BUCKET[/PREFIX]], mb BUCKET, rb BUCKET, cp FILE s3://B/KEY, "
      "cp s3://B/KEY FILE, rm s3://B/KEY");
  cmd.add_option("action", o.action, "ls, mb, rb, cp or rm")
      ->required()
      ->check(CLI::IsMember({"ls", "mb", "rb", "cp", "rm"}));
  cmd.add_option("first", o.first, "bucket, s3://bucket/key, or a local file");
  cmd.add_option("second", o.second, "cp: the destination");
}

int list(Options& o, Client& client) {
  std::string empty;
  if (o.first.empty()) {
    Reply r = must(client.request("GET", "/", "", s3_headers(empty)));
    pugi::xml_document doc;
    doc.load_buffer(r.body.data(), r.body.size());
    int n = 0;
    for (auto b : doc.child("ListAllMyBucketsResult").child("Buckets").children("Bucket")) {
      std::printf("%s  %s\n", b.child_value("CreationDate"), b.child_value("Name"));
      ++n;
    }
    if (n == 0) std::printf("no buckets yet: make one with `lambent s3 mb NAME`\n");
    return 0;
  }
  auto [bucket, prefix] = split(o.first);
  std::string token;
  do {
    std::string target = "/" + url_encode(bucket) + "?list-type=2&delimiter=%2F";
    if (!prefix.empty()) target += "&prefix=" + url_encode(prefix);
    if (!token.empty()) target += "&continuation-token=" + url_encode(token);
    Reply r = must(client.request("GET", target, "", s3_headers(empty)),
                   "List buckets with `lambent s3 ls`.");
    pugi::xml_document doc;
    doc.load_buffer(r.body.data(), r.body.size());
    auto result = doc.child("ListBucketResult");
    for (auto p : result.children("CommonPrefixes")) {
      std::printf("%28s %12s  %s\n", "", "PRE", p.child_value("Prefix"));
    }
    for (auto c : result.children("Contents")) {
      std::printf("%-28s %12s  %s\n", c.child_value("LastModified"), c.child_value("Size"),
                  c.child_value("Key"));
    }
    token = std::string(result.child_value("IsTruncated")) == "true"
                ? result.child_value("NextContinuationToken")
                : "";
  } while (!token.empty());
  return 0;
}

int run(Options& o, Client& client) {
  std::string empty;
  if (o.action == "ls") return list(o, client);
  if (o.action == "mb" || o.action == "rb") {
    auto [bucket, key] = split(o.first);
    if (bucket.empty()) throw Failure("name the bucket: lambent s3 " + o.action + " NAME");
    std::string body;
    std::string region = signing_region();
    if (o.action == "mb" && region != "us-east-1") {
      body = "<CreateBucketConfiguration><LocationConstraint>" + region +
             "</LocationConstraint></CreateBucketConfiguration>";
    }
    must(client.request(o.action == "mb" ? "PUT" : "DELETE", "/" + url_encode(bucket), body,
                        s3_headers(body)),
         o.action == "rb"
             ? "Remove its objects first (`aws s3 rm --recursive s3://" + bucket + "`)."
             : "");
    std::printf("%s: %s\n", o.action == "mb" ? "made bucket" : "removed bucket", bucket.c_str());
    return 0;
  }
  if (o.action == "rm") {
    auto [bucket, key] = split(o.first);
    if (key.empty()) throw Failure("name the object: lambent s3 rm s3://BUCKET/KEY");
    must(client.request("DELETE", object_path(bucket, key), "", s3_headers(empty)));
    std::printf("deleted: s3://%s/%s\n", bucket.c_str(), key.c_str());
    return 0;
  }
  // cp: one direction or the other.
  if (o.first.rfind("s3://", 0) == 0 && o.second.rfind("s3://", 0) != 0) {
    auto [bucket, key] = split(o.first);
    Reply r = must(client.request("GET", object_path(bucket, key), "", s3_headers(empty)));
    std::ofstream out(o.second.empty() ? key.substr(key.rfind('/') + 1) : o.second,
                      std::ios::binary);
    out.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
    if (!out) throw Failure("cannot write " + o.second);
    std::printf("download: s3://%s/%s (%zu bytes)\n", bucket.c_str(), key.c_str(), r.body.size());
    return 0;
  }
  if (o.second.rfind("s3://", 0) == 0 && o.first.rfind("s3://", 0) != 0) {
    auto [bucket, key] = split(o.second);
    std::ifstream in(o.first, std::ios::binary);
    if (!in) throw Failure("cannot read " + o.first);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (key.empty() || key.back() == '/') key += o.first.substr(o.first.rfind('/') + 1);
    Reply r = must(client.request("PUT", object_path(bucket, key), body, s3_headers(body)));
    std::printf("upload: %s to s3://%s/%s (ETag %s)\n", o.first.c_str(), bucket.c_str(),
                key.c_str(), r.header("etag").value_or("").c_str());
    return 0;
  }
  throw Failure("cp copies a local file to s3://BUCKET/KEY or back");
}

}  // namespace

Runner add_s3(CLI::App& app) { return client_verb<Options>(app, "s3", declare, run); }

}  // namespace lambent::cli

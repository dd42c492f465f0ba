// bench_auth: the CPU cost of authenticating and authorizing one request, in process — a SigV4
// check of an Invoke request signed by the root key and by an IAM user, then authorization (the
// root's fast path; the user's identity-policy evaluation). Prints ns per request.
//
//   build/bin/bench_auth [--iterations 200000] [--cold KIB]
//
// --cold KIB: before each request, walk KIB of other memory (as the kernel, the environment and
// the rest of the server do between two requests in a live server), and time each check alone;
// prints the mean and the median of those times.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "aws/auth.h"
#include "aws/sigv4.h"
#include "base/codec.h"
#include "base/time.h"
#include "http/router.h"
#include "iam/access_control.h"
#include "iam/directory.h"
#include "store/sqlite_store.h"

using namespace lambent;

namespace {

http::Request signed_invoke(const std::string& key, const std::string& secret) {
  http::Request r;
  r.method = "POST";
  r.target = "/2015-03-31/functions/noop/invocations";
  http::parse_target(r.target, r);
  r.body = "{}";
  r.peer = "127.0.0.1:5555";
  std::vector<std::pair<std::string, std::string>> headers{{"host", "127.0.0.1:9777"},
                                                           {"content-type", "application/json"}};
  for (auto& [k, v] : aws::sigv4::sign("POST", r.target, headers, r.body, {key, secret, ""},
                                       "us-east-1", "lambda", now_ms() / 1000)) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers.emplace_back(lower, v);
  }
  r.headers = headers;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 200000;
  long cold_kib = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0) iterations = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--cold") == 0) cold_kib = std::atol(argv[i + 1]);
  }
  auto dir = std::filesystem::temp_directory_path() / ("bench-auth-" + hex_encode(random_bytes(4)));
  std::filesystem::create_directories(dir);
  Cipher cipher(random_bytes(32));
  auto store = store::SqliteStore::open(":memory:", cipher);
  iam::Directory directory(**store, cipher, {"us-east-1", "000000000000"});
  bool created = false;
  iam::Directory::RootKey root{"AKIAROOTROOTROOTROOT", "root-secret-root-secret-root-secret-0000"};
  if (!directory.load(dir / "root-credentials", root, &created)) return 1;
  iam::AccessKey user_key{"AKIAUSERUSERUSERUSER", "bench",
                          "user-secret-user-secret-user-secret-0000", true, 0};
  auto updated = directory.update([&](iam::Snapshot& s, iam::Touched& t) -> Result<void> {
    iam::User u;
    u.name = "bench";
    u.id = "AIDABENCHBENCHBENCHB";
    u.inline_policies["invoke"] =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:000000000000:function:noop"}]})";
    s.users["bench"] = u;
    s.keys[user_key.id] = user_key;
    t.users.push_back("bench");
    t.keys.push_back(user_key.id);
    return {};
  });
  if (!updated) return 1;
  iam::AccessControl access(directory);
  aws::ServiceInfo info{
      .name = "lambda", .protocol = aws::Protocol::kRestJson, .skew_seconds = 300};
  aws::Access invoke{
      "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:000000000000:function:noop", {}};

  for (auto [label, key, secret] : {std::tuple{"root key", root.access_key_id, root.secret},
                                    std::tuple{"IAM user", user_key.id, user_key.secret}}) {
    http::Request proto = signed_invoke(key, secret);
    long failures = 0;
    if (cold_kib > 0) {
      std::vector<char> other(static_cast<size_t>(cold_kib) * 1024);
      std::vector<double> times;
      times.reserve(static_cast<size_t>(iterations));
      for (long i = 0; i < iterations; ++i) {
        for (size_t at = 0; at < other.size(); at += 64)
          other[at] = static_cast<char>(other[at] + 1);
        http::Request req = proto;
        auto t0 = std::chrono::steady_clock::now();
        try {
          aws::check_request(&access, info, aws::Protocol::kRestJson, req, {invoke});
        } catch (const aws::ServiceError&) {
          ++failures;
        }
        auto t1 = std::chrono::steady_clock::now();
        times.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
      }
      double mean = 0;
      for (double t : times) mean += t / static_cast<double>(times.size());
      std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2),
                       times.end());
      std::printf(
          "{\"caller\": \"%s\", \"cold_kib\": %ld, \"mean_ns\": %.0f, \"median_ns\": %.0f, "
          "\"failures\": %ld}\n",
          label, cold_kib, mean, times[times.size() / 2], failures);
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
      http::Request req = proto;  // a fresh request each time, as the server has
      try {
        aws::check_request(&access, info, aws::Protocol::kRestJson, req, {invoke});
      } catch (const aws::ServiceError&) {
        ++failures;
      }
    }
    auto t1 = std::chrono::steady_clock::now();
    // The copy of the request alone, to subtract.
    auto c0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
      http::Request req = proto;
      asm volatile("" : : "r"(&req) : "memory");
    }
    auto c1 = std::chrono::steady_clock::now();
    double total = std::chrono::duration<double, std::nano>(t1 - t0).count() / iterations;
    double copy = std::chrono::duration<double, std::nano>(c1 - c0).count() / iterations;
    std::printf("{\"caller\": \"%s\", \"ns_per_request\": %.0f, \"failures\": %ld}\n", label,
                total - copy, failures);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

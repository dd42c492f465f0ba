// bench_load: a small closed-loop HTTP/1.1 load generator for Lambent's benchmarks.
//
//   bench_load --target HOST:PORT --path /2015-03-31/functions/F/invocations --body '{}'
//              --concurrency 16 --seconds 5            (keep-alive connections, one per worker)
//   bench_load ... --header 'X-Amz-Invocation-Type: Event' --expect 202
//   bench_load ... --method PUT                         (any method; --get for GET)
//   bench_load ... --unique 0000000000000000            (that token: a number per request)
//   bench_load ... --content-type application/x-amz-json-1.0   (default application/json)
//   bench_load --baseline ...                          (same client against an in-process
//                                                       loopback HTTP server: the floor)
//   bench_load ... --alternate HOST:PORT               (each worker sends the same request to
//                                                       the target and to this server in turn)
//
// Prints one JSON line: requests, errors (and which statuses they were), connections dropped
// before the end, throughput (req/s), mean and p50/p90/p99 latency in µs. With --alternate, one
// line {"a": {...}, "b": {...}}: the target's and the other server's, measured interleaved
// request by request, so that whatever slows the machine meanwhile slows both alike.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

int connect_to(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one HTTP message (headers + Content-Length body); returns the status code or -1.
int read_message(int fd, std::string& buf, bool request = false) {
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return -1;
    buf.append(tmp, static_cast<size_t>(n));
  }
  size_t len = 0;
  const char* cl = strcasestr(buf.c_str(), "content-length:");
  if (cl && static_cast<size_t>(cl - buf.c_str()) < end) len = std::strtoul(cl + 15, nullptr, 10);
  int status = request ? 200 : std::atoi(buf.c_str() + 9);
  size_t total = end + 4 + len;
  while (buf.size() < total) {
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return -1;
    buf.append(tmp, static_cast<size_t>(n));
  }
  buf.erase(0, total);
  return status;
}

// The floor: a loopback HTTP server that answers every request with "{}" at once.
int start_baseline_server() {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  listen(lfd, 128);
  socklen_t len = sizeof(a);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread([lfd] {
    for (;;) {
      int fd = accept(lfd, nullptr, nullptr);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::thread([fd] {
        std::string buf;
        const std::string resp =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        while (read_message(fd, buf, true) > 0 && write_all(fd, resp)) {
        }
        close(fd);
      }).detach();
    }
  }).detach();
  return ntohs(a.sin_port);
}

}  // namespace

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:9777", path = "/health", body;
  int concurrency = 1;
  double seconds = 5;
  bool baseline = false;
  std::string method = "POST";
  std::string content_type = "application/json";
  std::string headers;  // extra "Name: value\r\n" lines
  int expect = 200;     // the status that counts as success
  // Every occurrence of this 16-character token in the request becomes a number unique to the
  // request (FIFO sends with distinct deduplication ids); the request must be unsigned.
  std::string unique;
  std::string alternate;  // HOST:PORT of a second server, sent every other request
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--target") target = next();
    else if (a == "--path") path = next();
    else if (a == "--body") body = next();
    else if (a == "--concurrency") concurrency = std::atoi(next().c_str());
    else if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--baseline") baseline = true;
    else if (a == "--get") method = "GET";
    else if (a == "--method")
      method = next();
    else if (a == "--content-type")
      content_type = next();
    else if (a == "--header") headers += next() + "\r\n";
    else if (a == "--expect") expect = std::atoi(next().c_str());
    else if (a == "--unique")
      unique = next();
    else if (a == "--alternate")
      alternate = next();
  }
  std::string host = target.substr(0, target.find(':'));
  int port = std::atoi(target.c_str() + target.find(':') + 1);
  if (baseline) {
    host = "127.0.0.1";
    port = start_baseline_server();
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + target +
                    "\r\nContent-Type: " + content_type + "\r\n" + headers +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const int servers = alternate.empty() ? 1 : 2;
  std::string hosts[2] = {host, alternate.substr(0, alternate.find(':'))};
  int ports[2] = {port, servers == 2 ? std::atoi(alternate.c_str() + alternate.find(':') + 1) : 0};
  // Latencies per worker and server.
  std::vector<std::vector<double>> lat(static_cast<size_t>(concurrency * servers));
  std::atomic<long> errors[2]{0, 0};
  std::atomic<long> dropped[2]{0, 0};  // connections that failed or closed before the deadline
  std::vector<std::atomic<long>> by_status(600 * 2);
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      int fds[2] = {-1, -1};
      for (int k = 0; k < servers; ++k) {
        fds[k] = connect_to(hosts[k], ports[k]);
        if (fds[k] < 0) ++dropped[k];
      }
      std::string bufs[2];
      std::string mine_req = req;
      std::vector<size_t> spots;
      for (size_t at = unique.size() == 16 ? mine_req.find(unique) : std::string::npos;
           at != std::string::npos; at = mine_req.find(unique, at + 16)) {
        spots.push_back(at);
      }
      long n = 0;
      for (long turn = 0; Clock::now() < deadline; ++turn) {
        const int k = static_cast<int>(turn % servers);
        int fd = fds[k];
        if (fd < 0) break;
        auto t0 = Clock::now();
        if (!spots.empty()) {
          char digits[48];
          std::snprintf(digits, sizeof digits, "%04d%012ld", w % 10000, n++ % 1000000000000L);
          for (size_t at : spots) mine_req.replace(at, 16, digits, 16);
        }
        if (!write_all(fd, mine_req)) {
          ++dropped[k];
          break;
        }
        int status = read_message(fd, bufs[k]);
        if (status < 0) {
          if (Clock::now() < deadline) ++dropped[k];
          break;
        }
        if (status != expect) {
          ++errors[k];
          if (status < 600) ++by_status[static_cast<size_t>(600 * k + status)];
        }
        lat[static_cast<size_t>(w * servers + k)].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      for (int fd : fds) {
        if (fd >= 0) close(fd);
      }
    });
  }
  auto start = Clock::now();
  for (auto& t : workers) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto report = [&](int k) {
    std::vector<double> all;
    for (int w = 0; w < concurrency; ++w) {
      const auto& v = lat[static_cast<size_t>(w * servers + k)];
      all.insert(all.end(), v.begin(), v.end());
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
      return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
    };
    double sum = 0;
    for (double x : all) sum += x;
    std::string unexpected;  // {"429": 3, ...}: the statuses counted as errors
    for (size_t st = 0; st < 600; ++st) {
      long c = by_status[600 * static_cast<size_t>(k) + st];
      if (c == 0) continue;
      unexpected += (unexpected.empty() ? "" : ", ") + std::string("\"") + std::to_string(st) +
                    "\": " + std::to_string(c);
    }
    std::string out(unexpected.size() + 256, '\0');  // the numbers take well under 256
    int len = std::snprintf(out.data(), out.size(),
                  "{\"requests\": %zu, \"errors\": %ld, \"dropped\": %ld, \"unexpected\": {%s}, "
                  "\"throughput\": %.1f, \"mean_us\": %.1f, \"p50_us\": %.1f, \"p90_us\": %.1f, "
                  "\"p99_us\": %.1f}",
                  all.size(), errors[k].load(), dropped[k].load(), unexpected.c_str(),
                  all.size() / elapsed, all.empty() ? 0.0 : sum / all.size(), pct(0.5), pct(0.9),
                  pct(0.99));
    out.resize(static_cast<size_t>(std::max(len, 0)));
    return out;
  };
  if (servers == 1) {
    std::printf("%s\n", report(0).c_str());
  } else {
    std::printf("{\"a\": %s, \"b\": %s}\n", report(0).c_str(), report(1).c_str());
  }
  return 0;
}

// A custom runtime (`provided.al2023`) in C++ with nothing but POSIX sockets: connects to the
// Runtime API, and for each invocation echoes the event back. With ECHO_MODE=noop it answers {}.
// Used by the end-to-end tests and the warm/cold benchmarks as the no-op `provided` function.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static int connect_api() {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  std::string a = api ? api : "127.0.0.1:9001";
  auto colon = a.find(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(a.c_str() + colon + 1)));
  inet_pton(AF_INET, a.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  return fd;
}

static void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) std::exit(2);
    off += static_cast<size_t>(n);
  }
}

// Reads one HTTP response; returns headers (lower-cased names kept as sent) and body.
static bool read_response(int fd, std::string& buf, std::string& headers, std::string& body) {
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
  headers = buf.substr(0, end);
  size_t len = 0;
  for (size_t p = 0; p < headers.size();) {
    size_t nl = headers.find("\r\n", p);
    std::string line = headers.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    if (strncasecmp(line.c_str(), "content-length:", 15) == 0) len = std::strtoul(line.c_str() + 15, nullptr, 10);
    if (nl == std::string::npos) break;
    p = nl + 2;
  }
  buf.erase(0, end + 4);
  while (buf.size() < len) {
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
  body = buf.substr(0, len);
  buf.erase(0, len);
  return true;
}

static std::string header_value(const std::string& headers, const char* name) {
  size_t n = std::strlen(name);
  for (size_t p = 0; p < headers.size();) {
    size_t nl = headers.find("\r\n", p);
    std::string line = headers.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    if (strncasecmp(line.c_str(), name, n) == 0 && line[n] == ':') {
      size_t v = n + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    if (nl == std::string::npos) break;
    p = nl + 2;
  }
  return "";
}

int main() {
  bool noop = std::getenv("ECHO_MODE") && std::string(std::getenv("ECHO_MODE")) == "noop";
  int fd = connect_api();  // one keep-alive connection
  std::string buf, headers, body, reply;
  for (;;) {
    send_all(fd, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: api\r\n\r\n");
    if (!read_response(fd, buf, headers, body)) return 3;
    std::string id = header_value(headers, "Lambda-Runtime-Aws-Request-Id");
    std::string out = noop ? std::string("{}") : "{\"echo\":" + body + "}";
    send_all(fd, "POST /2018-06-01/runtime/invocation/" + id +
                     "/response HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
                     "Content-Length: " + std::to_string(out.size()) + "\r\n\r\n" + out);
    if (!read_response(fd, buf, headers, reply)) return 4;
  }
}

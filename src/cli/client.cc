#include "cli/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "aws/sigv4.h"
#include "base/crypto.h"
#include "config/config.h"
#include "iam/directory.h"

namespace lambent::cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;

void add_common(CLI::App* cmd, const std::shared_ptr<Common>& common) {
  cmd->add_option("--endpoint", common->endpoint,
                  "Lambent server URL (default $LAMBENT_ENDPOINT, else http://127.0.0.1:9777)");
  cmd->add_flag("--json", common->json, "machine-readable JSON output");
  cmd->add_option(
      "--data", common->data,
      "data directory of a local server, whose root credentials to use when "
      "AWS_ACCESS_KEY_ID is not set (default $LAMBENT_DATA, else the server's default)");
}

namespace {
const char* getenv_wrapper(const char* name) { return std::getenv(name); }
}  // namespace

std::string signing_region() {
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "us-east-1";
}

std::optional<SigningCredentials> find_credentials(const Common& common) {
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (id && *id && secret && *secret) {
    const char* token = std::getenv("AWS_SESSION_TOKEN");
    return SigningCredentials{id, secret, token ? token : "", "environment"};
  }
  std::filesystem::path data = common.data;
  if (data.empty()) {
    const char* env = std::getenv("LAMBENT_DATA");
    data = env && *env ? std::filesystem::path(env) : config::default_data_dir(getenv_wrapper);
  }
  std::ifstream key_file(data / "node.key", std::ios::binary);
  if (!key_file) return std::nullopt;
  std::stringstream key;
  key << key_file.rdbuf();
  if (key.str().size() != Cipher::kKeySize) return std::nullopt;
  Cipher cipher(key.str());
  auto root = iam::Directory::read_root_file(data / "root-credentials", cipher);
  if (!root) return std::nullopt;
  return SigningCredentials{root->access_key_id, root->secret, "",
                            (data / "root-credentials").string()};
}

std::optional<std::string> Reply::header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

json::value Reply::json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value() : v;
}

Client::Client(const Common& common) {
  endpoint_ = common.endpoint;
  if (endpoint_.empty()) {
    const char* env = std::getenv("LAMBENT_ENDPOINT");
    endpoint_ = env && *env ? env : "http://127.0.0.1:9777";
  }
  std::string rest = endpoint_;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.find("://") != std::string::npos) {
    throw Failure("only http:// endpoints are supported (got " + endpoint_ + ")");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  endpoint_ = "http://" + host_ + ":" + port_;
  creds_ = find_credentials(common);
  region_ = signing_region();
}

namespace {

// The signing name of a request, from how it addresses its service.
std::string service_of(const std::string& target, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  for (const auto& [k, v] : headers) {
    std::string name = k;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "x-amz-content-sha256") return "s3";
    if (name != "x-amz-target") continue;
    if (v.rfind("Logs_", 0) == 0) return "logs";
    if (v.rfind("AmazonSQS", 0) == 0) return "sqs";
  }
  if (target == "/") {
    if (body.find("Version=2010-08-01") != std::string::npos) return "monitoring";
    if (body.find("Version=2010-05-08") != std::string::npos) return "iam";
    if (body.find("Version=2011-06-15") != std::string::npos) return "sts";
    if (body.find("Version=2012-11-05") != std::string::npos) return "sqs";
  }
  return "lambda";
}

}  // namespace

Reply Client::request(const std::string& method, const std::string& target,
                      const std::string& body, const std::map<std::string, std::string>& headers,
                      const std::function<void(size_t, size_t)>& progress) const {
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host_, port_, ec);
  if (!ec) stream.connect(results, ec);
  if (ec) {
    throw Failure("cannot reach Lambent at " + endpoint_ + ": " + ec.message() +
                  ". Is `lambent serve` running there? Point the CLI elsewhere with --endpoint "
                  "or LAMBENT_ENDPOINT.");
  }
  bhttp::request<bhttp::empty_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host_ + ":" + port_);
  req.set(bhttp::field::user_agent, "lambent-cli/0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (creds_) {
    std::vector<std::pair<std::string, std::string>> signed_headers{{"host", host_ + ":" + port_}};
    for (const auto& [k, v] : headers) signed_headers.emplace_back(k, v);
    const std::string service = service_of(target, body, headers);
    // IAM and STS are global: signed for us-east-1.
    const std::string region = service == "iam" || service == "sts" ? "us-east-1" : region_;
    for (const auto& [k, v] :
         aws::sigv4::sign(method, target, signed_headers, body,
                          {creds_->access_key_id, creds_->secret_access_key, creds_->session_token},
                          region, service, std::time(nullptr), service == "s3")) {
      req.set(k, v);
    }
  }
  req.content_length(body.size());
  bhttp::request_serializer<bhttp::empty_body> sr{req};
  bhttp::write_header(stream, sr, ec);
  // The body in slices, so large uploads can show progress.
  size_t sent = 0;
  constexpr size_t kSlice = 1 << 20;
  while (!ec && sent < body.size()) {
    size_t n = std::min(kSlice, body.size() - sent);
    asio::write(stream.socket(), asio::buffer(body.data() + sent, n), ec);
    sent += n;
    if (progress) progress(sent, body.size());
  }
  Reply r;
  if (!ec) {
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    bhttp::read(stream, buffer, parser, ec);
    if (!ec) {
      auto& res = parser.get();
      r.status = res.result_int();
      for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      r.body = std::move(res.body());
    }
  }
  if (ec) throw Failure("the connection to " + endpoint_ + " failed: " + ec.message());
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return r;
}

Reply Client::call(const std::string& method, const std::string& target, const std::string& body,
                   const std::map<std::string, std::string>& headers,
                   const std::string& advice) const {
  Reply r = request(method, target, body, headers);
  if (r.status >= 200 && r.status < 300) return r;
  std::string text = error_text(r);
  if (!advice.empty()) text += "\n" + advice;
  throw Failure(text);
}

std::string error_text(const Reply& r) {
  std::string type = r.header("x-amzn-errortype").value_or("");
  std::string message;
  json::value v = r.json();
  if (v.is_object()) {
    for (const char* k : {"message", "Message", "errorMessage"}) {
      if (auto* m = v.as_object().if_contains(k); m && m->is_string()) {
        message = std::string(m->as_string());
        break;
      }
    }
    if (type.empty()) {
      if (auto* t = v.as_object().if_contains("__type"); t && t->is_string()) type = t->as_string();
    }
  }
  if (message.empty()) message = r.body;
  if (type.empty()) type = "HTTP " + std::to_string(r.status);
  auto colon = type.find(':');
  if (colon != std::string::npos) type.resize(colon);
  std::string text = type + ": " + message;
  if (type == "MissingAuthenticationTokenException" || type == "UnrecognizedClientException" ||
      type == "InvalidSignatureException") {
    text +=
        "\nSet AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (`lambent credentials` prints the "
        "local server's root credentials), or point --data at the server's data directory.";
  }
  return text;
}

std::string url_encode(const std::string& s) { return aws::sigv4::uri_encode(s, false); }

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const Failure& f) {
    std::fprintf(stderr, "lambent: %s\n", f.what());
    return 1;
  }
}

int64_t parse_duration_ms(const std::string& text) {
  if (text.empty()) throw Failure("empty duration");
  char unit = text.back();
  std::string num = std::isdigit(static_cast<unsigned char>(unit)) ? text : text.substr(0, text.size() - 1);
  char* end = nullptr;
  double n = std::strtod(num.c_str(), &end);
  if (num.empty() || !end || *end != '\0' || n < 0) {
    throw Failure("cannot read the duration '" + text + "': use e.g. 30s, 10m, 2h or 1d");
  }
  switch (std::isdigit(static_cast<unsigned char>(unit)) ? 's' : unit) {
    case 's': return static_cast<int64_t>(n * 1000);
    case 'm': return static_cast<int64_t>(n * 60'000);
    case 'h': return static_cast<int64_t>(n * 3'600'000);
    case 'd': return static_cast<int64_t>(n * 86'400'000);
    case 'w': return static_cast<int64_t>(n * 7 * 86'400'000);
    default: throw Failure("cannot read the duration '" + text + "': use e.g. 30s, 10m, 2h or 1d");
  }
}

std::string pretty(const json::value& v) { return json::serialize(v); }

}  // namespace lambent::cli

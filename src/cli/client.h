// What the CLI's verbs share: the endpoint (--endpoint, LAMBENT_ENDPOINT, else the local default),
// a small blocking HTTP client, AWS-style error messages turned into advice, and output helpers
// (human text by default, --json for scripts).
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lambent::cli {

struct Common {
  std::string endpoint;
  std::string data;  // the local server's data directory (for its root credentials)
  bool json = false;
};

// The credentials the CLI signs with: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN) when set, else the root credentials of the local server's data directory
// (--data, $LAMBENT_DATA, else the default data directory), readable by the user who runs it.
// nullopt when neither is available (requests then go unsigned and the server refuses them).
struct SigningCredentials {
  std::string access_key_id, secret_access_key, session_token;
  std::string source;  // "environment" or the root credentials file
};
std::optional<SigningCredentials> find_credentials(const Common& common);
// The region to sign for: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1.
std::string signing_region();

// Adds --endpoint and --json to a verb.
void add_common(CLI::App* cmd, const std::shared_ptr<Common>& common);

struct Reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::optional<std::string> header(const std::string& name) const;
  boost::json::value json() const;  // null when the body is not JSON
};

// A failure a verb reports and exits with: `message` says what went wrong and what to do.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Client {
 public:
  explicit Client(const Common& common);
  // Throws Failure when the server cannot be reached. `progress` gets (sent, total) while a large
  // body is uploaded.
  Reply request(const std::string& method, const std::string& target, const std::string& body = "",
                const std::map<std::string, std::string>& headers = {},
                const std::function<void(size_t, size_t)>& progress = nullptr) const;
  // As request(), but a non-2xx answer throws Failure with the server's error and `advice`.
  Reply call(const std::string& method, const std::string& target, const std::string& body = "",
             const std::map<std::string, std::string>& headers = {},
             const std::string& advice = "") const;
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_, host_, port_;
  std::optional<SigningCredentials> creds_;
  std::string region_;
};

// "Type: message" of an AWS error reply.
std::string error_text(const Reply& r);
std::string url_encode(const std::string& s);
// Runs a verb body: prints a Failure on stderr and returns 1.
int guarded(const std::function<int()>& body);

// What every client verb's options have: the connection and output flags.
struct VerbOptions {
  std::shared_ptr<Common> common = std::make_shared<Common>();
};

// Registers a client verb: `declare` describes the subcommand and adds its arguments, `run`
// executes it with a Client for the server; a Failure is printed and exits 1 (guarded).
template <class Options>
std::function<int()> client_verb(CLI::App& app, const char* name,
                                 void (*declare)(CLI::App& cmd, Options& o),
                                 int (*run)(Options& o, Client& client)) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(name);
  declare(*cmd, *o);
  add_common(cmd, o->common);
  return [o, run]() {
    return guarded([&] {
      Client client(*o->common);
      return run(*o, client);
    });
  };
}
// "10m", "2h", "30s", "1d" -> milliseconds.
int64_t parse_duration_ms(const std::string& text);
std::string pretty(const boost::json::value& v);

}  // namespace lambent::cli

// The Lambda REST-JSON API (2015-03-31 and its dated siblings). The route table is in
// lambda_api.cc; the handlers live one file per resource: functions.cc, versions.cc, layers.cc,
// concurrency.cc, event_config.cc, event_sources.cc, tags.cc, policy.cc, account.cc (account
// settings, code download, health), invoke.cc.
// Thread: control-plane handlers run on the worker pool (they block on the store and the code
// store; the protocol layer hops there and back). Invoke is a coroutine on the I/O thread.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "aws/service.h"
#include "base/crypto.h"
#include "blob/code_store.h"
#include "config/config.h"
#include "http/router.h"
#include "iam/access_control.h"
#include "invoke/async.h"
#include "invoke/event_sources.h"
#include "invoke/invoker.h"
#include "services/lambda/function_url.h"
#include "services/lambda/json_body.h"
#include "services/lambda/names.h"
#include "store/store.h"

namespace lambent::lambda {

struct ApiDeps {
  const config::Config& config;
  store::Store& store;
  blob::CodeStore& code;
  boost::asio::thread_pool& pool;
  const Cipher& cipher;
  invoke::Invoker& invoker;
  int64_t concurrency_limit = 1000;  // account limit in effect (config::effective_concurrency_limit)
  invoke::AsyncDispatcher* async = nullptr;  // runs InvocationType Event
  telemetry::Metrics* metrics = nullptr;
  queue::QueueService* queues = nullptr;              // event sources and destinations
  invoke::EventSourceMappings* mappings = nullptr;
  // Authentication and authorization of every route, execution roles checked against IAM
  // (null: `--auth open`, nothing checked).
  iam::AccessControl* access = nullptr;
};

// Request size limits (compat §1.9, §4).
inline constexpr size_t kMaxCodeRequestBytes = 69'905'067;  // 50 MB zip, base64 in JSON
inline constexpr size_t kMaxRequestBytes = 6 * 1024 * 1024;
inline constexpr size_t kMaxInvokePayloadBytes = 6 * 1024 * 1024;

// PreconditionFailedException's message for a stale RevisionId on functions.
inline constexpr const char* kStaleRevision =
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
    "API to retrieve the latest Revision Id";

class LambdaApi final {
 public:
  // Reads a bucket's object, whole, at most `limit` bytes (deployment packages from S3).
  // Errors: kNotFound ("no such bucket" / "The specified key does not exist."),
  // kInvalidArgument (too large). Blocking.
  using ObjectReader = std::function<Result<std::string>(const std::string& bucket,
                                                         const std::string& key, uint64_t limit)>;
  void set_object_reader(ObjectReader reader) { object_reader_ = std::move(reader); }
  explicit LambdaApi(ApiDeps deps);

  void add_routes(http::Router& router);
  // Loads the functions' resource policies into the index authorization reads, and their URLs
  // into the index URL serving reads (before serving).
  Result<void> load_policies();
  // The function URL `url_id` names (any thread).
  std::optional<UrlTarget> find_url(std::string_view url_id) const;
  // Removes sealed code that no version references: what a crash between writing the blob and
  // committing the metadata leaves behind. Run before serving.
  Result<size_t> collect_garbage();

  // The server's base URL as clients reach it (public_url, else the listener's address):
  // Code.Location and Content.Location are built on it, never on a request's Host header.
  void set_public_url(std::string url) { public_url_ = std::move(url); }

 private:
  using Handler = http::Response (LambdaApi::*)(http::Request&);
  void route(http::Router& router, const char* name, const char* method, const char* pattern,
             Handler handler, size_t body_limit = kMaxRequestBytes, const char* query_key = "",
             const char* query_value = "");

  using AsyncHandler = boost::asio::awaitable<http::Response> (LambdaApi::*)(http::Request&);
  // A handler that runs on the I/O thread as a coroutine (the invoke path).
  void route_async(http::Router& router, const char* name, const char* method,
                   const char* pattern, AsyncHandler handler, size_t body_limit);

  // access.cc: what each route asks to do (the IAM action and resource ARN), the resource
  // policies of functions and layer versions, and execution roles.
  std::vector<aws::Access> access_of(std::string_view operation, http::Request& req);
  std::optional<std::string> resource_policy(std::string_view arn);
  void index_policies(const std::string& name, const store::Function* f);
  // The role must exist and trust lambda.amazonaws.com; the caller must be allowed to pass it.
  void check_execution_role(const http::Request& req, const std::string& role);
  // Lambda delivers to destinations and dead-letter queues with the function's role: it must be
  // allowed to (sqs:SendMessage, lambda:InvokeFunction); InvalidParameterValueException if not.
  void check_delivery(const std::string& role, const std::string& target);

  // invoke.cc
  struct InvokeRequest {
    std::string name;
    std::optional<std::string> qualifier;
    std::string type;  // RequestResponse, Event, DryRun
    bool tail = false;
    std::string client_context;
    std::string payload;
    invoke::Resolved target;
  };
  // What Invoke and InvokeWithResponseStream share: the request's headers and payload checked,
  // the function resolved.
  boost::asio::awaitable<InvokeRequest> read_invoke(http::Request& req, bool streaming);
  invoke::InvokeInput invoke_input(const http::Request& req, InvokeRequest& call) const;
  boost::asio::awaitable<http::Response> invoke(http::Request& req);
  boost::asio::awaitable<http::Response> invoke_with_response_stream(http::Request& req);

  // functions.cc
  http::Response create_function(http::Request& req);
  http::Response get_function(http::Request& req);
  http::Response get_function_configuration(http::Request& req);
  http::Response list_functions(http::Request& req);
  http::Response update_function_code(http::Request& req);
  http::Response update_function_configuration(http::Request& req);
  http::Response delete_function(http::Request& req);
  // tags.cc
  http::Response tag_resource(http::Request& req);
  http::Response untag_resource(http::Request& req);
  http::Response list_tags(http::Request& req);
  // policy.cc
  http::Response add_permission(http::Request& req);
  http::Response remove_permission(http::Request& req);
  http::Response get_policy(http::Request& req);
  // versions.cc
  http::Response publish_version(http::Request& req);
  http::Response list_versions_by_function(http::Request& req);
  http::Response create_alias(http::Request& req);
  http::Response get_alias(http::Request& req);
  http::Response update_alias(http::Request& req);
  http::Response delete_alias(http::Request& req);
  http::Response list_aliases(http::Request& req);
  // concurrency.cc
  http::Response put_function_concurrency(http::Request& req);
  http::Response get_function_concurrency(http::Request& req);
  http::Response delete_function_concurrency(http::Request& req);
  http::Response put_provisioned_concurrency(http::Request& req);
  http::Response get_provisioned_concurrency(http::Request& req);
  http::Response delete_provisioned_concurrency(http::Request& req);
  http::Response list_provisioned_concurrency(http::Request& req);
  boost::json::object provisioned_json(const store::Function& f, const store::ProvisionedConfig& p,
                                       bool with_arn) const;
  // layers.cc
  http::Response publish_layer_version(http::Request& req);
  http::Response get_layer_version(http::Request& req);
  http::Response get_layer_version_by_arn(http::Request& req);
  http::Response list_layers(http::Request& req);
  http::Response list_layer_versions(http::Request& req);
  http::Response delete_layer_version(http::Request& req);
  http::Response add_layer_version_permission(http::Request& req);
  http::Response get_layer_version_policy(http::Request& req);
  http::Response remove_layer_version_permission(http::Request& req);
  std::string layer_arn(const std::string& name) const;
  boost::json::object layer_version_json(const store::Layer& l, const store::LayerVersion& v,
                                         bool content) const;
  store::Layer load_layer(const std::string& name);
  // The layer version the path names ({LayerName}, {VersionNumber}), its layer in `layer`;
  // ResourceNotFoundException when absent.
  store::LayerVersion path_layer_version(const http::Request& req, store::Layer& layer);
  // Read-modify-write of layer version `n`'s policy statements (RevisionId checked): `edit`
  // changes them or refuses; returns the new RevisionId.
  std::string update_layer_policy(const std::string& name, int64_t n,
                                  const std::optional<std::string>& revision,
                                  const std::function<Result<void>(boost::json::array&)>& edit);
  void resolve_layers(store::FunctionConfig& cfg, const std::string& code_digest);
  // event_config.cc
  http::Response put_event_invoke_config(http::Request& req);
  http::Response update_event_invoke_config(http::Request& req);
  http::Response get_event_invoke_config(http::Request& req);
  http::Response delete_event_invoke_config(http::Request& req);
  http::Response list_event_invoke_configs(http::Request& req);
  http::Response write_event_invoke_config(http::Request& req, bool merge);
  // Stores an accepted asynchronous invocation (blocking: on the pool).
  Result<void> enqueue_async(const store::AsyncEvent& e);
  // event_sources.cc
  http::Response create_event_source_mapping(http::Request& req);
  http::Response get_event_source_mapping(http::Request& req);
  http::Response update_event_source_mapping(http::Request& req);
  http::Response delete_event_source_mapping(http::Request& req);
  http::Response list_event_source_mappings(http::Request& req);
  boost::json::object mapping_json(const invoke::MappingView& v) const;
  void read_mapping(const JsonObject& body, invoke::MappingConfig& m);
  invoke::MappingView load_mapping(const std::string& uuid);
  // function_urls.cc
  http::Response create_function_url_config(http::Request& req);
  http::Response get_function_url_config(http::Request& req);
  http::Response update_function_url_config(http::Request& req);
  http::Response delete_function_url_config(http::Request& req);
  http::Response list_function_url_configs(http::Request& req);
  boost::json::object url_config_json(const store::Function& f, const store::FunctionUrlConfig& u,
                                      bool with_modified) const;
  // The URL handed out for `url_id`: the path form on public_url, or the host form on
  // config.url_domain.
  std::string function_url(const std::string& url_id) const;
  void index_urls(const std::string& name, const store::Function* f);
  // account.cc
  http::Response get_account_settings(http::Request& req);
  http::Response download_code(http::Request& req);
  http::Response health(http::Request& req);

  // Shared helpers (functions.cc).
  store::Function load(const std::string& name);
  // Read-modify-write of a function in one transaction; a missing function is
  // ResourceNotFoundException naming its ARN, a kPreconditionFailed from `fn` is
  // PreconditionFailedException with `stale_message`, other errors map as usual.
  store::Function mutate(const std::string& name,
                         const std::function<Result<void>(store::Function&)>& fn,
                         const char* stale_message = kStaleRevision);

  const store::FunctionVersion& select_version(const store::Function& f,
                                               const std::optional<std::string>& qualifier);
  std::string code_location(const std::string& digest_hex) const;
  std::string code_signature(const std::string& digest_hex, int64_t expires) const;
  // Stores uploaded code; the caller commits metadata while holding `code_lock_` shared.
  blob::CodeInfo put_code(std::string_view zip);
  // A deployment package's bytes: ZipFile (base64), or S3Bucket/S3Key read from a bucket with
  // the caller's own s3:GetObject permission, as Lambda does.
  std::string package_bytes(const JsonObject& code, const http::Request& req);
  void drop_unreferenced_code(const std::set<std::string>& candidates);
  // Tells the invoke path that a function changed (nullptr: deleted), so that its environments
  // are retired and its cached configuration replaced.
  void changed(const std::string& name, const store::Function* now);

  ApiDeps deps_;
  ObjectReader object_reader_;
  aws::RestService rest_;
  Names names_;
  std::string url_key_;
  std::string public_url_;
  // Uploads (put blob, then commit metadata) hold it shared; garbage collection holds it
  // exclusively, so a blob is never removed between its upload and its commit.
  std::shared_mutex code_lock_;
  // Serializes reservation changes (reserved and provisioned concurrency), which are checked
  // against every function's reservation.
  std::mutex concurrency_lock_;
  // Serializes mapping changes (the duplicate check and the transition check).
  std::mutex mappings_lock_;
  // Resource policies by function ARN (qualified or not), as documents: authorization reads
  // them on every request, so they are kept here rather than read from the store.
  std::shared_mutex policies_mu_;
  std::map<std::string, std::string, std::less<>> policy_docs_;
  // Function URLs by url-id, for serving.
  mutable std::shared_mutex urls_mu_;
  std::map<std::string, UrlTarget, std::less<>> url_index_;
};

http::Response json_response(unsigned status, const boost::json::object& body);
http::Response no_content();
// Publishes $LATEST unless the newest version has the same code and configuration (then returns
// that one), as PublishVersion does.
const store::FunctionVersion& publish(store::Function& f, const std::string& description);
// Resource policies (policy.cc): the Principal member as AWS renders it, the stored statements,
// and the policy document around them.
boost::json::value principal_json(const std::string& principal);
boost::json::array parse_statements(const std::string& text);
std::string policy_document(const boost::json::array& statements);
// An invocation that did not run (throttled: the 429 response; no runtime, service error:
// thrown); nullopt when it ran.
std::optional<http::Response> invoke_failure(const invoke::InvokeResult& result);
// ?MaxItems (1..10000, ValidationException otherwise), capped at `page_max`.
size_t parse_max_items(const http::Request& req, size_t page_max);

}  // namespace lambent::lambda

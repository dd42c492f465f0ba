#include "services/lambda/lambda_api.h"

#include <boost/json.hpp>
#include <mutex>

#include "services/lambda/errors.h"
#include "base/log.h"

namespace lambent::lambda {

http::Response json_response(unsigned status, const boost::json::object& body) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = boost::json::serialize(body);
  return r;
}

http::Response no_content() {
  http::Response r;
  r.status = 204;
  return r;
}

LambdaApi::LambdaApi(ApiDeps deps)
    : deps_(deps),
      rest_(service_info(), deps.pool),
      names_{deps.config.region, deps.config.account_id},
      url_key_(deps.cipher.derive("lambent code download url v1")) {
  if (deps_.access) {
    rest_.set_guard(deps_.access);
    rest_.set_access(
        [this](std::string_view op, http::Request& req) { return access_of(op, req); });
    deps_.access->add_resource_policies(
        "lambda", [this](std::string_view arn) { return resource_policy(arn); });
  }
}

void LambdaApi::route(http::Router& router, const char* name, const char* method,
                      const char* pattern, Handler handler, size_t body_limit,
                      const char* query_key, const char* query_value) {
  // The health check and the signed code-download URLs need no credentials.
  const bool open = std::string_view(name) == "DownloadCode" || std::string_view(name) == "Health";
  rest_.add(router, {name, method, pattern, body_limit, query_key, query_value, open},
            [this, handler](http::Request& req) { return (this->*handler)(req); });
}

void LambdaApi::route_async(http::Router& router, const char* name, const char* method,
                            const char* pattern, AsyncHandler handler, size_t body_limit) {
  rest_.add_async(router, {name, method, pattern, body_limit},
                  [this, handler](http::Request& req) { return (this->*handler)(req); });
}

void LambdaApi::changed(const std::string& name, const store::Function* now) {
  index_policies(name, now);
  index_urls(name, now);
  deps_.invoker.function_changed(
      name, now ? std::make_shared<const store::Function>(*now) : nullptr);
}

void LambdaApi::add_routes(http::Router& router) {
  // Every operation served, in the order of the AWS operation list (docs/api.md).
  constexpr const char* kFunctions = "/2015-03-31/functions";
  constexpr const char* kFunction = "/2015-03-31/functions/{FunctionName}";
  route(router, "CreateFunction", "POST", kFunctions, &LambdaApi::create_function,
        kMaxCodeRequestBytes);
  route(router, "GetFunction", "GET", kFunction, &LambdaApi::get_function);
  route(router, "GetFunctionConfiguration", "GET",
        "/2015-03-31/functions/{FunctionName}/configuration",
        &LambdaApi::get_function_configuration);
  route(router, "ListFunctions", "GET", kFunctions, &LambdaApi::list_functions);
  route(router, "UpdateFunctionCode", "PUT", "/2015-03-31/functions/{FunctionName}/code",
        &LambdaApi::update_function_code, kMaxCodeRequestBytes);
  route(router, "UpdateFunctionConfiguration", "PUT",
        "/2015-03-31/functions/{FunctionName}/configuration",
        &LambdaApi::update_function_configuration);
  route(router, "DeleteFunction", "DELETE", kFunction, &LambdaApi::delete_function);
  route_async(router, "Invoke", "POST", "/2015-03-31/functions/{FunctionName}/invocations",
              &LambdaApi::invoke, kMaxInvokePayloadBytes);
  route_async(router, "InvokeWithResponseStream", "POST",
              "/2021-11-15/functions/{FunctionName}/response-streaming-invocations",
              &LambdaApi::invoke_with_response_stream, kMaxInvokePayloadBytes);
  route(router, "PublishVersion", "POST", "/2015-03-31/functions/{FunctionName}/versions",
        &LambdaApi::publish_version);
  route(router, "ListVersionsByFunction", "GET", "/2015-03-31/functions/{FunctionName}/versions",
        &LambdaApi::list_versions_by_function);
  constexpr const char* kAliases = "/2015-03-31/functions/{FunctionName}/aliases";
  constexpr const char* kAlias = "/2015-03-31/functions/{FunctionName}/aliases/{Name}";
  route(router, "CreateAlias", "POST", kAliases, &LambdaApi::create_alias);
  route(router, "GetAlias", "GET", kAlias, &LambdaApi::get_alias);
  route(router, "UpdateAlias", "PUT", kAlias, &LambdaApi::update_alias);
  route(router, "DeleteAlias", "DELETE", kAlias, &LambdaApi::delete_alias);
  route(router, "ListAliases", "GET", kAliases, &LambdaApi::list_aliases);
  route(router, "PutFunctionConcurrency", "PUT",
        "/2017-10-31/functions/{FunctionName}/concurrency", &LambdaApi::put_function_concurrency);
  route(router, "GetFunctionConcurrency", "GET",
        "/2019-09-30/functions/{FunctionName}/concurrency", &LambdaApi::get_function_concurrency);
  route(router, "DeleteFunctionConcurrency", "DELETE",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        &LambdaApi::delete_function_concurrency);
  constexpr const char* kProvisioned = "/2019-09-30/functions/{FunctionName}/provisioned-concurrency";
  route(router, "ListProvisionedConcurrencyConfigs", "GET", kProvisioned,
        &LambdaApi::list_provisioned_concurrency, kMaxRequestBytes, "List", "ALL");
  route(router, "PutProvisionedConcurrencyConfig", "PUT", kProvisioned,
        &LambdaApi::put_provisioned_concurrency);
  route(router, "GetProvisionedConcurrencyConfig", "GET", kProvisioned,
        &LambdaApi::get_provisioned_concurrency);
  route(router, "DeleteProvisionedConcurrencyConfig", "DELETE", kProvisioned,
        &LambdaApi::delete_provisioned_concurrency);
  constexpr const char* kLayerVersions = "/2018-10-31/layers/{LayerName}/versions";
  constexpr const char* kLayerVersion = "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}";
  route(router, "PublishLayerVersion", "POST", kLayerVersions, &LambdaApi::publish_layer_version,
        kMaxCodeRequestBytes);
  route(router, "GetLayerVersionByArn", "GET", "/2018-10-31/layers",
        &LambdaApi::get_layer_version_by_arn, kMaxRequestBytes, "find", "LayerVersion");
  route(router, "ListLayers", "GET", "/2018-10-31/layers", &LambdaApi::list_layers);
  route(router, "GetLayerVersion", "GET", kLayerVersion, &LambdaApi::get_layer_version);
  route(router, "ListLayerVersions", "GET", kLayerVersions, &LambdaApi::list_layer_versions);
  route(router, "DeleteLayerVersion", "DELETE", kLayerVersion, &LambdaApi::delete_layer_version);
  route(router, "AddLayerVersionPermission", "POST",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
        &LambdaApi::add_layer_version_permission);
  route(router, "GetLayerVersionPolicy", "GET",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
        &LambdaApi::get_layer_version_policy);
  route(router, "RemoveLayerVersionPermission", "DELETE",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}",
        &LambdaApi::remove_layer_version_permission);
  constexpr const char* kEventConfig = "/2019-09-25/functions/{FunctionName}/event-invoke-config";
  route(router, "PutFunctionEventInvokeConfig", "PUT", kEventConfig,
        &LambdaApi::put_event_invoke_config);
  route(router, "UpdateFunctionEventInvokeConfig", "POST", kEventConfig,
        &LambdaApi::update_event_invoke_config);
  route(router, "GetFunctionEventInvokeConfig", "GET", kEventConfig,
        &LambdaApi::get_event_invoke_config);
  route(router, "DeleteFunctionEventInvokeConfig", "DELETE", kEventConfig,
        &LambdaApi::delete_event_invoke_config);
  route(router, "ListFunctionEventInvokeConfigs", "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config/list",
        &LambdaApi::list_event_invoke_configs);
  constexpr const char* kMappings = "/2015-03-31/event-source-mappings";
  constexpr const char* kMapping = "/2015-03-31/event-source-mappings/{UUID}";
  route(router, "CreateEventSourceMapping", "POST", kMappings,
        &LambdaApi::create_event_source_mapping);
  route(router, "ListEventSourceMappings", "GET", kMappings, &LambdaApi::list_event_source_mappings);
  route(router, "GetEventSourceMapping", "GET", kMapping, &LambdaApi::get_event_source_mapping);
  route(router, "UpdateEventSourceMapping", "PUT", kMapping,
        &LambdaApi::update_event_source_mapping);
  route(router, "DeleteEventSourceMapping", "DELETE", kMapping,
        &LambdaApi::delete_event_source_mapping);
  route(router, "TagResource", "POST", "/2017-03-31/tags/{Resource}", &LambdaApi::tag_resource);
  route(router, "UntagResource", "DELETE", "/2017-03-31/tags/{Resource}",
        &LambdaApi::untag_resource);
  route(router, "ListTags", "GET", "/2017-03-31/tags/{Resource}", &LambdaApi::list_tags);
  route(router, "AddPermission", "POST", "/2015-03-31/functions/{FunctionName}/policy",
        &LambdaApi::add_permission);
  route(router, "RemovePermission", "DELETE",
        "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
        &LambdaApi::remove_permission);
  route(router, "GetPolicy", "GET", "/2015-03-31/functions/{FunctionName}/policy",
        &LambdaApi::get_policy);
  constexpr const char* kUrl = "/2021-10-31/functions/{FunctionName}/url";
  route(router, "CreateFunctionUrlConfig", "POST", kUrl, &LambdaApi::create_function_url_config);
  route(router, "GetFunctionUrlConfig", "GET", kUrl, &LambdaApi::get_function_url_config);
  route(router, "UpdateFunctionUrlConfig", "PUT", kUrl, &LambdaApi::update_function_url_config);
  route(router, "DeleteFunctionUrlConfig", "DELETE", kUrl, &LambdaApi::delete_function_url_config);
  route(router, "ListFunctionUrlConfigs", "GET", "/2021-10-31/functions/{FunctionName}/urls",
        &LambdaApi::list_function_url_configs);
  route(router, "GetAccountSettings", "GET", "/2016-08-19/account-settings",
        &LambdaApi::get_account_settings);
  route(router, "DownloadCode", "GET", "/_lambent/code/{Digest}", &LambdaApi::download_code);
  route(router, "Health", "GET", "/health", &LambdaApi::health);

  router.set_error_responder([](unsigned status, const std::string& message,
                                const http::Route* route) {
    switch (status) {
      case 413: {
        std::string op = route ? route->name : "this";
        size_t limit = route ? route->body_limit : 0;
        auto e = lambda_error(413, "RequestEntityTooLargeException",
                   route ? "Request must be smaller than " + std::to_string(limit) +
                               " bytes for the " + op + " operation"
                         : "Request is too large");
        return error_response(e);
      }
      case 404:
      case 405:
        return error_response(lambda_error(status, "UnknownOperationException", message));
      case 400:
        return error_response(lambda_error(400, "InvalidParameterValueException", message));
      default:
        return error_response(lambda_error(500, "ServiceException", "An internal error occurred.",
                                       true));
    }
  });
}

Result<size_t> LambdaApi::collect_garbage() {
  std::unique_lock lock(code_lock_);
  LAMBENT_TRY(referenced, deps_.store.referenced_code());
  size_t removed = 0;
  for (const auto& digest : deps_.code.list()) {
    if (!referenced.count(digest)) {
      deps_.code.remove(digest);
      ++removed;
    }
  }
  return removed;
}

void LambdaApi::drop_unreferenced_code(const std::set<std::string>& candidates) {
  std::unique_lock lock(code_lock_);
  auto referenced = deps_.store.referenced_code();
  if (!referenced) {
    log::warn("code garbage collection skipped: {}", referenced.error().message);
    return;
  }
  for (const auto& d : candidates) {
    if (!referenced->count(d)) deps_.code.remove(d);
  }
}

}  // namespace lambent::lambda

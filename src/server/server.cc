#include "server/server.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/resource.h>

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <optional>

#include "base/codec.h"
#include "base/crypto.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "blob/code_store.h"
#include "console/console.h"
#include "edge/cache.h"
#include "edge/distributions.h"
#include "edge/edge_server.h"
#include "http/router.h"
#include "http/server.h"
#include "iam/access_control.h"
#include "iam/directory.h"
#include "invoke/async.h"
#include "invoke/invoker.h"
#include "net/address_book.h"
#include "net/dns.h"
#include "net/node_network.h"
#include "net/tls.h"
#include "notify/buses.h"
#include "notify/delivery.h"
#include "notify/topics.h"
#include "objects/object_store.h"
#include "queue/queue_service.h"
#include "runtime/catalogue.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawner.h"
#include "scheduler/scheduler.h"
#include "services/cloudfront/cloudfront_api.h"
#include "services/cloudwatch/metrics_api.h"
#include "services/events/events_api.h"
#include "services/iam/iam_api.h"
#include "services/lambda/lambda_api.h"
#include "services/logs/logs_api.h"
#include "services/s3/s3_api.h"
#include "services/sns/sns_api.h"
#include "services/sqs/sqs_api.h"
#include "services/sts/sts_api.h"
#include "store/sqlite_store.h"
#include "telemetry/log_store.h"

namespace lambent::server {

namespace {
// Connections one execution environment may hold to the platform endpoint at once.
constexpr size_t kPlatformConnectionsPerEnv = 64;
}  // namespace

int serve(const config::Config& config) {
  log::Level level = log::Level::kInfo;
  log::parse_level(config.log_level, &level);
  log::set_level(level);

  auto fail = [](const std::string& what, const Error& e) {
    log::error("{}: {}", what, e.message);
    return 1;
  };
  if (auto r = make_dirs(config.data_dir, 0700); !r) return fail("data directory", r.error());
  // As many descriptors as the system allows (environments' connections and pipes count against
  // them; the Runtime APIs together keep a quarter free for the control plane).
  if (struct rlimit fds{}; ::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &fds) != 0) log::warn("raising the descriptor limit failed");
  }
  // One server per data directory: a second one would interleave writes.
  UniqueFd lock(::open((config.data_dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    log::error("data directory {} is in use by another lambent server", config.data_dir.string());
    return 1;
  }
  // Then, while the process has one thread: the spawner (it forks) and the probes of
  // the runtime catalogue (they run the interpreters once).
  // One cgroup subtree per data directory (one server per data directory): a restart after a
  // crash clears exactly what the crashed run left.
  std::string cgroup_parent =
      "lambent/" + hex_encode(as_bytes(sha256(config.data_dir.string()))).substr(0, 12);
  // Environments run as unprivileged uids from a range picked at random per server start, so that
  // two servers on one host rarely share a uid (RLIMIT_NPROC counts processes per uid).
  constexpr uint32_t kUidCount = 4096;
  uint32_t uid_base = 0;
  std::memcpy(&uid_base, random_bytes(sizeof(uid_base)).data(), sizeof(uid_base));
  uid_base = 200000 + (uid_base % 4096) * kUidCount;
  // Without root or cgroups the control plane still serves; invocations then fail clearly.
  std::string unavailable;
  std::optional<sandbox::Spawner> spawner;
  std::unique_ptr<sandbox::CgroupBackend> cgroups;
  // The environments' network (net/node_network.h), also made while there is one thread: it
  // enters a namespace of its own to build the router and comes back.
  std::optional<net::NodeNetwork> network;
  std::optional<net::PlatformCertificates> certificates;
  std::optional<sandbox::Spawner::Network> spawner_network;
  if (::geteuid() == 0 && config.network) {
    net::NetworkConfig nc;
    nc.range = *net::Cidr::parse(config.network_cidr);  // validated by config::load
    nc.uplink_range = *net::Cidr::parse(config.uplink_cidr);
    nc.node.mode = net::parse_egress_mode(config.egress);
    nc.node.allow = *net::parse_cidr_list(config.egress_allow, nullptr);
    nc.node.deny = *net::parse_cidr_list(config.egress_deny, nullptr);
    auto made = net::NodeNetwork::create(nc);
    if (!made) {
      log::warn("environments get no network (only their loopback): {}", made.error().message);
    } else {
      auto certs =
          net::platform_certificates(config.data_dir / "ca", config.region, made->plan().gateway);
      if (!certs) return fail("the platform endpoint's certificates", certs.error());
      network.emplace(std::move(*made));
      certificates = std::move(*certs);
      spawner_network = sandbox::Spawner::Network{network->plan(), certificates->ca_pem};
    }
  }
  if (::geteuid() != 0) {
    unavailable = "execution environments need root (namespaces, cgroups, mounts)";
  } else if (auto s = sandbox::Spawner::start(cgroup_parent, uid_base, kUidCount,
                                              (config.data_dir / "scratch").string(), 2,
                                              spawner_network ? &*spawner_network : nullptr);
             !s) {
    unavailable = "the sandbox spawner failed: " + s.error().message;
  } else {
    spawner.emplace(std::move(*s));
  }
  runtime::Catalogue catalogue(config.runtimes_dir.empty() ? runtime::default_runtimes_dir()
                                                           : config.runtimes_dir);
  if (spawner) {
    auto detected = sandbox::detect_cgroups(cgroup_parent);
    if (detected) {
      cgroups = std::move(*detected);
    } else {
      unavailable = "cgroups: " + detected.error().message;
    }
  }
  if (!unavailable.empty()) log::warn("functions cannot run on this server: {}", unavailable);

  auto key = load_or_create_key(config.data_dir / "node.key");
  if (!key) return fail("key file", key.error());
  Cipher cipher(std::move(*key));
  auto store = store::SqliteStore::open((config.data_dir / "meta.db").string(), cipher);
  if (!store) return fail("metadata store", store.error());
  const NodeIdentity node{config.region, config.account_id};

  // Identities: the account's root key (created at first start), users, roles and policies.
  iam::Directory directory(**store, cipher, node);
  std::optional<iam::Directory::RootKey> first_root;
  const char* root_id = std::getenv("LAMBENT_ROOT_ACCESS_KEY_ID");
  const char* root_secret = std::getenv("LAMBENT_ROOT_SECRET_ACCESS_KEY");
  if (root_id && *root_id && root_secret && *root_secret) {
    std::string_view id = root_id, secret = root_secret;
    bool ok = id.size() >= 16 && id.size() <= 128 && secret.size() >= 16 && secret.size() <= 128 &&
              std::all_of(id.begin(), id.end(), [](char c) {
                return std::isupper(static_cast<unsigned char>(c)) ||
                       std::isdigit(static_cast<unsigned char>(c));
              });
    if (!ok) {
      log::error(
          "LAMBENT_ROOT_ACCESS_KEY_ID must be 16-128 upper-case letters and digits and "
          "LAMBENT_ROOT_SECRET_ACCESS_KEY 16-128 characters");
      return 1;
    }
    first_root = iam::Directory::RootKey{std::string(id), std::string(secret)};
  }
  bool root_created = false;
  const auto root_file = config.data_dir / "root-credentials";
  if (auto r = directory.load(root_file, first_root, &root_created); !r) {
    return fail("identities", r.error());
  }
  if (root_created) {
    log::info(
        "created the account's root credentials (sealed in {}); print them with `lambent "
        "credentials --data {}` (add --profile NAME to write an aws CLI profile)",
        root_file.string(), config.data_dir.string());
  }
  iam::AccessControl access(directory);
  if (config.auth_open) {
    log::warn("--auth open: requests are not authenticated; every caller is the account's root");
  }
  aws::Guard* guard = config.auth_open ? nullptr : &access;
  auto queues = queue::QueueService::open(**store, node);
  if (!queues) return fail("queues", queues.error());
  auto code = blob::CodeStore::open(config.data_dir / "code", config.code_cache, cipher);
  if (!code) return fail("code store", code.error());

  auto logs = telemetry::LogStore::open((config.data_dir / "logs.db").string());
  if (!logs) return fail("log store", logs.error());
  (*logs)->set_max_events(config.log_max_events);
  (*logs)->set_max_bytes(config.log_max_bytes);
  (*logs)->set_enabled(config.telemetry);
  auto metrics = telemetry::Metrics::open((config.data_dir / "metrics.db").string());
  if (!metrics) return fail("metrics store", metrics.error());

  boost::asio::thread_pool pool(static_cast<size_t>(config.worker_threads));
  boost::asio::io_context ioc(1);

  int64_t budget = config.memory_budget_mb;
  if (budget == 0) {
    budget = static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE) / 4 * 3 >> 20;
  }
  std::optional<scheduler::SandboxLauncher> launcher;
  if (spawner && cgroups) launcher.emplace(*spawner, *cgroups);
  scheduler::Scheduler sched(ioc, pool, launcher ? &*launcher : nullptr, **logs,
                             catalogue.runtimes_dir(),
                             {uid_base, kUidCount, std::chrono::seconds(config.keep_alive_seconds),
                              std::chrono::milliseconds(config.freeze_after_ms), budget},
                             unavailable);
  sched.start();
  int64_t concurrency = config::effective_concurrency_limit(config.concurrency_limit, budget);
  invoke::Invoker invoker(ioc, pool, **store, **code, sched, catalogue,
                          node, concurrency,
                          config.telemetry ? metrics->get() : nullptr);
  if (auto r = invoker.restore(); !r) return fail("restoring concurrency settings", r.error());
  // Environments carry their execution role's credentials (12 hours; environments retire at 11).
  invoker.set_credentials(
      [&directory](const std::string& role_arn,
                   const std::string& session) -> std::optional<invoke::RoleCredentials> {
        auto snapshot = directory.view();
        const iam::Role* role = directory.find_role(*snapshot, role_arn);
        if (!role) return std::nullopt;
        iam::Session s = directory.new_session(*role, session, now_ms() / 1000, 12 * 3600, "");
        return invoke::RoleCredentials{s.access_key_id, s.secret, directory.session_token(s)};
      });

  invoke::AsyncDispatcher async(ioc, pool, **store, invoker, queues->get(),
                                config.telemetry ? metrics->get() : nullptr, logs->get(),
                                node,
                                {.retry_base_ms = config.async_retry_base_ms,
                                 .max_parallel = static_cast<size_t>(config.async_parallel)});
  async.start();
  invoke::EventSourceMappings mappings(ioc, pool, **store, invoker, **queues,
                                       node);
  if (auto r = mappings.restore(); !r) return fail("event source mappings", r.error());

  lambda::LambdaApi lambda_api({config, **store, **code, pool, cipher, invoker, concurrency, &async,
                                config.telemetry ? metrics->get() : nullptr, queues->get(),
                                &mappings, config.auth_open ? nullptr : &access});
  if (auto removed = lambda_api.collect_garbage(); !removed) {
    return fail("code garbage collection", removed.error());
  } else if (*removed > 0) {
    log::info("removed {} unreferenced code blob(s) left by an interrupted upload", *removed);
  }
  if (auto r = lambda_api.load_policies(); !r) return fail("function policies", r.error());
  // Topics (SNS): messages signed with the node's notification key; every delivery an
  // asynchronous event the dispatcher hands to the deliverer. Functions and queues receive only
  // what their policies let sns.amazonaws.com deliver for the topic.
  auto signing = net::notification_signing_identity(config.data_dir / "ca");
  if (!signing) return fail("the notification signing key", signing.error());
  auto signer = net::Signer::load(signing->key_pem);
  if (!signer) return fail("the notification signing key", signer.error());
  // What topics and buses route leaves through one outbox: queue deliveries sent at once, the
  // rest stored as asynchronous events the dispatcher hands to the deliverer.
  notify::Outbox outbox(**store, queues->get(),
                        [&async](std::vector<store::AsyncEvent> e) { async.submit(std::move(e)); });
  notify::TopicService topics(
      **store, node,
      {*signer, signing->cert_pem,
       "/_lambent/sns/SimpleNotificationService-" +
           hex_encode(as_bytes(sha256(signing->cert_pem))).substr(0, 32) + ".pem"},
      "", outbox);
  if (auto r = topics.load(); !r) return fail("topics", make_error(Errc::kIo, r.error().message));
  if (guard) {
    topics.set_permission_checks(
        [&](const std::string& function, const std::string& topic) {
          return !access.authorize_service("sns.amazonaws.com",
                                           {"lambda:InvokeFunction", function, {}}, topic,
                                           config.account_id);
        },
        [&](const std::string& queue, const std::string& topic) {
          return !access.authorize_service("sns.amazonaws.com", {"sqs:SendMessage", queue, {}},
                                           topic, config.account_id);
        });
  }
  access.add_resource_policies(
      "sns", [&topics](std::string_view arn) { return topics.policy(std::string(arn)); });
  // Outbound TLS (https subscriptions) trusts the host's authorities and the node's own.
  boost::asio::ssl::context tls_client(boost::asio::ssl::context::tls_client);
  tls_client.set_default_verify_paths();
  tls_client.add_certificate_authority(boost::asio::buffer(signing->ca_pem));
  notify::Deliverer deliverer(pool, queues->get(), topics, invoker, &tls_client);
  async.set_delivery_handler([&deliverer](store::AsyncEvent& e) { return deliverer.deliver(e); });
  // Buckets and objects (S3), data sealed under <data>/objects.
  auto object_store = objects::ObjectStore::open(config.data_dir / "objects", **store, cipher);
  if (!object_store) return fail("object store", object_store.error());
  s3::S3Api s3_api({**object_store, pool, config.region, config.account_id});
  if (auto r = s3_api.load(); !r) return fail("bucket policies", r.error());
  lambda_api.set_object_reader(
      [&s3_api](const std::string& bucket, const std::string& key, uint64_t limit) {
        return s3_api.read_object(bucket, key, limit);
      });
  s3_api.set_guard(guard);
  // Bucket notifications: to functions (asynchronous invocations) and queues, both stored as
  // asynchronous events with the object change; checked against the destination's policy
  // when a configuration is saved, as S3 does.
  s3_api.set_destinations(
      {.check = [&](const std::string& arn,
                    const std::string& bucket) -> std::optional<std::string> {
         const std::string bucket_arn = "arn:aws:s3:::" + bucket;
         if (arn.rfind("arn:aws:sns:", 0) == 0) {
           std::string name = topics.topic_name(arn);
           if (name.empty() || !topics.has_topic(name)) {
             return "The destination topic does not exist";
           }
           if (guard && access.authorize_service("s3.amazonaws.com", {"sns:Publish", arn, {}},
                                                 bucket_arn, config.account_id)) {
             return "Permissions on the destination topic do not allow S3 to publish "
                    "notifications from this bucket";
           }
           return std::nullopt;
         }
         if (arn.rfind("arn:aws:sqs:", 0) == 0) {
           if (queue::is_fifo_name(arn)) {
             return "FIFO queues are not supported as destinations of bucket notifications";
           }
           std::string name = (*queues)->name_from_arn(arn);
           if (name.empty() || !(*queues)->exists(name)) {
             return "The destination queue does not exist";
           }
           if (guard && access.authorize_service("s3.amazonaws.com", {"sqs:SendMessage", arn, {}},
                                                 bucket_arn, config.account_id)) {
             return "Permissions on the destination queue do not allow S3 to publish "
                    "notifications from this bucket";
           }
           return std::nullopt;
         }
         std::string_view rest = arn;
         size_t at = rest.find(":function:");
         rest = at == std::string_view::npos ? "" : rest.substr(at + 10);
         size_t colon = rest.find(':');
         std::string name(rest.substr(0, colon));
         auto f = (*store)->get_function(name);
         if (name.empty() || !f) return "The destination Lambda does not exist";
         if (colon != std::string_view::npos) {
           std::string qualifier(rest.substr(colon + 1));
           bool known = qualifier == "$LATEST" || f->find_version(qualifier) != nullptr;
           for (const auto& a : f->aliases) known = known || a.name == qualifier;
           if (!known) return "The destination Lambda does not exist";
         }
         if (guard &&
             access.authorize_service("s3.amazonaws.com", {"lambda:InvokeFunction", arn, {}},
                                      bucket_arn, config.account_id)) {
           return "Not authorized to invoke function [" + arn + "]";
         }
         return std::nullopt;
       },
       .send_test =
           [&](const std::string& arn, const std::string& body) {
             if (arn.rfind("arn:aws:sns:", 0) == 0) {
               notify::PublishInput in;
               in.message = body;
               in.subject = "Amazon S3 Notification";
               return topics.publish(topics.topic_name(arn), in).has_value();
             }
             queue::SendInput m;
             m.body = body;
             return (*queues)->send((*queues)->name_from_arn(arn), m).has_value();
           },
       .wake = [&async] { async.wake(); }});
  access.add_resource_policies("s3",
                               [&s3_api](std::string_view arn) { return s3_api.policy_of(arn); });
  // Event buses (EventBridge): rules route PutEvents and fire schedules; targets get what their
  // policies let events.amazonaws.com deliver for the rule.
  notify::EventBusService buses(**store, node, outbox);
  if (auto r = buses.load(); !r)
    return fail("event buses", make_error(Errc::kIo, r.error().message));
  if (guard) {
    buses.set_permission_check([&](const std::string& target, const std::string& rule) {
      std::string action = target.rfind("arn:aws:lambda:", 0) == 0 ? "lambda:InvokeFunction"
                           : target.rfind("arn:aws:sqs:", 0) == 0  ? "sqs:SendMessage"
                                                                   : "sns:Publish";
      return !access.authorize_service("events.amazonaws.com", {action, target, {}}, rule,
                                       config.account_id);
    });
  }
  buses.start(ioc, pool);
  eventbridge::EventsApi events_api(buses, pool);
  events_api.service().set_guard(guard);
  sns::SnsApi sns_api(topics, pool);
  sns_api.service().set_guard(guard);
  // Distributions (CloudFront) and the edge that serves them, with Lambda@Edge triggers run as
  // replicas of published versions.
  edge::Distributions distributions(**store, node, config.edge_domain);
  if (auto r = distributions.load(); !r) return fail("distributions", r.error());
  edge::Cache edge_cache(config.data_dir / "edge-cache",
                         static_cast<uint64_t>(config.edge_cache_memory_mb) << 20,
                         static_cast<uint64_t>(config.edge_cache_disk_mb) << 20);
  // The cache lives on the I/O thread: the API's threads wait for the purge there, so that an
  // invalidation is complete when it is answered.
  auto on_io = [&ioc](std::function<void()> work) {
    std::promise<void> done;
    boost::asio::post(ioc, [&] {
      work();
      done.set_value();
    });
    done.get_future().wait();
  };
  distributions.set_invalidated([&](const std::string& id, const std::vector<std::string>& paths) {
    on_io([&] { edge_cache.invalidate(id, paths); });
  });
  distributions.set_changed([&](const std::string& id) {
    if (!distributions.by_id(id)) on_io([&] { edge_cache.invalidate(id, {"/*"}); });
  });
  edge::FunctionLookup edge_facts =
      [&](const std::string& name,
          const std::string& version) -> std::optional<edge::FunctionFacts> {
    auto f = (*store)->get_function(name);
    if (!f) return std::nullopt;
    const store::FunctionVersion* v = f->find_version(version);
    if (!v) return std::nullopt;
    const store::FunctionConfig& c = v->config;
    edge::FunctionFacts out;
    out.runtime = c.runtime;
    out.memory_mb = c.memory_size;
    out.timeout_s = c.timeout;
    out.has_environment = c.environment && !c.environment->empty();
    out.layers = c.layers.size();
    out.has_dead_letter = !c.dead_letter_target.empty();
    out.role = c.role;
    out.role_trusted = true;
    if (guard) {
      auto snapshot = directory.view();
      const iam::Role* role = directory.find_role(*snapshot, c.role);
      out.role_trusted = role &&
                         !access.may_assume(*role, nullptr, "edgelambda.amazonaws.com", nullptr) &&
                         !access.may_assume(*role, nullptr, "lambda.amazonaws.com", nullptr);
    }
    return out;
  };
  cloudfront::CloudFrontApi cloudfront_api(distributions, edge_facts, pool, config.account_id);
  cloudfront_api.set_guard(guard);
  // Every service on one router: Lambda's REST routes, and the RPC services (SQS, Logs,
  // CloudWatch) on the POST / they share, found by aws::Endpoint.
  http::Router router;
  lambda_api.add_routes(router);
  // Function URLs claim their requests before S3 does (its claims are added last).
  lambda::FunctionUrlEndpoint function_urls(
      invoker, guard, lambda::Names{config.region, config.account_id},
      [&lambda_api](std::string_view id) { return lambda_api.find_url(id); });
  function_urls.add_routes(router);
  logs::LogsApi logs_api({**logs, pool, node});
  cloudwatch::MetricsApi metrics_api(**metrics, pool);
  metrics_api.add_routes(router);
  sqs::SqsApi sqs_api(**queues, pool, fmt::format("{}:{}", config.listen_host, config.listen_port));
  iam_api::IamApi iam_api(directory, pool);
  sts::StsApi sts_api(access, pool);
  // Every AWS API authenticated and authorized by the one guard (none with --auth open).
  sqs_api.protect(guard,
                  [&](auto policies) { access.add_resource_policies("sqs", std::move(policies)); });
  logs_api.protect(guard);
  metrics_api.service().set_guard(guard);
  iam_api.service().set_guard(guard);
  sts_api.service().set_guard(guard);
  aws::Endpoint endpoint;
  sqs_api.add_to(endpoint);
  endpoint.add(logs_api.service());
  endpoint.add(metrics_api.service());
  endpoint.add(iam_api.service());
  endpoint.add(sts_api.service());
  endpoint.add(sns_api.service());
  endpoint.add(events_api.service());
  sns_api.add_routes(router);
  cloudfront_api.add_routes(router);
  endpoint.add_routes(router, lambda::kMaxRequestBytes);
  // S3 last: it claims requests signed for s3 or addressed to a bucket's host name, and takes
  // the paths no other service has (path-style /<bucket>/<key>).
  s3_api.add_routes(router);
  // The web console: GET / and /_console/<file> for browsers (signed requests are S3's above).
  auto web_console = console::load_if_enabled(config.console, config.console_dir, config.region);
  if (web_console) web_console->add_routes(router);

  // The edge's own router (its listener starts with the API's, below).
  http::Router edge_router;
  edge::EdgeServer edge_server(
      {.pool = pool,
       .distributions = distributions,
       .cache = edge_cache,
       .run_trigger = [&invoker, &config](const std::string& name, const std::string& version,
                                          std::string event, const std::string& request_id)
           -> boost::asio::awaitable<edge::TriggerOutcome> {
         (void)request_id;
         const std::optional<std::string> qualifier = version;  // named: GCC 12
         auto resolved = co_await invoker.resolve(name, qualifier);
         if (!resolved) co_return edge::TriggerOutcome{edge::TriggerOutcome::kUnavailable, ""};
         invoke::InvokeInput in;
         in.request_id = uuid4();
         in.payload = std::move(event);
         in.invoked_function_arn =
             fmt::format("arn:aws:lambda:{}:{}:function:{}:{}", invoke::kEdgeReplica,
                         config.account_id, name, version);
         in.trace_id = invoke::new_trace_id();
         in.qualifier = version;
         in.replica = invoke::kEdgeReplica;
         invoke::InvokeResult result = co_await invoker.invoke(*resolved, std::move(in));
         if (result.status == invoke::InvokeResult::kThrottled) {
           co_return edge::TriggerOutcome{edge::TriggerOutcome::kThrottled, result.reason};
         }
         if (result.status != invoke::InvokeResult::kOk) {
           co_return edge::TriggerOutcome{edge::TriggerOutcome::kUnavailable, result.message};
         }
         if (result.outcome.kind != scheduler::Outcome::kSuccess) {
           co_return edge::TriggerOutcome{edge::TriggerOutcome::kFunctionError,
                                          result.outcome.payload};
         }
         co_return edge::TriggerOutcome{edge::TriggerOutcome::kOk,
                                        std::move(result.outcome.payload)};
       },
       .local_origin = [&router](http::Request& req) -> boost::asio::awaitable<http::Response> {
         http::Router::Match m = router.match(req);
         if (!m.route) co_return router.error(404, "no such bucket or key", nullptr);
         co_return co_await m.route->handler(req);
       },
       .tls = &tls_client});
  edge_server.add_routes(edge_router);
  metrics_api.add_extra([&edge_server] { return edge_server.metrics_text(); });

  // Clients of the API may hold a quarter of the descriptors (the Runtime APIs half: decision 9);
  // past that the listener waits for one to close instead of failing everyone with EMFILE.
  http::Server server(ioc, router,
                      {.host = config.listen_host,
                       .port = config.listen_port,
                       .max_connections = std::max<size_t>(256, descriptor_limit() / 4)});
  if (auto r = server.listen(); !r) return fail("listen", r.error());
  server.start();
  auto ep = server.local_endpoint();
  std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]"
                                          : ep.address().to_string();
  {
    // The URLs the API hands out name the server as configured, else as it listens (a
    // wildcard address by the machine's name), never as a request's Host header says.
    std::string public_host = host;
    if (ep.address().is_unspecified()) {
      char name[256] = {};
      public_host = ::gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "localhost";
    }
    lambda_api.set_public_url(config.public_url.empty()
                                  ? fmt::format("http://{}:{}", public_host, ep.port())
                                  : config.public_url);
    topics.set_public_url(config.public_url.empty()
                              ? fmt::format("http://{}:{}", public_host, ep.port())
                              : config.public_url);
  }
  // The platform endpoint: the same APIs for environments, on the gateway of their network
  // (HTTP, HTTPS with the node's certificate, DNS). Its two listeners share an eighth of the
  // descriptors.
  net::AddressBook addresses;
  std::optional<http::Server> platform_http, platform_https;
  std::optional<net::PlatformDns> platform_dns;
  if (network) {
    const net::NetworkPlan& plan = network->plan();
    auto budget =
        std::make_shared<http::ConnectionBudget>(std::max<size_t>(256, descriptor_limit() / 8));
    auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    tls->set_options(boost::asio::ssl::context::default_workarounds |
                     boost::asio::ssl::context::no_sslv2 | boost::asio::ssl::context::no_sslv3 |
                     boost::asio::ssl::context::no_tlsv1 | boost::asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    tls->use_certificate_chain(boost::asio::buffer(certificates->cert_pem), ec);
    if (!ec) {
      tls->use_private_key(boost::asio::buffer(certificates->key_pem),
                           boost::asio::ssl::context::pem, ec);
    }
    if (ec) return fail("the platform endpoint's TLS", Error{Errc::kInternal, ec.message()});
    // One environment holds at most 64 of them (both listeners together): its neighbours keep
    // their way to the platform however many connections it opens.
    auto peers = std::make_shared<http::PeerCounts>();
    platform_http.emplace(
        ioc, router,
        http::ServerOptions{.budget = budget,
                            .max_connections_per_peer = kPlatformConnectionsPerEnv,
                            .peer_counts = peers});
    platform_https.emplace(
        ioc, router,
        http::ServerOptions{.budget = budget,
                            .tls = tls,
                            .max_connections_per_peer = kPlatformConnectionsPerEnv,
                            .peer_counts = peers});
    if (auto r = platform_http->adopt(network->take_http().release()); !r) {
      return fail("platform endpoint", r.error());
    }
    if (auto r = platform_https->adopt(network->take_https().release()); !r) {
      return fail("platform endpoint", r.error());
    }
    platform_http->start();
    platform_https->start();
    auto resolv = read_file("/etc/resolv.conf");
    platform_dns.emplace(
        ioc, network->take_dns().release(), config.region, plan.gateway,
        [&addresses](uint32_t a) { return addresses.resolves_outside(a); },
        config.dns_upstream.empty() ? net::first_nameserver(resolv ? *resolv : "")
                                    : config.dns_upstream);
    platform_dns->start();
    invoker.set_platform_endpoint(net::format_ipv4(plan.gateway));
    if (launcher) {
      launcher->set_observer([&addresses, node = plan.node](const sandbox::EnvironmentSpec& spec,
                                                            const sandbox::SpawnResult& r) {
        auto address = net::parse_ipv4(r.address);
        if (!address) return;
        net::Egress own;
        own.mode = net::parse_egress_mode(spec.egress_mode);
        own.allow =
            net::parse_cidr_list(spec.egress_allow, nullptr).value_or(std::vector<net::Cidr>{});
        addresses.set(*address, net::AddressBook::reaches_outside(node, own));
      });
    }
    log::info(
        "environments' network {}: platform endpoint {} (HTTP, HTTPS, DNS), egress {}, "
        "uplink {}",
        plan.range.str(), net::format_ipv4(plan.gateway), net::egress_mode_name(*plan.node.mode),
        network->uplink_host_link());
  }
  std::optional<http::Server> edge_listener;
  if (config.edge) {
    uint16_t port = config.edge_port ? *config.edge_port
                                     : (config.listen_port == 0 ? 0 : config.listen_port + 1);
    edge_listener.emplace(
        ioc, edge_router,
        http::ServerOptions{
            .host = config.edge_host.empty() ? config.listen_host : config.edge_host,
            .port = port,
            .request_id_header = "X-Amz-Cf-Id",
            .max_connections = std::max<size_t>(256, descriptor_limit() / 4)});
    if (auto r = edge_listener->listen(); !r) return fail("edge listen", r.error());
    edge_listener->start();
  }
  // Tests and scripts read this line to learn the port when --listen asked for port 0 (and the
  // next one for the edge's).
  std::printf("lambent listening on http://%s:%u\n", host.c_str(), ep.port());
  if (edge_listener) {
    auto eep = edge_listener->local_endpoint();
    std::string ehost = eep.address().is_v6() ? "[" + eep.address().to_string() + "]"
                                              : eep.address().to_string();
    std::printf("lambent edge listening on http://%s:%u\n", ehost.c_str(), eep.port());
  }
  std::fflush(stdout);
  log::info("serving; data {} code cache {} runtimes {} ({}, memory budget {} MB, concurrency "
            "limit {})",
            config.data_dir.string(), config.code_cache.string(),
            catalogue.runtimes_dir().string(), cgroups ? cgroups->name() : "no sandbox", budget,
            concurrency);

  // Memory freed in bulk (a purged or deleted queue, the buffers of a burst of clients) goes
  // back to the system every 30 s: glibc keeps freed heap in its arenas otherwise (a soak's
  // purged queue of 1.8 million messages left the RSS at 900 MB).
  boost::asio::steady_timer trim(ioc);
  std::function<void()> schedule_trim = [&] {
    trim.expires_after(std::chrono::seconds(30));
    trim.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      boost::asio::post(pool, [] { ::malloc_trim(0); });
      schedule_trim();
    });
  };
  schedule_trim();

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("signal {}: shutting down", sig);
    trim.cancel();
    server.stop();
    if (edge_listener) edge_listener->stop();
    if (platform_http) platform_http->stop();
    if (platform_https) platform_https->stop();
    if (platform_dns) platform_dns->stop();
    async.stop();
    buses.stop();
    mappings.stop();
    sqs_api.stop();
    sched.stop();
  });
  ioc.run();
  pool.join();  // environments' groups are destroyed on the pool after they exit
  // The spawner removes its blank sandboxes' groups when its socket closes; then this server's
  // parent group is empty and goes too, so restarts leave no cgroups behind.
  spawner.reset();
  if (cgroups) cgroups->remove_parent();
  log::info("stopped");
  return 0;
}

}  // namespace lambent::server

#include "edge/distributions.h"

#include <fmt/format.h>

#include <algorithm>
#include <pugixml.hpp>
#include <set>

#include "base/codec.h"
#include "base/log.h"
#include "base/time.h"
#include "edge/headers.h"

namespace lambent::edge {

namespace {

ConfigError no_such_distribution() {
  return {404, "NoSuchDistribution", "The specified distribution does not exist."};
}

ConfigError from_store(const Error& e) {
  log::error("edge store: {}", e.message);
  return {500, "InternalError", "An internal error occurred."};
}

// CloudFront's checks of an If-Match header against the distribution's ETag.
std::optional<ConfigError> check_if_match(const std::string& if_match, const std::string& etag) {
  if (if_match.empty()) {
    return ConfigError{400, "InvalidIfMatchVersion",
                       "The If-Match version is missing or not valid for the resource."};
  }
  if (if_match != etag) {
    return ConfigError{412, "PreconditionFailed",
                       "The precondition given in one or more of the request-header fields "
                       "evaluated to false."};
  }
  return std::nullopt;
}

}  // namespace

void throw_exception_from_error(const ConfigError& e, const boost::source_location& loc) {
  log::error("unchecked ConfigError at {}:{}: {}", loc.file_name(), loc.line(), e.message);
  std::abort();
}

std::string new_id(char first) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string bytes = random_bytes(13);
  std::string out(1, first);
  for (unsigned char b : bytes) out += kAlphabet[b % 36];
  return out;
}

Distributions::Distributions(store::Store& store, NodeIdentity node, std::string domain)
    : store_(store), node_(std::move(node)), domain_(std::move(domain)) {}

std::string Distributions::arn_of(const std::string& id) const {
  return fmt::format("arn:aws:cloudfront::{}:distribution/{}", node_.account_id, id);
}

std::shared_ptr<const Distribution> Distributions::make(store::DistributionRecord record,
                                                        DistributionConfig config) const {
  auto d = std::make_shared<Distribution>();
  d->domain_name = record.domain_label + ".cloudfront." + (domain_.empty() ? "net" : domain_);
  d->arn = arn_of(record.id);
  d->record = std::move(record);
  d->config = std::move(config);
  return d;
}

void Distributions::index(std::shared_ptr<const Distribution> d) {
  by_host_[d->record.domain_label] = d->record.id;
  by_host_[lower(d->record.id)] = d->record.id;
  for (const auto& a : d->config.aliases) by_host_[a] = d->record.id;
  by_id_[d->record.id] = std::move(d);
}

void Distributions::unindex(const std::string& id) {
  for (auto it = by_host_.begin(); it != by_host_.end();) {
    it = it->second == id ? by_host_.erase(it) : std::next(it);
  }
  by_id_.erase(id);
}

Result<void> Distributions::load() {
  auto all = store_.list_distributions();
  if (!all) return all.error();
  auto invs = store_.list_invalidations();
  if (!invs) return invs.error();
  std::lock_guard lock(mu_);
  for (auto& r : *all) {
    ParsedConfig parsed = parse_distribution_config(r.config_xml);
    if (parsed.error) {
      return make_error(Errc::kCorrupt,
                        "stored distribution " + r.id + " is not valid: " + parsed.error->message);
    }
    index(make(std::move(r), std::move(parsed.config)));
  }
  for (auto& i : *invs) invalidations_[i.distribution_id].push_back(std::move(i));
  return {};
}

std::optional<ConfigError> Distributions::check_aliases(const DistributionConfig& c,
                                                        const std::string& self) const {
  std::lock_guard lock(mu_);
  for (const auto& a : c.aliases) {
    auto it = by_host_.find(a);
    if (it != by_host_.end() && it->second != self) {
      return ConfigError{409, "CNAMEAlreadyExists",
                         "One or more of the CNAMEs you provided are already associated with a "
                         "different resource."};
    }
  }
  return std::nullopt;
}

EdgeResult<std::shared_ptr<const Distribution>> Distributions::create(
    std::string_view body, bool with_tags, const FunctionLookup& lookup) {
  std::vector<std::pair<std::string, std::string>> tags;
  ParsedConfig parsed = parse_distribution_config(body, with_tags, &tags);
  if (parsed.error) return *parsed.error;
  std::lock_guard write(write_mu_);
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, d] : by_id_) {
      if (d->record.caller_reference != parsed.config.caller_reference) continue;
      // The same request again answers the same distribution; another config is a conflict.
      if (d->record.config_xml == parsed.xml) return d;
      return ConfigError{409, "DistributionAlreadyExists",
                         "The caller reference that you are using to create a distribution is "
                         "associated with another distribution."};
    }
  }
  if (auto e = check_aliases(parsed.config, "")) return *e;
  if (auto e = check_associations(parsed.config, node_.account_id, lookup)) return *e;
  store::DistributionRecord r;
  r.id = new_id('E');
  r.caller_reference = parsed.config.caller_reference;
  r.etag = new_id('E');
  r.domain_label = "d" + lower(new_id('D').substr(1));
  r.config_xml = parsed.xml;
  for (auto& [k, v] : tags) r.tags[k] = v;
  r.created_ms = r.modified_ms = now_ms();
  if (auto w = store_.create_distribution(r); !w) return from_store(w.error());
  auto d = make(std::move(r), std::move(parsed.config));
  {
    std::lock_guard lock(mu_);
    index(d);
  }
  return d;
}

EdgeResult<std::shared_ptr<const Distribution>> Distributions::update(
    const std::string& id, const std::string& if_match, std::string_view body,
    const FunctionLookup& lookup) {
  ParsedConfig parsed = parse_distribution_config(body);
  std::lock_guard write(write_mu_);
  auto current = by_id(id);
  if (!current) return no_such_distribution();
  if (auto e = check_if_match(if_match, current->record.etag)) return *e;
  if (parsed.error) return *parsed.error;
  if (parsed.config.caller_reference != current->record.caller_reference) {
    return ConfigError{400, "IllegalUpdate",
                       "The update contains modifications that are not allowed: the "
                       "CallerReference cannot change."};
  }
  if (auto e = check_aliases(parsed.config, id)) return *e;
  if (auto e = check_associations(parsed.config, node_.account_id, lookup)) return *e;
  store::DistributionRecord r = current->record;
  r.etag = new_id('E');
  r.config_xml = parsed.xml;
  r.modified_ms = now_ms();
  if (auto w = store_.put_distribution(r); !w) return from_store(w.error());
  auto d = make(std::move(r), std::move(parsed.config));
  {
    std::lock_guard lock(mu_);
    unindex(id);
    index(d);
  }
  if (changed_) changed_(id);
  return d;
}

EdgeResult<void> Distributions::remove(const std::string& id, const std::string& if_match) {
  std::lock_guard write(write_mu_);
  auto current = by_id(id);
  if (!current) return no_such_distribution();
  if (auto e = check_if_match(if_match, current->record.etag)) return *e;
  if (current->config.enabled) {
    return ConfigError{409, "DistributionNotDisabled",
                       "The distribution you are trying to delete has not been disabled."};
  }
  if (auto w = store_.delete_distribution(id); !w) return from_store(w.error());
  {
    std::lock_guard lock(mu_);
    unindex(id);
    invalidations_.erase(id);
  }
  if (changed_) changed_(id);
  return {};
}

EdgeResult<std::shared_ptr<const Distribution>> Distributions::get(const std::string& id) const {
  auto d = by_id(id);
  if (!d) return no_such_distribution();
  return d;
}

std::vector<std::shared_ptr<const Distribution>> Distributions::list() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Distribution>> out;
  for (const auto& [id, d] : by_id_) out.push_back(d);
  return out;
}

std::shared_ptr<const Distribution> Distributions::by_id(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<const Distribution> Distributions::by_host(std::string_view host) const {
  // Without the port; the first label for <label>.cloudfront.<domain>, else an alias.
  if (size_t colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string h = lower(host);
  std::lock_guard lock(mu_);
  std::string key = h;
  if (size_t dot = h.find(".cloudfront."); dot != std::string::npos) key = h.substr(0, dot);
  auto it = by_host_.find(key);
  if (it == by_host_.end()) return nullptr;
  auto d = by_id_.find(it->second);
  return d == by_id_.end() ? nullptr : d->second;
}

EdgeResult<Invalidation> Distributions::invalidate(const std::string& id, std::string_view body) {
  if (!by_id(id)) return no_such_distribution();
  pugi::xml_document doc;
  if (body.empty()) {
    return ConfigError{400, "MissingBody",
                       "This operation requires a body. Ensure that the body is present and the "
                       "Content-Type header is set."};
  }
  if (!doc.load_buffer(body.data(), body.size()) ||
      std::string_view(doc.document_element().name()) != "InvalidationBatch") {
    return ConfigError{400, "MalformedInput", "The root element must be InvalidationBatch."};
  }
  auto batch = doc.document_element();
  store::InvalidationRecord r;
  r.distribution_id = id;
  r.caller_reference = batch.child("CallerReference").text().as_string();
  auto paths = batch.child("Paths");
  if (r.caller_reference.empty() || !paths || !paths.child("Quantity")) {
    return ConfigError{400, "MalformedInput",
                       "An InvalidationBatch needs a CallerReference and Paths with a Quantity."};
  }
  for (auto p : paths.child("Items").children("Path")) r.paths.emplace_back(p.text().as_string());
  if (static_cast<int64_t>(r.paths.size()) != paths.child("Quantity").text().as_llong(-1)) {
    return ConfigError{400, "InconsistentQuantities",
                       "The value of Quantity and the size of Items don't match."};
  }
  if (r.paths.empty()) {
    return ConfigError{400, "InvalidArgument", "Your request contains no invalidation paths."};
  }
  if (r.paths.size() > 3000) {
    return ConfigError{413, "BatchTooLarge", "Invalidation batch specified is too large."};
  }
  for (const auto& p : r.paths) {
    size_t star = p.find('*');
    if (p.empty() || p[0] != '/' || p.size() > 4000 ||
        (star != std::string::npos && star != p.size() - 1)) {
      return ConfigError{400, "InvalidArgument",
                         "Your request contains one or more invalid invalidation paths."};
    }
  }
  std::lock_guard write(write_mu_);
  {
    std::lock_guard lock(mu_);
    for (const auto& existing : invalidations_[id]) {
      if (existing.caller_reference != r.caller_reference) continue;
      if (existing.paths == r.paths) return Invalidation{existing};
      return ConfigError{409, "InvalidationBatchAlreadyExists",
                         "The CallerReference you attempted to use has already been used for "
                         "another invalidation batch."};
    }
  }
  r.id = new_id('I');
  r.created_ms = now_ms();
  if (auto w = store_.put_invalidation(r); !w) return from_store(w.error());
  {
    std::lock_guard lock(mu_);
    invalidations_[id].push_back(r);
  }
  if (invalidated_) invalidated_(id, r.paths);
  return Invalidation{std::move(r)};
}

EdgeResult<Invalidation> Distributions::invalidation(const std::string& id,
                                                     const std::string& inv) const {
  if (!by_id(id)) return no_such_distribution();
  std::lock_guard lock(mu_);
  if (auto it = invalidations_.find(id); it != invalidations_.end()) {
    for (const auto& r : it->second) {
      if (r.id == inv) return Invalidation{r};
    }
  }
  return ConfigError{404, "NoSuchInvalidation", "The specified invalidation does not exist."};
}

EdgeResult<std::vector<Invalidation>> Distributions::invalidations(const std::string& id) const {
  if (!by_id(id)) return no_such_distribution();
  std::lock_guard lock(mu_);
  std::vector<Invalidation> out;
  if (auto it = invalidations_.find(id); it != invalidations_.end()) {
    for (auto r = it->second.rbegin(); r != it->second.rend(); ++r) out.push_back({*r});
  }
  return out;
}

EdgeResult<std::map<std::string, std::string>> Distributions::tags(const std::string& arn) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, d] : by_id_) {
    if (d->arn == arn) return d->record.tags;
  }
  return no_such_distribution();
}

EdgeResult<void> Distributions::tag(const std::string& arn,
                                    const std::map<std::string, std::string>& add,
                                    const std::vector<std::string>& remove) {
  std::lock_guard write(write_mu_);
  std::shared_ptr<const Distribution> current;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, d] : by_id_) {
      if (d->arn == arn) current = d;
    }
  }
  if (!current) return no_such_distribution();
  store::DistributionRecord r = current->record;
  for (const auto& [k, v] : add) r.tags[k] = v;
  for (const auto& k : remove) r.tags.erase(k);
  if (r.tags.size() > 50) {
    return ConfigError{400, "InvalidTagging", "A distribution can have at most 50 tags."};
  }
  if (auto w = store_.put_distribution(r); !w) return from_store(w.error());
  auto d = make(std::move(r), current->config);
  std::lock_guard lock(mu_);
  by_id_[d->record.id] = d;
  return {};
}

}  // namespace lambent::edge

#include "services/cloudfront/cloudfront_api.h"

#include <fmt/format.h>

#include <pugixml.hpp>
#include <sstream>

#include "base/codec.h"
#include "base/time.h"

namespace lambent::cloudfront {

namespace {

constexpr const char* kXmlns = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
constexpr const char* kPrefix = "/2020-05-31";
constexpr size_t kBodyLimit = 1 << 20;

[[noreturn]] void raise(const edge::ConfigError& e) {
  throw aws::ServiceError(e.status, e.code, e.message);
}

template <class T>
T take(edge::EdgeResult<T> r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

void check(const edge::EdgeResult<void>& r) {
  if (!r) raise(r.error());
}

http::Response xml(unsigned status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/xml";
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + std::move(body);
  return r;
}

std::string element(std::string_view name, std::string_view value) {
  return fmt::format("<{0}>{1}</{0}>", name, xml_escape(value));
}

std::string iso(int64_t ms) { return format_iso8601_millis(ms); }

// The <Distribution> body: identity and status, then the configuration as stored.
std::string distribution_xml(const edge::Distribution& d, bool with_ns) {
  return fmt::format(
      "<Distribution{}>{}{}<Status>Deployed</Status>{}<InProgressInvalidationBatches>0"
      "</InProgressInvalidationBatches>{}<ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0"
      "</Quantity></ActiveTrustedSigners><ActiveTrustedKeyGroups><Enabled>false</Enabled>"
      "<Quantity>0</Quantity></ActiveTrustedKeyGroups>{}</Distribution>",
      with_ns ? fmt::format(" xmlns=\"{}\"", kXmlns) : "", element("Id", d.record.id),
      element("ARN", d.arn), element("LastModifiedTime", iso(d.record.modified_ms)),
      element("DomainName", d.domain_name), d.record.config_xml);
}

std::string summary_xml(const edge::Distribution& d) {
  pugi::xml_document doc;
  doc.load_buffer(d.record.config_xml.data(), d.record.config_xml.size());
  std::ostringstream parts;
  auto root = doc.document_element();
  for (const char* name :
       {"Aliases", "Origins", "OriginGroups", "DefaultCacheBehavior", "CacheBehaviors",
        "CustomErrorResponses", "Comment", "PriceClass", "Enabled", "ViewerCertificate",
        "Restrictions", "WebACLId", "HttpVersion", "IsIPV6Enabled", "Staging"}) {
    if (auto n = root.child(name))
      n.print(parts, "", pugi::format_raw | pugi::format_no_empty_element_tags);
  }
  return fmt::format(
      "<DistributionSummary>{}{}<Status>Deployed</Status>{}{}{}</DistributionSummary>",
      element("Id", d.record.id), element("ARN", d.arn),
      element("LastModifiedTime", iso(d.record.modified_ms)), element("DomainName", d.domain_name),
      parts.str());
}

std::string invalidation_xml(const store::InvalidationRecord& r) {
  std::string paths;
  for (const auto& p : r.paths) paths += element("Path", p);
  return fmt::format(
      "<Invalidation xmlns=\"{}\">{}<Status>Completed</Status>{}<InvalidationBatch><Paths>"
      "<Quantity>{}</Quantity><Items>{}</Items></Paths>{}</InvalidationBatch></Invalidation>",
      kXmlns, element("Id", r.id), element("CreateTime", iso(r.created_ms)), r.paths.size(), paths,
      element("CallerReference", r.caller_reference));
}

std::string location(const http::Request& req, std::string_view path) {
  std::string host = req.header("host").value_or("cloudfront.amazonaws.com");
  return fmt::format("{}://{}{}{}", req.secure ? "https" : "http", host, kPrefix, path);
}

}  // namespace

aws::ServiceInfo CloudFrontApi::info() {
  return {.name = "cloudfront", .protocol = aws::Protocol::kRestXml, .global = true};
}

CloudFrontApi::CloudFrontApi(edge::Distributions& distributions, edge::FunctionLookup facts,
                             boost::asio::thread_pool& pool, std::string account)
    : distributions_(distributions),
      facts_(std::move(facts)),
      account_(std::move(account)),
      rest_(info(), pool) {}

void CloudFrontApi::set_guard(aws::Guard* guard) {
  guard_ = guard;
  rest_.set_guard(guard);
  rest_.set_access([this](std::string_view op, http::Request& req) -> std::vector<aws::Access> {
    std::string resource = "*";
    if (auto it = req.labels.find("Id"); it != req.labels.end()) {
      resource = distributions_.arn_of(it->second);
    } else if (auto d = req.labels.find("DistributionId"); d != req.labels.end()) {
      resource = distributions_.arn_of(d->second);
    } else if (auto r = req.query_param("Resource")) {
      resource = *r;
    }
    return {{"cloudfront:" + std::string(op), resource, {}}};
  });
}

edge::FunctionLookup CloudFrontApi::lookup_for(const http::Request& req) {
  return [this, &req](const std::string& name,
                      const std::string& version) -> std::optional<edge::FunctionFacts> {
    auto f = facts_ ? facts_(name, version) : std::nullopt;
    if (!f) return f;
    if (guard_) {
      std::string arn =
          fmt::format("arn:aws:lambda:us-east-1:{}:function:{}:{}", account_, name, version);
      try {
        rest_.authorize(req, {{"lambda:GetFunction", arn, {}}});
      } catch (const aws::ServiceError&) {
        f->readable = false;
      }
    }
    return f;
  };
}

void CloudFrontApi::add_routes(http::Router& router) {
  auto add = [&](const char* op, const char* method, const char* pattern, auto handler,
                 const char* query_key = "", const char* query_value = "") {
    rest_.add(router, {op, method, pattern, kBodyLimit, query_key, query_value},
              [this, handler](http::Request& req) { return handler(this, req); });
  };
  add(
      "CreateDistributionWithTags", "POST", "/2020-05-31/distribution",
      [](CloudFrontApi* a, http::Request& r) { return a->create(r); }, "WithTags");
  add("CreateDistribution", "POST", "/2020-05-31/distribution",
      [](CloudFrontApi* a, http::Request& r) { return a->create(r); });
  add("ListDistributions", "GET", "/2020-05-31/distribution",
      [](CloudFrontApi* a, http::Request& r) { return a->list(r); });
  add("GetDistribution", "GET", "/2020-05-31/distribution/{Id}",
      [](CloudFrontApi* a, http::Request& r) { return a->get(r, false); });
  add("GetDistributionConfig", "GET", "/2020-05-31/distribution/{Id}/config",
      [](CloudFrontApi* a, http::Request& r) { return a->get(r, true); });
  add("UpdateDistribution", "PUT", "/2020-05-31/distribution/{Id}/config",
      [](CloudFrontApi* a, http::Request& r) { return a->update(r); });
  add("DeleteDistribution", "DELETE", "/2020-05-31/distribution/{Id}",
      [](CloudFrontApi* a, http::Request& r) { return a->remove(r); });
  add("CreateInvalidation", "POST", "/2020-05-31/distribution/{DistributionId}/invalidation",
      [](CloudFrontApi* a, http::Request& r) { return a->create_invalidation(r); });
  add("ListInvalidations", "GET", "/2020-05-31/distribution/{DistributionId}/invalidation",
      [](CloudFrontApi* a, http::Request& r) { return a->list_invalidations(r); });
  add("GetInvalidation", "GET", "/2020-05-31/distribution/{DistributionId}/invalidation/{Id}",
      [](CloudFrontApi* a, http::Request& r) { return a->get_invalidation(r); });
  add(
      "TagResource", "POST", "/2020-05-31/tagging",
      [](CloudFrontApi* a, http::Request& r) { return a->tag(r, true); }, "Operation", "Tag");
  add(
      "UntagResource", "POST", "/2020-05-31/tagging",
      [](CloudFrontApi* a, http::Request& r) { return a->tag(r, false); }, "Operation", "Untag");
  add(
      "ListTagsForResource", "GET", "/2020-05-31/tagging",
      [](CloudFrontApi* a, http::Request& r) { return a->list_tags(r); }, "Resource");
}

http::Response CloudFrontApi::create(http::Request& req) {
  const bool with_tags = req.query_param("WithTags").has_value();
  auto d = take(distributions_.create(req.body, with_tags, lookup_for(req)));
  http::Response r = xml(201, distribution_xml(*d, true));
  r.set_header("Location", location(req, "/distribution/" + d->record.id));
  r.set_header("ETag", d->record.etag);
  return r;
}

http::Response CloudFrontApi::get(http::Request& req, bool config_only) {
  auto d = take(distributions_.get(req.label("Id")));
  std::string body = d->record.config_xml;
  if (config_only) {
    body.insert(std::string_view("<DistributionConfig").size(),
                fmt::format(" xmlns=\"{}\"", kXmlns));
  } else {
    body = distribution_xml(*d, true);
  }
  http::Response r = xml(200, std::move(body));
  r.set_header("ETag", d->record.etag);
  return r;
}

http::Response CloudFrontApi::update(http::Request& req) {
  auto d = take(distributions_.update(req.label("Id"), req.header("if-match").value_or(""),
                                      req.body, lookup_for(req)));
  http::Response r = xml(200, distribution_xml(*d, true));
  r.set_header("ETag", d->record.etag);
  return r;
}

http::Response CloudFrontApi::remove(http::Request& req) {
  check(distributions_.remove(req.label("Id"), req.header("if-match").value_or("")));
  http::Response r;
  r.status = 204;
  return r;
}

http::Response CloudFrontApi::list(http::Request& req) {
  std::string marker = req.query_param("Marker").value_or("");
  int64_t max_items = 100;
  if (auto m = req.query_param("MaxItems")) {
    char* end = nullptr;
    max_items = std::strtoll(m->c_str(), &end, 10);
    if (m->empty() || *end || max_items < 0 || max_items > 1000) {
      throw aws::ServiceError(400, "InvalidArgument", "The parameter MaxItems is not valid.");
    }
  }
  std::string items;
  int64_t n = 0;
  std::string next, last;
  for (const auto& d : distributions_.list()) {
    if (!marker.empty() && d->record.id <= marker) continue;
    if (n == max_items) {
      next = last;  // the next page starts after the last one returned
      break;
    }
    items += summary_xml(*d);
    last = d->record.id;
    ++n;
  }
  std::string body = fmt::format(
      "<DistributionList xmlns=\"{}\">{}{}<MaxItems>{}</MaxItems><IsTruncated>{}</IsTruncated>"
      "<Quantity>{}</Quantity>{}</DistributionList>",
      kXmlns, element("Marker", marker), next.empty() ? "" : element("NextMarker", next), max_items,
      next.empty() ? "false" : "true", n, n == 0 ? "" : "<Items>" + items + "</Items>");
  return xml(200, std::move(body));
}

http::Response CloudFrontApi::create_invalidation(http::Request& req) {
  const std::string& id = req.label("DistributionId");
  auto inv = take(distributions_.invalidate(id, req.body));
  http::Response r = xml(201, invalidation_xml(inv.record));
  r.set_header("Location", location(req, "/distribution/" + id + "/invalidation/" + inv.record.id));
  return r;
}

http::Response CloudFrontApi::get_invalidation(http::Request& req) {
  auto inv = take(distributions_.invalidation(req.label("DistributionId"), req.label("Id")));
  return xml(200, invalidation_xml(inv.record));
}

http::Response CloudFrontApi::list_invalidations(http::Request& req) {
  auto all = take(distributions_.invalidations(req.label("DistributionId")));
  std::string marker = req.query_param("Marker").value_or("");
  int64_t max_items = 100;
  if (auto m = req.query_param("MaxItems"))
    max_items = std::clamp<int64_t>(std::atoll(m->c_str()), 0, 1000);
  std::string items, next, last;
  int64_t n = 0;
  bool past = marker.empty();
  for (const auto& inv : all) {
    if (!past) {
      past = inv.record.id == marker;
      continue;
    }
    if (n == max_items) {
      next = last;  // the marker of the next page: the last one returned
      break;
    }
    items += fmt::format(
        "<InvalidationSummary>{}{}<Status>Completed</Status></InvalidationSummary>",
        element("Id", inv.record.id), element("CreateTime", iso(inv.record.created_ms)));
    last = inv.record.id;
    ++n;
  }
  return xml(200, fmt::format("<InvalidationList xmlns=\"{}\">{}{}<MaxItems>{}</MaxItems>"
                              "<IsTruncated>{}</IsTruncated><Quantity>{}</Quantity>{}"
                              "</InvalidationList>",
                              kXmlns, element("Marker", marker),
                              next.empty() ? "" : element("NextMarker", next), max_items,
                              next.empty() ? "false" : "true", n,
                              n == 0 ? "" : "<Items>" + items + "</Items>"));
}

http::Response CloudFrontApi::tag(http::Request& req, bool add) {
  std::string arn = req.query_param("Resource").value_or("");
  if (arn.empty())
    throw aws::ServiceError(400, "InvalidArgument", "The parameter Resource is required.");
  pugi::xml_document doc;
  if (req.body.empty() || !doc.load_buffer(req.body.data(), req.body.size())) {
    throw aws::ServiceError(400, "MalformedInput", "Could not parse the XML document.");
  }
  std::map<std::string, std::string> tags;
  std::vector<std::string> keys;
  if (add) {
    for (auto t : doc.document_element().child("Items").children("Tag")) {
      std::string key = t.child("Key").text().as_string();
      if (key.empty() || key.size() > 128) {
        throw aws::ServiceError(400, "InvalidTagging", "A tag key must be 1 to 128 characters.");
      }
      tags[key] = t.child("Value").text().as_string();
    }
  } else {
    for (auto k : doc.document_element().child("Items").children("Key")) {
      keys.emplace_back(k.text().as_string());
    }
  }
  check(distributions_.tag(arn, tags, keys));
  http::Response r;
  r.status = 204;
  return r;
}

http::Response CloudFrontApi::list_tags(http::Request& req) {
  auto tags = take(distributions_.tags(req.query_param("Resource").value_or("")));
  std::string items;
  for (const auto& [k, v] : tags) {
    items += "<Tag>" + element("Key", k) + element("Value", v) + "</Tag>";
  }
  return xml(200, fmt::format("<Tags xmlns=\"{}\">{}</Tags>", kXmlns,
                              items.empty() ? "" : "<Items>" + items + "</Items>"));
}

}  // namespace lambent::cloudfront

// What the edge (CloudFront) keeps in the store: distributions — their DistributionConfig as
// the API last accepted it (XML), version token (ETag), host label and tags — and the
// invalidation batches made for them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lambent::store {

struct DistributionRecord {
  std::string id;                // E + 13 upper-case alphanumerics
  std::string caller_reference;  // unique per distribution
  std::string etag;              // changes with every update
  std::string domain_label;      // d + 13 lower-case alphanumerics (the host's first label)
  std::string config_xml;        // <DistributionConfig> as accepted
  std::map<std::string, std::string> tags;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  bool operator==(const DistributionRecord&) const = default;
};

struct InvalidationRecord {
  std::string distribution_id;
  std::string id;  // I + 13 upper-case alphanumerics
  std::string caller_reference;
  std::vector<std::string> paths;
  int64_t created_ms = 0;
  bool operator==(const InvalidationRecord&) const = default;
};

}  // namespace lambent::store

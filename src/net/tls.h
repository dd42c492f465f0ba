// The platform endpoint's certificates: a certificate authority Lambent creates at first start
// (kept in the data directory, trusted by every sandbox), and a server certificate it signs at
// every start for the AWS service names of the node's region and the gateway's address.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"

namespace lambent::net {

struct PlatformCertificates {
  std::string ca_pem;    // the authority's certificate (what sandboxes trust)
  std::string cert_pem;  // the endpoint's certificate, then the authority's (a chain)
  std::string key_pem;   // the endpoint's private key (in memory only)
};

// The names the endpoint's certificate covers (and the DNS answers with the gateway).
std::vector<std::string> platform_dns_names(const std::string& region);

// `dir`: where ca.key (0600) and ca.crt live; made at first start.
Result<PlatformCertificates> platform_certificates(const std::filesystem::path& dir,
                                                   const std::string& region, uint32_t gateway);

}  // namespace lambent::net

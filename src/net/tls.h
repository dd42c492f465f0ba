// The platform endpoint's certificates: a certificate authority Lambent creates at first start
// (kept in the data directory, trusted by every sandbox), and a server certificate it signs at
// every start for the AWS service names of the node's region and the gateway's address.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
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

// The key notifications are signed with (SNS's Signature, SignatureVersion 1 and 2): RSA 2048,
// kept in `dir` (sns-signing.key, 0600), with a certificate the authority signs at every start
// (what SigningCertURL serves).
struct SigningIdentity {
  std::string key_pem;
  std::string cert_pem;
  std::string ca_pem;  // the node's authority (outbound TLS trusts it too)
};
Result<SigningIdentity> notification_signing_identity(const std::filesystem::path& dir);
// A private key read once, for signing from any thread.
class Signer {
 public:
  static Result<Signer> load(const std::string& key_pem);
  // base64 of the PKCS#1 v1.5 signature of `data` (SHA1 when `sha256` is false).
  Result<std::string> sign(std::string_view data, bool sha256) const;

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
};

// `dir`: where ca.key (0600) and ca.crt live; made at first start.
Result<PlatformCertificates> platform_certificates(const std::filesystem::path& dir,
                                                   const std::string& region, uint32_t gateway);

}  // namespace lambent::net

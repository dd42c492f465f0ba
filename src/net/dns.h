// The platform endpoint's DNS server (UDP, on the gateway): answers the AWS service names of the
// node's region with the gateway's address, so that unmodified AWS code reaches Lambent, and
// passes other names to the host's resolver for environments whose egress reaches beyond the
// platform (REFUSED for the others: a resolver fails at once instead of timing out). The wire
// format is ldns's (NLnet Labs).
// Thread: the io_context it is given.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"

namespace lambent::net {

// True for a name the platform endpoint serves (service names of `region`, and the global ones).
bool is_platform_name(std::string name, const std::string& region);

// The reply to one query packet (nullopt: not worth an answer, e.g. not a query). `forward`
// says what to do with other names: nullopt = REFUSED; else the caller forwards the query.
struct DnsDecision {
  std::optional<std::string> reply;  // wire format
  bool forward = false;
};
DnsDecision answer_dns(std::string_view query, const std::string& region, uint32_t gateway,
                       bool may_forward);

class PlatformDns final {
 public:
  // `socket_fd`: a bound UDP socket (in the router's namespace). `may_forward(src)`: whether the
  // environment at `src` may resolve names beyond the platform. `upstream`: the host's resolver
  // ("" = none: REFUSED).
  PlatformDns(boost::asio::io_context& ioc, int socket_fd, std::string region, uint32_t gateway,
              std::function<bool(uint32_t)> may_forward, std::string upstream);
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> forward(std::string query, boost::asio::ip::udp::endpoint client);
  boost::asio::io_context& ioc_;
  boost::asio::ip::udp::socket socket_;
  std::string region_;
  uint32_t gateway_;
  std::function<bool(uint32_t)> may_forward_;
  std::optional<boost::asio::ip::udp::endpoint> upstream_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The first IPv4 nameserver of a resolv.conf text ("" if none).
std::string first_nameserver(const std::string& resolv_conf);

}  // namespace lambent::net

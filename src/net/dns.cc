#include "net/dns.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sstream>

#include "base/log.h"
#include "net/cidr.h"

namespace lambent::net {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint32_t kTtl = 60;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

std::optional<std::string> to_wire(ldns_pkt* p) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, p, &size) != LDNS_STATUS_OK) return std::nullopt;
  std::string out(reinterpret_cast<char*>(wire), size);
  LDNS_FREE(wire);
  return out;
}

}  // namespace

bool is_platform_name(std::string name, const std::string& region) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (ends_with(name, "." + region + ".amazonaws.com")) return true;
  return name == "iam.amazonaws.com" || name == "sts.amazonaws.com" || name == "s3.amazonaws.com" ||
         ends_with(name, ".s3.amazonaws.com");
}

DnsDecision answer_dns(std::string_view query, const std::string& region, uint32_t gateway,
                       bool may_forward) {
  DnsDecision out;
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reinterpret_cast<const uint8_t*>(query.data()), query.size()) !=
      LDNS_STATUS_OK) {
    return out;  // not DNS: no answer
  }
  Pkt q(raw);
  if (ldns_pkt_qr(q.get())) return out;  // a response, not a query
  ldns_rr_list* questions = ldns_pkt_question(q.get());
  Pkt reply(ldns_pkt_new());
  ldns_pkt_set_id(reply.get(), ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_set_opcode(reply.get(), ldns_pkt_get_opcode(q.get()));
  if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY || !questions ||
      ldns_rr_list_rr_count(questions) != 1) {
    ldns_pkt_set_rcode(reply.get(), LDNS_RCODE_NOTIMPL);
    out.reply = to_wire(reply.get());
    return out;
  }
  ldns_rr* question = ldns_rr_list_rr(questions, 0);
  ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  char* owner_text = ldns_rdf2str(ldns_rr_owner(question));
  std::string owner = owner_text ? owner_text : "";
  LDNS_FREE(owner_text);
  if (!is_platform_name(owner, region)) {
    if (may_forward) {
      out.forward = true;
      return out;
    }
    ldns_pkt_set_rcode(reply.get(), LDNS_RCODE_REFUSED);
    out.reply = to_wire(reply.get());
    return out;
  }
  ldns_pkt_set_aa(reply.get(), true);
  ldns_pkt_set_rcode(reply.get(), LDNS_RCODE_NOERROR);
  ldns_rr_type type = ldns_rr_get_type(question);
  if (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_ANY) {
    ldns_rr* a = ldns_rr_new_frm_type(LDNS_RR_TYPE_A);
    ldns_rr_set_owner(a, ldns_rdf_clone(ldns_rr_owner(question)));
    ldns_rr_set_ttl(a, kTtl);
    ldns_rr_set_class(a, LDNS_RR_CLASS_IN);
    in_addr addr{htonl(gateway)};
    ldns_rr_set_rdf(a, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof addr, &addr), 0);
    ldns_pkt_push_rr(reply.get(), LDNS_SECTION_ANSWER, a);
  }
  // AAAA and other types: the name exists, with no record of that type (NOERROR, no answer).
  out.reply = to_wire(reply.get());
  return out;
}

std::string first_nameserver(const std::string& resolv_conf) {
  std::istringstream in(resolv_conf);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (words >> key >> value && key == "nameserver" && parse_ipv4(value)) return value;
  }
  return "";
}

PlatformDns::PlatformDns(asio::io_context& ioc, int socket_fd, std::string region, uint32_t gateway,
                         std::function<bool(uint32_t)> may_forward, std::string upstream)
    : ioc_(ioc),
      socket_(ioc, udp::v4(), socket_fd),
      region_(std::move(region)),
      gateway_(gateway),
      may_forward_(std::move(may_forward)) {
  if (auto a = parse_ipv4(upstream)) {
    upstream_ = udp::endpoint(asio::ip::address_v4(*a), 53);
  }
}

void PlatformDns::start() { asio::co_spawn(ioc_, serve(), asio::detached); }

void PlatformDns::stop() {
  boost::system::error_code ec;
  socket_.close(ec);
}

asio::awaitable<void> PlatformDns::serve() {
  std::weak_ptr<bool> alive = alive_;
  std::string buf(4096, '\0');
  for (;;) {
    udp::endpoint client;
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buf), client, kTuple);
    if (alive.expired() || ec == asio::error::operation_aborted || !socket_.is_open()) co_return;
    if (ec) continue;
    std::string_view query(buf.data(), n);
    bool may = upstream_ && may_forward_ && may_forward_(client.address().to_v4().to_uint());
    DnsDecision d = answer_dns(query, region_, gateway_, may);
    if (d.forward) {
      asio::co_spawn(ioc_, forward(std::string(query), client), asio::detached);
    } else if (d.reply) {
      boost::system::error_code sec;
      socket_.send_to(asio::buffer(*d.reply), client, 0, sec);
    }
  }
}

asio::awaitable<void> PlatformDns::forward(std::string query, udp::endpoint client) {
  // One socket per forwarded query (in the host's namespace: where the server's threads are),
  // answered within 3 s or not at all (the client's resolver retries).
  using namespace asio::experimental::awaitable_operators;
  std::weak_ptr<bool> alive = alive_;
  udp::socket up(ioc_, udp::v4());
  boost::system::error_code ec;
  up.send_to(asio::buffer(query), *upstream_, 0, ec);
  if (ec) co_return;
  std::string buf(65536, '\0');
  asio::steady_timer timer(ioc_, std::chrono::seconds(3));
  udp::endpoint from;
  auto result =
      co_await (up.async_receive_from(asio::buffer(buf), from, kTuple) || timer.async_wait(kTuple));
  if (alive.expired() || result.index() != 0) co_return;
  auto [rec, n] = std::get<0>(result);
  if (rec || from != *upstream_) co_return;
  socket_.send_to(asio::buffer(buf.data(), n), client, 0, ec);
}

}  // namespace lambent::net

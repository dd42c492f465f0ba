#include <gtest/gtest.h>

#include <ldns/ldns.h>

#include "net/cidr.h"
#include "net/dns.h"
#include "net/egress.h"
#include "net/firewall.h"

namespace lambent::net {
namespace {

TEST(Cidr, ParsesAndRefusesHostBits) {
  auto c = Cidr::parse("10.213.0.0/16");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "10.213.0.0/16");
  EXPECT_EQ(c->size(), 65536u);
  EXPECT_EQ(format_ipv4(c->at(1)), "10.213.0.1");
  EXPECT_TRUE(c->contains(*parse_ipv4("10.213.255.7")));
  EXPECT_FALSE(c->contains(*parse_ipv4("10.214.0.1")));
  EXPECT_FALSE(Cidr::parse("10.213.0.1/16"));  // host bits: ambiguous
  EXPECT_FALSE(Cidr::parse("10.213.0.0/33"));
  EXPECT_FALSE(Cidr::parse("10.213.0/16"));
  EXPECT_FALSE(Cidr::parse("10.213.0.0/"));
  EXPECT_EQ(Cidr::parse("192.0.2.9")->prefix, 32);
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*parse_ipv4("8.8.8.8")));
}

TEST(Egress, ParsesModesAndLists) {
  EXPECT_EQ(parse_egress_mode("internet"), EgressMode::kInternet);
  EXPECT_FALSE(parse_egress_mode("Internet"));
  std::string bad;
  auto list = parse_cidr_list("198.51.100.0/24, 203.0.113.7 ", &bad);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].str(), "203.0.113.7/32");
  EXPECT_FALSE(parse_cidr_list("198.51.100.0/24 nonsense", &bad));
  EXPECT_EQ(bad, "nonsense");
}

TEST(Firewall, EnvironmentChainsFollowTheirPolicy) {
  Egress internet{
      .mode = EgressMode::kInternet, .allow = {}, .deny = {*Cidr::parse("198.51.100.0/24")}};
  std::string r = env_chain_rules(7, *parse_ipv4("10.213.0.9"), internet);
  EXPECT_NE(r.find("ip daddr { 198.51.100.0/24 } jump refuse"), std::string::npos) << r;
  EXPECT_NE(r.find("oifname \"up0\" ip daddr != @blocked accept"), std::string::npos) << r;
  EXPECT_NE(r.find("egress { 10.213.0.9 : jump e7 }"), std::string::npos) << r;
  // The deny rule comes before the accept.
  EXPECT_LT(r.find("jump refuse"), r.find("@blocked accept"));
  // Lists alone leave the rest to the node's policy: no final refuse.
  Egress lists{.mode = std::nullopt, .allow = {*Cidr::parse("203.0.113.0/24")}, .deny = {}};
  std::string l = env_chain_rules(8, *parse_ipv4("10.213.0.10"), lists);
  EXPECT_EQ(l.find("add rule inet lambent e8 jump refuse"), std::string::npos) << l;
  EXPECT_NE(l.find("ip daddr { 203.0.113.0/24 } accept"), std::string::npos) << l;
}

std::string query_wire(const char* name, ldns_rr_type type) {
  ldns_pkt* q = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
  ldns_pkt_set_id(q, 4242);
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, q, &size), LDNS_STATUS_OK);
  std::string out(reinterpret_cast<char*>(wire), size);
  LDNS_FREE(wire);
  ldns_pkt_free(q);
  return out;
}

ldns_pkt* parse(const std::string& wire) {
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()),
            LDNS_STATUS_OK);
  return p;
}

TEST(Dns, PlatformNames) {
  EXPECT_TRUE(is_platform_name("sqs.us-east-1.amazonaws.com.", "us-east-1"));
  EXPECT_TRUE(is_platform_name("SQS.US-EAST-1.amazonaws.com", "us-east-1"));
  EXPECT_TRUE(is_platform_name("photos.s3.us-east-1.amazonaws.com", "us-east-1"));
  EXPECT_TRUE(is_platform_name("iam.amazonaws.com", "us-east-1"));
  EXPECT_TRUE(is_platform_name("bucket.s3.amazonaws.com", "us-east-1"));
  EXPECT_FALSE(is_platform_name("sqs.eu-west-1.amazonaws.com", "us-east-1"));
  EXPECT_FALSE(is_platform_name("amazonaws.com", "us-east-1"));
  EXPECT_FALSE(is_platform_name("example.com", "us-east-1"));
  EXPECT_FALSE(is_platform_name("evilus-east-1.amazonaws.com", "us-east-1"));
}

TEST(Dns, AnswersServiceNamesWithTheGateway) {
  uint32_t gw = *parse_ipv4("10.213.0.1");
  auto d = answer_dns(query_wire("sqs.us-east-1.amazonaws.com.", LDNS_RR_TYPE_A), "us-east-1", gw,
                      false);
  ASSERT_TRUE(d.reply);
  ldns_pkt* p = parse(*d.reply);
  EXPECT_EQ(ldns_pkt_id(p), 4242);
  EXPECT_TRUE(ldns_pkt_qr(p));
  EXPECT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  ASSERT_EQ(ldns_pkt_ancount(p), 1);
  char* text = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
  EXPECT_STREQ(text, "10.213.0.1");
  LDNS_FREE(text);
  ldns_pkt_free(p);
  // AAAA: the name exists, with no IPv6 address.
  d = answer_dns(query_wire("lambda.us-east-1.amazonaws.com.", LDNS_RR_TYPE_AAAA), "us-east-1", gw,
                 false);
  p = parse(*d.reply);
  EXPECT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p), 0);
  ldns_pkt_free(p);
}

TEST(Dns, OtherNamesRefusedOrForwarded) {
  uint32_t gw = *parse_ipv4("10.213.0.1");
  auto q = query_wire("example.com.", LDNS_RR_TYPE_A);
  auto refused = answer_dns(q, "us-east-1", gw, false);
  ASSERT_TRUE(refused.reply);
  ldns_pkt* p = parse(*refused.reply);
  EXPECT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
  ldns_pkt_free(p);
  auto forwarded = answer_dns(q, "us-east-1", gw, true);
  EXPECT_TRUE(forwarded.forward);
  EXPECT_FALSE(forwarded.reply);
  // Garbage gets no answer at all.
  EXPECT_FALSE(answer_dns("\x01\x02", "us-east-1", gw, true).reply);
  EXPECT_EQ(first_nameserver("# x\nsearch lan\nnameserver 192.0.2.53\n"), "192.0.2.53");
}

}  // namespace
}  // namespace lambent::net

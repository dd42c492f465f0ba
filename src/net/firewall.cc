#include "net/firewall.h"

#include <nftables/libnftables.h>

#include <fmt/format.h>

namespace lambent::net {
namespace {

std::string cidr_set(const std::vector<Cidr>& list) {
  std::string out = "{ ";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ", ";
    out += list[i].prefix == 32 ? format_ipv4(list[i].base) : list[i].str();
  }
  return out + " }";
}

// The accept/refuse rules of a policy, for traffic from environments being forwarded.
std::string policy_rules(const std::string& chain, const Egress& e, bool final_refuse) {
  std::string out;
  if (!e.deny.empty()) {
    out += fmt::format("add rule inet {} {} ip daddr {} jump refuse\n", kTable, chain,
                       cidr_set(e.deny));
  }
  if (!e.allow.empty()) {
    out +=
        fmt::format("add rule inet {} {} oifname \"{}\" ip daddr != @blocked ip daddr {} accept\n",
                    kTable, chain, kUplink, cidr_set(e.allow));
  }
  if (e.mode == EgressMode::kInternet) {
    out += fmt::format("add rule inet {} {} oifname \"{}\" ip daddr != @blocked accept\n", kTable,
                       chain, kUplink);
  }
  if (final_refuse) out += fmt::format("add rule inet {} {} jump refuse\n", kTable, chain);
  return out;
}

}  // namespace

Result<Nft> Nft::open() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return make_error(Errc::kIo, "nftables: cannot create a context");
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return Nft(ctx);
}

Nft::~Nft() {
  if (ctx_) nft_ctx_free(ctx_);
}

Result<void> Nft::run(const std::string& commands) {
  if (nft_run_cmd_from_buffer(ctx_, commands.c_str()) != 0) {
    std::string err = nft_ctx_get_error_buffer(ctx_);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return make_error(Errc::kIo, "nftables: " + (err.empty() ? std::string("failed") : err));
  }
  return {};
}

std::string router_ruleset(const RouterRules& r) {
  std::string ports;
  for (size_t i = 0; i < r.tcp_ports.size(); ++i)
    ports += (i ? ", " : "") + std::to_string(r.tcp_ports[i]);
  std::string gw = format_ipv4(r.gateway);
  std::string out = fmt::format(
      "table inet {t}\n"
      "delete table inet {t}\n"
      "table inet {t} {{\n"
      "  set blocked {{ type ipv4_addr; flags interval; auto-merge; elements = {blocked} }}\n"
      "  map egress {{ type ipv4_addr : verdict; }}\n"
      "  chain refuse {{\n"
      "    meta l4proto tcp reject with tcp reset\n"
      "    reject with icmpx type admin-prohibited\n"
      "  }}\n"
      "  chain input {{\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    iifname \"lbv*\" ct state established,related accept\n"
      "    iifname \"lbv*\" ip daddr {gw} tcp dport {{ {ports} }} accept\n"
      "    iifname \"lbv*\" ip daddr {gw} udp dport 53 accept\n"
      "    iifname \"lbv*\" jump refuse\n"
      "    iifname \"{up}\" ct state established,related accept\n"
      "    iifname \"{up}\" drop\n"
      "  }}\n"
      "  chain forward {{\n"
      "    type filter hook forward priority 0; policy drop;\n"
      "    ct state established,related accept\n"
      "    iifname \"lbv*\" ip saddr vmap @egress\n"
      "  }}\n"
      "  chain postrouting {{\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    oifname \"{up}\" masquerade\n"
      "  }}\n"
      "}}\n",
      fmt::arg("t", kTable), fmt::arg("blocked", cidr_set(r.blocked)), fmt::arg("gw", gw),
      fmt::arg("ports", ports), fmt::arg("up", kUplink));
  // After an environment's own chain (if any) has not decided: the node's policy.
  out += policy_rules("forward", r.node, true);
  // Only environments reach the forward chain's final verdict through these rules; anything
  // else forwarded (nothing should be) meets the drop policy.
  return out;
}

std::string env_chain_rules(uint32_t index, uint32_t addr, const Egress& egress) {
  std::string chain = fmt::format("e{}", index);
  std::string out =
      fmt::format("add chain inet {} {}\nflush chain inet {} {}\n", kTable, chain, kTable, chain);
  // An explicit mode decides everything; lists alone fall back to the node's policy after them.
  out += policy_rules(chain, egress, egress.mode.has_value());
  out += fmt::format("add element inet {} egress {{ {} : jump {} }}\n", kTable, format_ipv4(addr),
                     chain);
  return out;
}

std::string env_chain_flush(uint32_t index) {
  return fmt::format("flush chain inet {} e{}\n", kTable, index);
}

std::string env_chain_remove(uint32_t index, uint32_t addr) {
  return fmt::format("delete element inet {t} egress {{ {a} }}\nflush chain inet {t} e{i}\n",
                     fmt::arg("t", kTable), fmt::arg("a", format_ipv4(addr)), fmt::arg("i", index));
}

std::string uplink_table_name(uint32_t n) { return fmt::format("lambent_uplink_{}", n); }

std::string host_uplink_ruleset(uint32_t n, uint32_t router_addr, const std::string& host_link) {
  std::string t = uplink_table_name(n);
  return fmt::format(
      "table ip {t}\n"
      "delete table ip {t}\n"
      "table ip {t} {{\n"
      "  chain input {{\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    iifname \"{link}\" ct state established,related accept\n"
      "    iifname \"{link}\" reject\n"
      "  }}\n"
      "  chain postrouting {{\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    ip saddr {addr} oifname != \"{link}\" masquerade\n"
      "  }}\n"
      "}}\n",
      fmt::arg("t", t), fmt::arg("addr", format_ipv4(router_addr)), fmt::arg("link", host_link));
}

}  // namespace lambent::net

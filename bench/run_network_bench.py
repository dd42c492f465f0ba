#!/usr/bin/env python3
"""What the environments' network costs: cold starts (invoke to response) and warm invokes of the
no-op provided (C++) function on two servers in one run -- one with the network (`--network on`,
the default) and one without (`--network off`: loopback only) -- measured alternately, so that the
machine's drift hits both alike. Also cold starts of a function with an egress policy of its own
(`lambent:egress=internet`: one nftables transaction on its cold start). Prints markdown for
docs/benchmarks.md.

    /usr/bin/python3 bench/run_network_bench.py [--cold 30] [--rounds 6] [--seconds 2]

Needs root and a built tree (build/bin/lambent, build/bin/bench_load).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import create_noop, load  # noqa: E402
from harness import ROLE, Server, cpp_bootstrap, make_zip  # noqa: E402
from run_invoke_bench import invoke_once  # noqa: E402


def create_tagged(client, name, tags):
    client.create_function(FunctionName=name, Runtime="provided.al2023", Handler="noop",
                           Role=ROLE, MemorySize=1769, Timeout=30, Tags=tags,
                           Code={"ZipFile": make_zip({"bootstrap": cpp_bootstrap()},
                                                     executable={"bootstrap"})},
                           Environment={"Variables": {"ECHO_MODE": "noop"}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", type=int, default=30, help="cold starts per server and kind")
    ap.add_argument("--rounds", type=int, default=6, help="alternating warm rounds")
    ap.add_argument("--seconds", type=float, default=2)
    args = ap.parse_args()

    servers = {
        "network on": Server().start("--memory-budget-mb", "200000", "--log-level", "warn"),
        "network off": Server().start("--memory-budget-mb", "200000", "--log-level", "warn",
                                      "--network", "off"),
    }
    clients = {k: s.lambda_client(pool=20) for k, s in servers.items()}
    cold = {}
    warm = {}
    try:
        for k, c in clients.items():
            create_noop(c, "warm")
            c.invoke(FunctionName="warm", Payload=b"{}")
        kinds = [("network on", "node policy", {}), ("network off", "node policy", {}),
                 ("network on", "own policy (internet)", {"lambent:egress": "internet"})]
        for i in range(args.cold):
            for server, kind, tags in kinds:
                name = "cold-%d-%s" % (i, "own" if tags else "node")
                create_tagged(clients[server], name, tags)
                # An isolated cold start: the spawner has refilled its pool of blanks.
                time.sleep(0.25)
                ms, _, status = invoke_once(servers[server].port, name)
                assert status == 200, status
                cold.setdefault((server, kind), []).append(ms)
        path = "/2015-03-31/functions/warm/invocations"
        for r in range(args.rounds):
            order = list(servers) if r % 2 == 0 else list(reversed(servers))
            for k in order:
                for c in (1, 16):
                    warm.setdefault((k, c), []).append(
                        load(servers[k].port, path, c, args.seconds))
    finally:
        for s in servers.values():
            s.close()

    med = statistics.median
    print("| Cold start, provided (C++), 1,769 MB | median ms | p90 ms | samples |")
    print("|---|---|---|---|")
    for (server, kind), xs in cold.items():
        xs = sorted(xs)
        print("| %s, %s | %.2f | %.2f | %d |" % (server, kind, med(xs), xs[int(len(xs) * 0.9)],
                                               len(xs)))
    on = med(cold[("network on", "node policy")])
    off = med(cold[("network off", "node policy")])
    print("\nNetwork's cost on the cold start (medians): %+.2f ms" % (on - off))
    own = med(cold[("network on", "own policy (internet)")])
    print("An own egress policy's extra cost: %+.2f ms\n" % (own - on))
    print("| Warm invoke | c | p50 µs | p99 µs | req/s | rounds |")
    print("|---|---|---|---|---|---|")
    for (k, c), rs in sorted(warm.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print("| %s | %d | %.1f | %.1f | %.0f | %d |" % (
            k, c, med([r["p50_us"] for r in rs]), med([r["p99_us"] for r in rs]),
            med([r["throughput"] for r in rs]), len(rs)))


if __name__ == "__main__":
    main()

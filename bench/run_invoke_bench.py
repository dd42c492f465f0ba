#!/usr/bin/env python3
"""Invoke benchmarks: warm latency and throughput at c=1 and c=16 and cold starts, for a no-op
provided (C++), python and node function, each beside the loopback HTTP floor measured in the
same run (bench_load --baseline). Medians of several runs. Prints a markdown table for
docs/benchmarks.md.

    /usr/bin/python3 bench/run_invoke_bench.py [--runs 3] [--seconds 5]

Needs root (execution environments) and a built tree (build/bin/lambent, build/bin/bench_load).
"""

import argparse
import base64
import http.client
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import load  # noqa: E402
from harness import ROLE, Server, cpp_bootstrap, make_zip, sign_request  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

FUNCTIONS = {
    "provided (C++)": dict(Runtime="provided.al2023", Handler="noop",
                           Code=lambda: make_zip({"bootstrap": cpp_bootstrap()}, executable={"bootstrap"}),
                           Environment={"Variables": {"ECHO_MODE": "noop"}}),
    "python3.11": dict(Runtime="python3.11", Handler="app.handler",
                       Code=lambda: make_zip({"app.py": "def handler(event, context):\n    return {}\n"})),
    "nodejs20.x": dict(Runtime="nodejs20.x", Handler="index.handler",
                       Code=lambda: make_zip({"index.mjs": "export const handler = async () => ({});\n"})),
}


def create(client, name, spec, memory):
    args = {k: v for k, v in spec.items() if k != "Code"}
    client.create_function(FunctionName=name, Role=ROLE, Code={"ZipFile": spec["Code"]()},
                           MemorySize=memory, Timeout=30, **args)


def invoke_once(port, name):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    t0 = time.perf_counter()
    path = "/2015-03-31/functions/%s/invocations" % name
    conn.request("POST", path, body=b"{}",
                 headers=sign_request("http://127.0.0.1:%d" % port, "POST", path, b"{}",
                                      {"X-Amz-Log-Type": "Tail"}))
    r = conn.getresponse()
    r.read()
    elapsed = (time.perf_counter() - t0) * 1000
    log = base64.b64decode(r.getheader("X-Amz-Log-Result") or "").decode()
    conn.close()
    m = re.search(r"Init Duration: ([\d.]+) ms", log)
    return elapsed, float(m.group(1)) if m else None, r.status


def warm_up(client, name, n):
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        list(ex.map(lambda _: client.invoke(FunctionName=name, Payload=b"{}"), range(n)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--cold-samples", type=int, default=10)
    args = ap.parse_args()

    server = Server().start("--memory-budget-mb", "200000", "--log-level", "warn")
    client = server.lambda_client(pool=20)
    try:
        for label, spec in FUNCTIONS.items():
            for memory in (1769, 128):
                name = "bench-%s-%d" % (re.sub(r"[^a-z0-9]", "", label.lower()), memory)
                create(client, name, spec, memory)
                warm_up(client, name, 16)
        results = {}
        for run in range(args.runs):
            for c in (1, 16):
                results.setdefault(("baseline", c), []).append(
                    load(server.port, "/", c, args.seconds, baseline=True))
            for label in FUNCTIONS:
                for memory in (1769, 128):
                    name = "bench-%s-%d" % (re.sub(r"[^a-z0-9]", "", label.lower()), memory)
                    for c in (1, 16):
                        results.setdefault((label, memory, c), []).append(
                            load(server.port, "/2015-03-31/functions/%s/invocations" % name, c,
                                 args.seconds))
        cold = {}
        for label, spec in FUNCTIONS.items():
            for i in range(args.cold_samples):
                name = "cold-%s-%d" % (re.sub(r"[^a-z0-9]", "", label.lower()), i)
                create(client, name, spec, 1769)
                # An isolated cold start: the spawner has refilled its pool of ready sandboxes
                # (back-to-back cold starts faster than that pay for making one, see docs).
                time.sleep(0.2)
                cold.setdefault(label, []).append(invoke_once(server.port, name))
    finally:
        server.close()

    med = lambda xs: statistics.median(xs)  # noqa: E731

    def summary(key):
        rs = results[key]
        return (med([r["p50_us"] for r in rs]), med([r["p99_us"] for r in rs]),
                med([r["throughput"] for r in rs]), sum(r["errors"] for r in rs))

    print("| What | c | p50 µs | p99 µs | req/s | p50 over floor µs | errors |")
    print("|---|---|---|---|---|---|---|")
    for c in (1, 16):
        p50, p99, tput, err = summary(("baseline", c))
        print("| loopback HTTP floor (bench_load --baseline) | %d | %.1f | %.1f | %.0f | — | %d |"
              % (c, p50, p99, tput, err))
    for label in FUNCTIONS:
        for memory in (1769, 128):
            for c in (1, 16):
                p50, p99, tput, err = summary((label, memory, c))
                floor = summary(("baseline", c))[0]
                print("| warm no-op %s, %d MB | %d | %.1f | %.1f | %.0f | %.1f | %d |"
                      % (label, memory, c, p50, p99, tput, p50 - floor, err))
    print()
    print("| Cold start (1,769 MB) | invoke to response, median ms | Init Duration, median ms | samples |")
    print("|---|---|---|---|")
    for label, samples in cold.items():
        ok = [s for s in samples if s[2] == 200]
        print("| %s | %.2f | %.2f | %d |" % (label, med([s[0] for s in ok]),
                                            med([s[1] for s in ok if s[1] is not None]), len(ok)))


if __name__ == "__main__":
    main()

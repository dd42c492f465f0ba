#!/usr/bin/env python3
"""What logging and metrics cost: warm invoke throughput of a no-op provided (C++) function at
c=16 (and p50 at c=1) on a server with telemetry on versus one started with `--telemetry off`,
alternating runs in the same session; and the log ingestion rate of a chatty python function
(lines per second stored and readable through FilterLogEvents). Prints markdown for
docs/benchmarks.md.

    sudo /usr/bin/python3 bench/run_telemetry_bench.py [--runs 3] [--seconds 5]
"""

import argparse
import json
import os
import statistics
import sys
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import create_noop, load  # noqa: E402
from harness import REGION, ROLE, Server, make_zip  # noqa: E402

CHATTY = ("import sys\ndef handler(event, context):\n"
          "    for i in range(event['lines']):\n        print('chatty line', i, 'x' * 60)\n"
          "    return {}\n")


def cpu_seconds(pid):
    """User + system CPU of a process and all its threads so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(server):
    client = server.lambda_client(pool=20)
    create_noop(client, "noop")
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        list(ex.map(lambda _: client.invoke(FunctionName="noop", Payload=b"{}"), range(16)))
    return client


def ingestion(server, lines_per_invoke=2000, invokes=40):
    client = server.lambda_client(pool=8)
    client.create_function(FunctionName="chatty", Runtime="python3.11", Handler="app.handler",
                           Role=ROLE, MemorySize=1769, Timeout=60,
                           Code={"ZipFile": make_zip({"app.py": CHATTY})})
    client.invoke(FunctionName="chatty", Payload=json.dumps({"lines": 1}).encode())
    time.sleep(0.5)  # the log writer commits every 20 ms
    logs = boto3.client("logs", endpoint_url=server.endpoint, region_name=REGION)

    def stored():
        n, token = 0, None
        while True:
            kw = {"nextToken": token} if token else {}
            r = logs.filter_log_events(logGroupName="/aws/lambda/chatty",
                                       filterPattern='"chatty line"', **kw)
            n += len(r["events"])
            token = r.get("nextToken")
            if not token:
                return n

    before = stored()
    want = before + lines_per_invoke * invokes
    import concurrent.futures
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda _: client.invoke(
            FunctionName="chatty", Payload=json.dumps({"lines": lines_per_invoke}).encode()),
            range(invokes)))
    while stored() < want:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    return lines_per_invoke * invokes / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()
    on = Server().start("--log-level", "warn", "--memory-budget-mb", "200000")
    off = Server().start("--log-level", "warn", "--memory-budget-mb", "200000", "--telemetry", "off")
    results = {"on": [], "off": []}
    try:
        prepare(on)
        prepare(off)
        path = "/2015-03-31/functions/noop/invocations"
        floor = load(on.port, "/", 16, 2, baseline=True)
        for _ in range(args.runs):
            for label, server in (("on", on), ("off", off)):
                cpu0 = cpu_seconds(server.proc.pid)
                c16 = load(server.port, path, 16, args.seconds)
                cpu1 = cpu_seconds(server.proc.pid)
                # Server CPU (all threads: I/O, workers, log writer, metrics flusher) per invocation.
                per_invoke_us = (cpu1 - cpu0) / (c16["throughput"] * args.seconds) * 1e6
                c1 = load(server.port, path, 1, args.seconds / 2)
                results[label].append((c16["throughput"], c1["p50_us"], per_invoke_us))
        rate = ingestion(on)
    finally:
        on.close()
        off.close()
    med = statistics.median
    print("| Telemetry | c=16 invokes/s (median of %d) | server CPU µs per invoke (median) | "
          "c=1 p50 µs | runs c=16 |" % args.runs)
    print("|---|---|---|---|---|")
    print("| loopback HTTP floor, c=16 | %.0f | | | |" % floor["throughput"])
    for label in ("on", "off"):
        rs = results[label]
        print("| %s | %.0f | %.1f | %.1f | %s |" % (
            label, med([r[0] for r in rs]), med([r[2] for r in rs]), med([r[1] for r in rs]),
            ", ".join("%.0f" % r[0] for r in rs)))
    on_t, off_t = med([r[0] for r in results["on"]]), med([r[0] for r in results["off"]])
    on_c, off_c = med([r[2] for r in results["on"]]), med([r[2] for r in results["off"]])
    print()
    print("Throughput cost of logs and metrics: %.1f %%; server CPU per invocation: +%.1f %%"
          % ((off_t - on_t) / off_t * 100, (on_c - off_c) / off_c * 100))
    print("Log ingestion (chatty python, 4 concurrent invocations of 2,000 lines): %.0f lines/s "
          "stored and readable" % rate)


if __name__ == "__main__":
    main()

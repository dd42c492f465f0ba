#!/usr/bin/env python3
"""Cold start versus provisioned start for a python function: the first invocation of a published
version without provisioned concurrency (a cold start) and the first invocation of a version whose
provisioned concurrency is READY (Init already done), each measured from request to response on a
new connection, beside the loopback HTTP floor measured in the same run. Medians over samples, a
new function per sample. Prints a markdown table for docs/benchmarks.md.

    sudo /usr/bin/python3 bench/run_provisioned_bench.py [--samples 10] [--memory 1769]

Needs root (execution environments) and a built tree (build/bin/lambent, build/bin/bench_load).
"""

import argparse
import base64
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from harness import ROLE, Server, make_zip, sign_request  # noqa: E402

LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bin", "bench_load")
APP = make_zip({"app.py": "def handler(event, context):\n    return {}\n"})


def first_invoke(port, name, qualifier):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    t0 = time.perf_counter()
    path = "/2015-03-31/functions/%s/invocations?Qualifier=%s" % (name, qualifier)
    conn.request("POST", path, body=b"{}",
                 headers=sign_request("http://127.0.0.1:%d" % port, "POST", path, b"{}",
                                      {"X-Amz-Log-Type": "Tail"}))
    r = conn.getresponse()
    r.read()
    ms = (time.perf_counter() - t0) * 1000
    log = base64.b64decode(r.getheader("X-Amz-Log-Result") or "").decode()
    conn.close()
    if r.status != 200:
        raise RuntimeError("invoke failed: %d" % r.status)
    return ms, "Init Duration" in log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--memory", type=int, default=1769)
    args = ap.parse_args()
    server = Server().start("--log-level", "warn")
    client = server.lambda_client()
    cold, warm = [], []
    try:
        floor = json.loads(subprocess.run(
            [LOAD, "--target", "127.0.0.1:%d" % server.port, "--path", "/", "--body", "{}",
             "--concurrency", "1", "--seconds", "2", "--baseline"],
            check=True, capture_output=True, text=True).stdout)["p50_us"] / 1000
        for i in range(args.samples):
            name = "cold-%d" % i
            client.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                   Role=ROLE, Code={"ZipFile": APP}, MemorySize=args.memory,
                                   Publish=True)
            time.sleep(0.2)  # the spawner refills its ready sandboxes between samples
            ms, init = first_invoke(server.port, name, "1")
            assert init, "a cold start reports Init Duration"
            cold.append(ms)
        for i in range(args.samples):
            name = "prov-%d" % i
            client.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                   Role=ROLE, Code={"ZipFile": APP}, MemorySize=args.memory,
                                   Publish=True)
            client.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                      ProvisionedConcurrentExecutions=1)
            deadline = time.time() + 30
            while client.get_provisioned_concurrency_config(
                    FunctionName=name, Qualifier="1")["Status"] != "READY":
                if time.time() > deadline:
                    raise RuntimeError("provisioned concurrency never became READY")
                time.sleep(0.05)
            time.sleep(0.2)  # let it freeze, as an idle provisioned environment would be
            ms, init = first_invoke(server.port, name, "1")
            assert not init, "a provisioned start reports no Init Duration"
            warm.append(ms)
    finally:
        server.close()
    print("| python3.11, %d MB, first invocation | median ms | min ms | max ms | samples |" % args.memory)
    print("|---|---|---|---|---|")
    print("| loopback HTTP floor (bench_load --baseline) | %.3f | | | |" % floor)
    for label, xs in (("cold start (on-demand)", cold), ("provisioned (READY)", warm)):
        print("| %s | %.2f | %.2f | %.2f | %d |" % (label, statistics.median(xs), min(xs), max(xs),
                                                    len(xs)))


if __name__ == "__main__":
    main()

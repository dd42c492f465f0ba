#!/usr/bin/env python3
"""What abusive functions cost their neighbours (the hardening issue's must-show): while one
function floods its Runtime API with connections and another floods its stdout at full speed,
GET /health and a third function's warm invoke are timed (p50/p99/max) and the server's RSS is
sampled — against the same measurements with nothing abusive running, alternated in one run.
Prints markdown for docs/benchmarks.md.

    /usr/bin/python3 bench/run_abuse_bench.py [--rounds 3] [--seconds 15]
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import (ROLE, Server, make_zip, process_descriptors as fds,  # noqa: E402
                     process_rss_mb as rss_mb, sign_request)
from test_attacks import FLOOD, LOG_FLOOD  # noqa: E402


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


class Prober:
    """Times GET /health and a warm invoke of the echo function over keep-alive connections
    (raw HTTP, signed once per second: the client's own cost stays small and constant)."""

    def __init__(self, server):
        self.server = server
        self.health, self.invoke = [], []
        self.rss = []

    def run(self, seconds):
        port, pid = self.server.port, self.server.proc.pid
        h = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        path = "/2015-03-31/functions/abuse-echo/invocations"
        signed, signed_at = None, 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.monotonic()
            h.request("GET", "/health")
            h.getresponse().read()
            t1 = time.monotonic()
            if t1 - signed_at > 1:
                signed = sign_request(self.server.endpoint, "POST", path, b"{}",
                                      {"Content-Type": "application/json"})
                signed_at = t1
            t1 = time.monotonic()
            i.request("POST", path, body=b"{}", headers=signed)
            r = i.getresponse()
            r.read()
            t2 = time.monotonic()
            if r.status != 200:
                raise RuntimeError("invoke answered %d" % r.status)
            self.health.append((t1 - t0) * 1000)
            self.invoke.append((t2 - t1) * 1000)
            self.rss.append(rss_mb(pid))
            time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=15)
    args = ap.parse_args()
    server = Server().start("--log-level", "warn")
    client = server.lambda_client(pool=8)
    code = make_zip({"flood.py": LOG_FLOOD, "conn.py": FLOOD})
    client.create_function(FunctionName="abuse-echo", Runtime="python3.11", Handler="flood.echo",
                           Role=ROLE, Code={"ZipFile": code}, MemorySize=256)
    client.create_function(FunctionName="abuse-logs", Runtime="python3.11", Handler="flood.flood",
                           Role=ROLE, Code={"ZipFile": code}, MemorySize=1769, Timeout=300)
    client.create_function(FunctionName="abuse-conns", Runtime="python3.11",
                           Handler="conn.handler", Role=ROLE, Code={"ZipFile": code},
                           MemorySize=1769, Timeout=300)
    client.invoke(FunctionName="abuse-echo", Payload=b"{}")
    pid = server.proc.pid
    rows = {"quiet": [], "abused": []}
    rss_before = rss_mb(pid)
    fds_before = fds(pid)
    written = {"mb": 0}
    try:
        for _ in range(args.rounds):
            for mode in ("quiet", "abused"):
                stop = threading.Event()
                threads = []
                if mode == "abused":
                    def logs():
                        while not stop.is_set():
                            out = json.loads(client.invoke(FunctionName="abuse-logs", Payload=json.dumps(
                                {"mb": 200}).encode())["Payload"].read())
                            written["mb"] += out.get("written_mb", 0)

                    def conns():
                        client.invoke(FunctionName="abuse-conns", Payload=json.dumps(
                            {"probe": 16, "children": 20, "per_child": 1000,
                             "hold": args.seconds + 2}).encode())
                    threads = [threading.Thread(target=logs), threading.Thread(target=conns)]
                    for t in threads:
                        t.start()
                    time.sleep(2)  # let both floods get going
                p = Prober(server)
                peak_fds = fds(pid)
                p.run(args.seconds)
                peak_fds = max(peak_fds, fds(pid))
                stop.set()
                for t in threads:
                    t.join()
                rows[mode].append({"health": p.health, "invoke": p.invoke, "rss": max(p.rss),
                                   "fds": peak_fds})
        time.sleep(3)
        rss_after = rss_mb(pid)
        fds_after = fds(pid)
    finally:
        server.close()

    print("| %s | requests | /health p50 ms | /health p99 ms | /health max ms | invoke p50 ms "
          "| invoke p99 ms | invoke max ms | server RSS peak MB | server fds peak |" % "run")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode, label in (("quiet", "nothing abusive running"),
                        ("abused", "a connection flood and a stdout flood running")):
        health = [x for r in rows[mode] for x in r["health"]]
        invoke = [x for r in rows[mode] for x in r["invoke"]]
        print("| %s | %d | %.2f | %.2f | %.1f | %.2f | %.2f | %.1f | %.0f | %d |" % (
            label, len(health), statistics.median(health), pct(health, 0.99), max(health),
            statistics.median(invoke), pct(invoke, 0.99), max(invoke),
            max(r["rss"] for r in rows[mode]), max(r["fds"] for r in rows[mode])))
    print()
    print("Server RSS %.0f MB before, %.0f MB after; descriptors %d before, %d after; %d MB "
          "written by the stdout flood." % (rss_before, rss_after, fds_before, fds_after,
                                            written["mb"]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Soak: 1,000 concurrent clients for a while — warm invokes of the no-op function, GetFunction
calls and SQS SendMessage — against a server whose functions include a stdout flooder and a
Runtime API connection flooder running all along. Per segment: requests, errors, p99 of each
kind, the server's RSS and descriptors; at the end, RSS and descriptors against their level
before. Prints markdown for docs/benchmarks.md.

    /usr/bin/python3 bench/run_soak_bench.py [--minutes 10] [--segment 60]
        [--invokes 200] [--api 400] [--queue 400] [--heaptrack OUT]

bench_load requests are signed once per segment (Lambda accepts a signature for 5 minutes).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from benchlib import LOAD, create_noop  # noqa: E402
from harness import (REGION, ROLE, Server, make_zip, process_descriptors as fds,  # noqa: E402
                     process_rss_mb as rss_mb, sign_request)
from test_attacks import FLOOD, LOG_FLOOD  # noqa: E402


def environments(pid):
    """Execution environments alive: the server's child processes (spawner excluded)."""
    n = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            n += 1
    return n - 1


def smaps(pid):
    """Resident KiB per mapping kind: the main heap, other anonymous memory (thread arenas, big
    allocations), and each file -- where a difference between two moments lives."""
    out = {}
    kind = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                kind = parts[5] if len(parts) > 5 else "[anon]"
            elif parts[0] == "Rss:":
                out[kind] = out.get(kind, 0) + int(parts[1])
    return out


def malloc_stats(server, label):
    """glibc's per-arena statistics of the server (written to its stderr by malloc_stats(),
    called through gdb), printed with `label`."""
    mark = len(server.log())
    subprocess.run(["gdb", "-p", str(server.proc.pid), "-batch", "-ex",
                    "call (void)malloc_stats()"], capture_output=True, check=False)
    time.sleep(0.5)
    lines = [x for x in server.log()[mark:].splitlines()
             if x.startswith(("Arena", "system bytes", "in use bytes", "Total"))]
    print("malloc_stats %s:\n  %s" % (label, "\n  ".join(lines)), file=sys.stderr)


def load_cmd(server, method, path, body, headers, concurrency, seconds, service=None):
    signed = sign_request(server.endpoint, method, path, body.encode(), headers, service=service)
    cmd = [LOAD, "--target", "127.0.0.1:%d" % server.port, "--path", path, "--body", body,
           "--concurrency", str(concurrency), "--seconds", str(seconds), "--expect", "200"]
    if method == "GET":
        cmd.append("--get")
    for k, v in signed.items():
        if k.lower() in ("host", "content-length"):
            continue
        if k.lower() == "content-type":
            cmd += ["--content-type", v]
            continue
        cmd += ["--header", "%s: %s" % (k, v)]
    return cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--segment", type=float, default=60)
    ap.add_argument("--invokes", type=int, default=200)
    ap.add_argument("--api", type=int, default=400)
    ap.add_argument("--queue", type=int, default=400)
    ap.add_argument("--warm", type=float, default=30, help="seconds of warm-up before 'before'")
    ap.add_argument("--no-floods", action="store_true",
                    help="without the two flooding functions (to tell what they leave behind)")
    ap.add_argument("--heaptrack", metavar="OUT",
                    help="attach heaptrack to the server once 'before' is measured and kill -9 "
                         "the server once 'after' is: the trace's leaks are then the "
                         "allocations made during the soak that were still alive after it")
    ap.add_argument("--malloc-stats", action="store_true",
                    help="print glibc's per-arena statistics (malloc_stats through gdb) before "
                         "and after: live bytes against bytes held, arena by arena")
    args = ap.parse_args()
    server = Server().start("--memory-budget-mb", "400000", "--log-level", "warn")
    client = server.lambda_client(pool=8)
    create_noop(client, "soak-noop", memory=128)
    code = make_zip({"flood.py": LOG_FLOOD, "conn.py": FLOOD})
    client.create_function(FunctionName="soak-logs", Runtime="python3.11", Handler="flood.flood",
                           Role=ROLE, Code={"ZipFile": code}, MemorySize=1769, Timeout=300)
    client.create_function(FunctionName="soak-conns", Runtime="python3.11",
                           Handler="conn.handler", Role=ROLE, Code={"ZipFile": code},
                           MemorySize=1769, Timeout=300)
    import boto3
    sqs = boto3.client("sqs", endpoint_url=server.endpoint, region_name=REGION)
    queue_url = sqs.create_queue(QueueName="soak")["QueueUrl"]
    pid = server.proc.pid

    invoke = ("POST", "/2015-03-31/functions/soak-noop/invocations", "{}",
              {"Content-Type": "application/json"}, None)
    api = ("GET", "/2015-03-31/functions/soak-noop", "", {}, None)
    send = ("POST", "/", json.dumps({"QueueUrl": queue_url, "MessageBody": "soak"}),
            {"Content-Type": "application/x-amz-json-1.0",
             "X-Amz-Target": "AmazonSQS.SendMessage"}, "sqs")
    # A kind given 0 clients is left out (e.g. --queue 0: the soak without the queue's growth).
    kinds = tuple(k for k in (("invoke", invoke, args.invokes), ("GetFunction", api, args.api),
                              ("SendMessage", send, args.queue)) if k[2] > 0)

    rss_cold = rss_mb(pid)
    # Warm: every kind at full concurrency for --warm seconds (environments made, SQLite's page
    # caches and the worker threads' malloc arenas filled: they stay, bounded, whatever the
    # soak's length), one full round of each flood, then the queue purged and the heap trimmed
    # (every 30 s) -- so that "before" is the steady state a leak would grow from.
    procs = [subprocess.Popen(load_cmd(server, *k[:4], c, args.warm, service=k[4]),
                              stdout=subprocess.PIPE, text=True) for _, k, c in kinds]
    client.invoke(FunctionName="soak-logs", Payload=json.dumps({"mb": 100}).encode())
    client.invoke(FunctionName="soak-conns", Payload=json.dumps(
        {"probe": 16, "children": 10, "per_child": 900, "hold": 5}).encode())
    for p in procs:
        p.communicate()
    sqs.purge_queue(QueueUrl=queue_url)
    time.sleep(35)
    rss_before, fds_before, envs_before = rss_mb(pid), fds(pid), environments(pid)
    maps_before = smaps(pid)
    if args.malloc_stats:
        malloc_stats(server, "before")
    tracer = None
    if args.heaptrack:
        tracer = subprocess.Popen(["heaptrack", "-p", str(pid), "-o", args.heaptrack],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(5)  # injected through gdb

    stop = threading.Event()
    flood_stats = {"log_mb": 0, "conn_rounds": 0, "flood_errors": 0}

    def log_flood():
        while not stop.is_set():
            r = client.invoke(FunctionName="soak-logs", Payload=json.dumps({"mb": 100}).encode())
            out = json.loads(r["Payload"].read())
            if "FunctionError" in r:
                flood_stats["flood_errors"] += 1
            flood_stats["log_mb"] += out.get("written_mb", 0)

    def conn_flood():
        while not stop.is_set():
            client.invoke(FunctionName="soak-conns", Payload=json.dumps(
                {"probe": 16, "children": 10, "per_child": 900, "hold": 30}).encode())
            flood_stats["conn_rounds"] += 1

    floods = [] if args.no_floods else [threading.Thread(target=log_flood),
                                        threading.Thread(target=conn_flood)]
    for t in floods:
        t.start()
    segments = max(1, int(args.minutes * 60 / args.segment))
    rows = []
    started = time.monotonic()
    try:
        for seg in range(segments):
            procs = [(name, subprocess.Popen(load_cmd(server, *k[:4], c, args.segment,
                                                      service=k[4]),
                                             stdout=subprocess.PIPE, text=True))
                     for name, k, c in kinds]
            peak_rss, peak_fds = 0.0, 0
            while any(p.poll() is None for _, p in procs):
                peak_rss = max(peak_rss, rss_mb(pid))
                peak_fds = max(peak_fds, fds(pid))
                time.sleep(1)
            row = {"minute": (time.monotonic() - started) / 60, "rss": peak_rss, "fds": peak_fds}
            for name, p in procs:
                row[name] = json.loads(p.communicate()[0])
            rows.append(row)
            print("segment %d: %s" % (seg, json.dumps(row)), file=sys.stderr)
    finally:
        stop.set()
        for t in floods:
            t.join()
    time.sleep(5)
    rss_full, fds_full = rss_mb(pid), fds(pid)
    if args.malloc_stats:
        malloc_stats(server, "full")  # the queue still holding every message
    # The queue holds every message sent (nothing consumes them; queues are held in memory, by
    # design): measured once with it full, and again once purged.
    depth = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    sqs.purge_queue(QueueUrl=queue_url)
    time.sleep(35)  # the server gives freed memory back every 30 s
    rss_after, fds_after, envs_after = rss_mb(pid), fds(pid), environments(pid)
    maps_after = smaps(pid)
    if args.malloc_stats:
        malloc_stats(server, "after")
    for kind in sorted(set(maps_before) | set(maps_after)):
        a, b = maps_before.get(kind, 0), maps_after.get(kind, 0)
        if abs(b - a) >= 256:
            print("resident %s: %d KiB before, %d KiB after" % (kind, a, b), file=sys.stderr)
    alive = server.alive()
    if tracer:
        server.proc.kill()
        tracer.wait()
    server.close()

    print("| minute | invokes (errors) | invoke p99 ms | GetFunction (errors) | GetFunction p99 ms "
          "| SendMessage (errors) | SendMessage p99 ms | server RSS peak MB | server fds peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    total_errors = 0
    for r in rows:
        cells = []
        for name in ("invoke", "GetFunction", "SendMessage"):
            if name not in r:
                cells += ["-", "-"]
                continue
            total_errors += r[name]["errors"] + r[name]["dropped"]
            cells.append("%d (%d%s%s)" % (
                r[name]["requests"], r[name]["errors"],
                " " + json.dumps(r[name]["unexpected"]) if r[name]["unexpected"] else "",
                ", %d dropped" % r[name]["dropped"] if r[name]["dropped"] else ""))
            cells.append("%.1f" % (r[name]["p99_us"] / 1000))
        print("| %.1f | %s | %.0f | %d |" % (r["minute"], " | ".join(cells), r["rss"], r["fds"]))
    print()
    print("Server RSS %.0f MB fresh, %.0f MB after the %.0f s warm-up (\"before\")." % (
        rss_cold, rss_before, args.warm))
    print("%d errors in all. Server RSS %.0f MB before the soak; %.0f MB after it with the queue "
          "holding %d messages; %.0f MB once the queue was purged (%+.0f %% against before). "
          "Descriptors %d before, %d after (%d with the queue full), with %d and %d "
          "environments alive. Server alive: %s. Floods "
          "meanwhile: %d MB of stdout (%d failed invocations), %d rounds of the connection "
          "flood." % (
              total_errors, rss_before, rss_full, depth, rss_after,
              100 * (rss_after - rss_before) / rss_before, fds_before, fds_after, fds_full,
              envs_before, envs_after, alive,
              flood_stats["log_mb"], flood_stats["flood_errors"], flood_stats["conn_rounds"]))


if __name__ == "__main__":
    main()

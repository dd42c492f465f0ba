#!/usr/bin/env python3
"""The edge against nginx, in one run: nginx (Debian's, on loopback, serving a file) is both the
baseline and the edge's origin, so both answer the same bytes. Alternating within each round:
  - nginx direct, and an edge cache hit without functions: c=16 throughput (target: the edge at
    ≥ 0.5× nginx);
  - at c=1 (p50): the hit without functions, the hit with a viewer-request function (Python,
    128 MB, returns the request) on a warm environment, and a direct Invoke of that function
    with the same event (SigV4-signed) — target: hit + viewer-request ≤ 1.5 × (Invoke + hit).
Prints markdown tables for docs/benchmarks.md.

    /usr/bin/python3 bench/run_edge_bench.py [--rounds 5] [--seconds 3] [--size 4096]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import LOAD, load, start_nginx  # noqa: E402
from harness import Server, make_zip  # noqa: E402

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}}]})
PASS = "def handler(event, context):\n    return event['Records'][0]['cf']['request']\n"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get_load(port, path, c, seconds):
    cmd = [LOAD, "--target", "127.0.0.1:%d" % port, "--path", path, "--get", "--concurrency",
           str(c), "--seconds", str(seconds), "--expect", "200"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="lambent-edge-bench-")
    os.makedirs(os.path.join(root, "www"))
    with open(os.path.join(root, "www", "file.bin"), "wb") as f:
        f.write(os.urandom(args.size))
    nginx_port = free_port()
    nginx = start_nginx(root, os.path.join(root, "www"), nginx_port,
                        http_extra="open_file_cache max=1000 inactive=60s;")
    server = Server().start("--log-level", "warn", "--memory-budget-mb", "200000")
    try:
        iam = server.iam_client()
        role = iam.create_role(RoleName="edge-bench", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        lam = server.lambda_client()
        lam.create_function(FunctionName="pass", Runtime="python3.11", Handler="app.handler",
                            Role=role, Code={"ZipFile": make_zip({"app.py": PASS})}, Timeout=5,
                            MemorySize=128)
        arn = lam.publish_version(FunctionName="pass")["FunctionArn"]
        cf = server.client("cloudfront")

        def behavior(assoc, pattern=None):
            b = {"TargetOriginId": "nginx", "ViewerProtocolPolicy": "allow-all",
                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                 "MinTTL": 0, "LambdaFunctionAssociations": {"Quantity": len(assoc), "Items": assoc}}
            if pattern:
                b["PathPattern"] = pattern
            return b

        d = cf.create_distribution(DistributionConfig={
            "CallerReference": "bench", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "nginx", "DomainName": "127.0.0.1",
                "CustomOriginConfig": {"HTTPPort": nginx_port, "HTTPSPort": 443,
                                       "OriginProtocolPolicy": "http-only"}}]},
            "DefaultCacheBehavior": behavior([]),
            "CacheBehaviors": {"Quantity": 1, "Items": [behavior(
                [{"LambdaFunctionARN": arn, "EventType": "viewer-request"}], "/fn/*")]}})
        dist = d["Distribution"]["Id"]
        os.makedirs(os.path.join(root, "www", "fn"))
        shutil.copy(os.path.join(root, "www", "file.bin"), os.path.join(root, "www", "fn", "file.bin"))
        plain = "/_lambent/edge/%s/file.bin" % dist
        with_fn = "/_lambent/edge/%s/fn/file.bin" % dist
        # The event the function gets at the edge, for the direct Invoke.
        event = json.dumps({"Records": [{"cf": {
            "config": {"distributionDomainName": d["Distribution"]["DomainName"],
                       "distributionId": dist, "eventType": "viewer-request", "requestId": "x"},
            "request": {"clientIp": "127.0.0.1", "method": "GET", "uri": "/fn/file.bin",
                        "querystring": "", "headers": {"host": [{"key": "Host",
                                                                  "value": "127.0.0.1"}]}}}}]})
        invoke_path = "/2015-03-31/functions/pass:1/invocations"
        for path in (plain, with_fn):  # fill the cache, warm the environments
            get_load(server.edge_port, path, 1, 0.5)
        load(server.port, invoke_path, 1, 0.5, body=event)
        kinds = {
            "nginx direct": lambda c: get_load(nginx_port, "/file.bin", c, args.seconds),
            "edge hit": lambda c: get_load(server.edge_port, plain, c, args.seconds),
            "edge hit + viewer-request": lambda c: get_load(server.edge_port, with_fn, c,
                                                            args.seconds),
            "Invoke (same function)": lambda c: load(server.port, invoke_path, c, args.seconds,
                                                     body=event),
        }
        results = {k: {"p50": [], "rps": []} for k in kinds}
        for r in range(args.rounds):
            order = list(kinds) if r % 2 == 0 else list(reversed(kinds))
            for k in order:
                one = kinds[k](1)
                assert one["errors"] == 0, (k, one)
                results[k]["p50"].append(one["p50_us"])
                if k in ("nginx direct", "edge hit"):
                    many = kinds[k](16)
                    assert many["errors"] == 0, (k, many)
                    results[k]["rps"].append(many["throughput"])
                print(k, one["p50_us"], results[k]["rps"][-1:] or "", file=sys.stderr)
        med = {k: (statistics.median(v["p50"]),
                   statistics.median(v["rps"]) if v["rps"] else None) for k, v in results.items()}
        print("%d-byte object, %d rounds of %.0f s, medians" % (args.size, args.rounds, args.seconds))
        print()
        print("| request | c=1 p50 µs | c=16 req/s |")
        print("|---|---|---|")
        for k, (p50, rps) in med.items():
            print("| %s | %.0f | %s |" % (k, p50, "%.0f" % rps if rps else "—"))
        print()
        ratio = med["edge hit"][1] / med["nginx direct"][1]
        budget = med["Invoke (same function)"][0] + med["edge hit"][0]
        print("edge hit throughput / nginx: %.2f× (target ≥ 0.5×)" % ratio)
        print("hit + viewer-request p50 / (Invoke + hit): %.2f× (target ≤ 1.5×)" %
              (med["edge hit + viewer-request"][0] / budget))
    finally:
        server.close()
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

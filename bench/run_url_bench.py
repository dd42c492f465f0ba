#!/usr/bin/env python3
"""Function URLs against Invoke on the same warm function: the no-op provided (C++) function at
1,769 MB, requests at c=1 (p50 latency) and c=16 (throughput), alternating Invoke (SigV4-signed
with the root key), a NONE URL (public, authorized by the function's resource policy) and an
AWS_IAM URL (signed for lambda) within each round so the machine's drift hits all alike. Prints a
markdown table for docs/benchmarks.md.

    /usr/bin/python3 bench/run_url_bench.py [--rounds 5] [--seconds 3]
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import create_noop, load, rpc_load  # noqa: E402
from harness import Server  # noqa: E402


def url_load(port, path, c, seconds, signed):
    return rpc_load(port, "{}", "application/json", "lambda", c, seconds, path=path, sign=signed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()
    server = Server().start("--memory-budget-mb", "200000", "--log-level", "warn")
    try:
        client = server.lambda_client()
        for name in ("noop", "noop-iam"):
            create_noop(client, name)
        public = client.create_function_url_config(FunctionName="noop", AuthType="NONE")
        private = client.create_function_url_config(FunctionName="noop-iam", AuthType="AWS_IAM")
        for sid, body in (("url", {"Action": "lambda:InvokeFunctionUrl", "Principal": "*",
                                   "FunctionUrlAuthType": "NONE"}),
                          ("invoke", {"Action": "lambda:InvokeFunction", "Principal": "*",
                                      "InvokedViaFunctionUrl": True})):
            status, _, data = server.raw("POST", "/2015-03-31/functions/noop/policy",
                                         json.dumps({"StatementId": sid, **body}).encode(),
                                         {"Content-Type": "application/json"})
            assert status == 201, data
        invoke_path = "/2015-03-31/functions/noop/invocations"
        public_path = public["FunctionUrl"].split(str(server.port), 1)[1]
        private_path = private["FunctionUrl"].split(str(server.port), 1)[1]
        # Warm 16 environments of each function.
        for _ in range(2):
            load(server.port, invoke_path, 16, 1)
            url_load(server.port, private_path, 16, 1, True)
        kinds = {
            "Invoke": lambda c: load(server.port, invoke_path, c, args.seconds),
            "URL NONE": lambda c: url_load(server.port, public_path, c, args.seconds, False),
            "URL AWS_IAM": lambda c: url_load(server.port, private_path, c, args.seconds, True),
        }
        results = {k: {"p50": [], "rps": []} for k in kinds}
        for r in range(args.rounds):
            order = list(kinds) if r % 2 == 0 else list(reversed(kinds))
            for k in order:
                one = kinds[k](1)
                many = kinds[k](16)
                assert one["errors"] == 0 and many["errors"] == 0, (k, one, many)
                results[k]["p50"].append(one["p50_us"])
                results[k]["rps"].append(many["throughput"])
                print(k, one["p50_us"], round(many["throughput"]), file=sys.stderr)
        base = results["Invoke"]
        p50_base = statistics.median(base["p50"])
        rps_base = statistics.median(base["rps"])
        print("| request | c=1 p50 µs | vs Invoke | c=16 req/s | vs Invoke |")
        print("|---|---|---|---|---|")
        for k, v in results.items():
            p50 = statistics.median(v["p50"])
            rps = statistics.median(v["rps"])
            print("| %s | %.0f | %.2f× | %.0f | %.2f× |" % (k, p50, p50 / p50_base, rps,
                                                          rps / rps_base))
    finally:
        server.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""EventBridge: PutEvents of 10 entries against 100 rules (target ≥ 2,000 calls/s) at c=16, when
no rule matches (routing alone) and when every entry matches one rule with an SQS target (ten
durable deliveries per call); and c=1 latency. Prints a markdown table for docs/benchmarks.md.

    /usr/bin/python3 bench/run_events_bench.py [--seconds 3] [--runs 3]
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import rpc_load  # noqa: E402
from harness import ACCOUNT, REGION, Server, queue_for_service  # noqa: E402


def put_events_load(port, entries, c, seconds):
    return rpc_load(port, json.dumps({"Entries": entries}), "application/x-amz-json-1.1",
                    "events", c, seconds, target="AWSEvents.PutEvents")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    server = Server().start("--log-level", "warn")
    try:
        events = server.client("events")
        sqs = server.sqs_client()
        queue_for_service(sqs, "sink", "events.amazonaws.com")
        arn = "arn:aws:sqs:%s:%s:sink" % (REGION, ACCOUNT)
        for i in range(100):
            events.put_rule(Name="r%d" % i, EventPattern=json.dumps({
                "source": ["bench.%d" % i], "detail": {"kind": [{"prefix": "order"}],
                                                      "total": [{"numeric": [">", 10]}]}}))
            events.put_targets(Rule="r%d" % i, Targets=[{"Id": "q", "Arn": arn}])
        nomatch = [{"Source": "nobody.%d" % i, "DetailType": "d",
                    "Detail": json.dumps({"kind": "order-%d" % i, "total": 20})} for i in range(10)]
        match = [{"Source": "bench.%d" % (i * 7), "DetailType": "d",
                  "Detail": json.dumps({"kind": "order-%d" % i, "total": 20})} for i in range(10)]
        results = {"no rule matches": [], "each entry matches one rule": []}
        latency = {"no rule matches": [], "each entry matches one rule": []}
        for _ in range(args.runs):
            for name, entries in (("no rule matches", nomatch),
                                  ("each entry matches one rule", match)):
                results[name].append(put_events_load(server.port, entries, 16, args.seconds))
                latency[name].append(put_events_load(server.port, entries, 1, args.seconds))
        # Every answered call's ten events reach the queue (a bench that only counted answers
        # would not see deliveries lost or left behind): waited for, then counted.
        answered = sum(x["requests"] for x in results["each entry matches one rule"] +
                       latency["each entry matches one rule"])
        url = sqs.get_queue_url(QueueName="sink")["QueueUrl"]
        deadline = time.time() + 120
        while True:
            n = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
            if n >= 10 * answered or time.time() > deadline:
                break
            time.sleep(0.5)
        print("%d messages in the queue for %d answered calls (%.1f s after the last)" % (
            n, answered, time.time() - deadline + 120))
        assert n >= 10 * answered, (n, answered)
        print("| PutEvents, 10 entries, 100 rules | c=16 calls/s | c=16 p50 µs | c=1 p50 µs | target |")
        print("|---|---|---|---|---|")
        for name in results:
            r = results[name]
            assert all(x["errors"] == 0 for x in r), r
            print("| %s | %.0f | %.0f | %.0f | ≥ 2,000 calls/s |" % (
                name, statistics.median(x["throughput"] for x in r),
                statistics.median(x["p50_us"] for x in r),
                statistics.median(x["p50_us"] for x in latency[name])))
    finally:
        server.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""FIFO queues against standard queues (issue 22), in one run, alternating within each round:

- SendMessage at c=16 (bench_load, JSON protocol, server --auth open so that each request can
  carry its own MessageDeduplicationId): a standard queue, and a FIFO queue with 16 message
  groups (one per connection) and a distinct deduplication id per message;
- receive 10 + DeleteMessageBatch by 8 consumers until 10,000 messages are gone (messages/s), from
  a standard queue and from a FIFO queue holding 16 groups.

Deduplication entries are written in the send's own transaction (no extra fsync): the send
ratio shows what they cost. Prints markdown for docs/benchmarks.md.

    /usr/bin/python3 bench/run_fifo_bench.py [--rounds 5] [--seconds 3]
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import LOAD  # noqa: E402
from harness import ACCOUNT, Server  # noqa: E402
from run_queue_bench import Raw, consume  # noqa: E402

TOKEN = "0000000000000000"


def send_load(port, url, c, seconds, fifo, tag):
    body = {"QueueUrl": url, "MessageBody": "message " + TOKEN}
    out = []
    # One group per connection: bench_load gives every worker the same body, so each connection
    # is a bench_load of its own (16 processes of c=1 make c=16, for both kinds of queue).
    procs = []
    for w in range(c):
        b = dict(body)
        if fifo:
            # Unique per message: the round, the connection's group and the request's number.
            b["MessageGroupId"] = "group-%02d" % w
            b["MessageDeduplicationId"] = "%s-g%02d-%s" % (tag, w, TOKEN)
        cmd = [LOAD, "--target", "127.0.0.1:%d" % port, "--path", "/", "--body", json.dumps(b),
               "--content-type", "application/x-amz-json-1.0", "--header",
               "X-Amz-Target: AmazonSQS.SendMessage", "--concurrency", "1",
               "--seconds", str(seconds), "--unique", TOKEN]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    requests = 0
    for p in procs:
        r = json.loads(p.communicate()[0])
        if r["errors"]:
            raise RuntimeError("send errors: %s" % r)
        out.append(r["throughput"])
        requests += r["requests"]
    return sum(out), requests


def stored(port, url):
    attrs = Raw(port).call("GetQueueAttributes", {"QueueUrl": url,
                                                   "AttributeNames": ["ApproximateNumberOfMessages"]})
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def fill(port, url, n, fifo, groups=16):
    def work(k):
        raw = Raw(port)
        for i in range(k, n // 10, 8):
            entries = []
            for j in range(10):
                e = {"Id": str(j), "MessageBody": "message %d" % (i * 10 + j)}
                if fifo:
                    e["MessageGroupId"] = "group-%02d" % ((i * 10 + j) % groups)
                    e["MessageDeduplicationId"] = "d%d" % (i * 10 + j)
                entries.append(e)
            raw.call("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(work, range(8)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--messages", type=int, default=10000)
    args = ap.parse_args()
    server = Server().start("--auth", "open", "--log-level", "warn")
    try:
        raw = Raw(server.port)
        urls = {}
        for kind, name, attrs in (("standard", "bench-std", {}),
                                  ("fifo", "bench.fifo", {"FifoQueue": "true"})):
            urls[kind] = raw.call("CreateQueue", {"QueueName": name, "Attributes": attrs})["QueueUrl"]
        res = {k: {"send": [], "consume": []} for k in urls}
        for r in range(args.rounds):
            order = ["standard", "fifo"] if r % 2 == 0 else ["fifo", "standard"]
            for k in order:
                before = stored(server.port, urls[k])
                rate, requests = send_load(server.port, urls[k], 16, args.seconds, k == "fifo",
                                           "r%d" % r)
                # Every send stored a message (none was taken for a duplicate).
                assert stored(server.port, urls[k]) - before == requests, (k, requests)
                res[k]["send"].append(rate)
            for k in order:
                # A fresh queue per round (PurgeQueue allows one purge a minute).
                name = "c%d-%s" % (r, "x.fifo" if k == "fifo" else "x")
                attrs = {"FifoQueue": "true"} if k == "fifo" else {}
                url = raw.call("CreateQueue", {"QueueName": name, "Attributes": attrs})["QueueUrl"]
                fill(server.port, url, args.messages, k == "fifo")
                res[k]["consume"].append(consume(server.port, url, args.messages))
            print(r, {k: (round(v["send"][-1]), round(v["consume"][-1])) for k, v in res.items()},
                  file=sys.stderr)
        med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in res.items()}
        print("| measure | standard | FIFO (16 groups) | FIFO / standard (target ≥ 0.7) |")
        print("|---|---|---|---|")
        print("| SendMessage, c=16 | %.0f/s | %.0f/s | %.2f |" % (
            med["standard"]["send"], med["fifo"]["send"],
            med["fifo"]["send"] / med["standard"]["send"]))
        print("| receive 10 + DeleteMessageBatch, 8 consumers | %.0f messages/s | %.0f messages/s "
              "| %.2f |" % (med["standard"]["consume"], med["fifo"]["consume"],
                            med["fifo"]["consume"] / med["standard"]["consume"]))
    finally:
        server.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Asynchronous invocation and the built-in queues (issue 5), medians of --runs runs:

- durable async enqueue: Invoke with X-Amz-Invocation-Type Event (202 once fsynced) at c=1 and
  c=16, against a function whose reserved concurrency is 0 (events are stored, none runs);
- end-to-end async throughput: N events for a no-op provided function, enqueued at c=16, from the
  first request until the server counted N invocations (lambent_invocations_total), next to the
  same function's synchronous invoke throughput at c=16 in the same run;
- SQS: SendMessage at c=1 and c=16 (JSON protocol), and receive-then-DeleteMessageBatch of
  10-message batches by 8 consumers (messages per second);
- an event source mapping draining 10,000 messages into the no-op function (messages per second).

The baseline of every rate is bench_load's loopback floor at the same concurrency, measured in the
same run. Prints markdown for docs/benchmarks.md.

    sudo /usr/bin/python3 bench/run_queue_bench.py [--runs 3] [--seconds 3]
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import create_noop, load  # noqa: E402
from harness import ACCOUNT, REGION, Server, sign_request  # noqa: E402

EXTRA = os.environ.get("LAMBENT_EXTRA", "").split()


def checked(out):
    if out["errors"]:
        raise RuntimeError("%d errors" % out["errors"])
    return out


def invocations(server, name):
    text = urllib.request.urlopen(server.endpoint + "/metrics").read().decode()
    m = re.search(r'^lambent_invocations_total\{function="%s"\} (\d+)' % re.escape(name), text, re.M)
    return int(m.group(1)) if m else 0


class Raw:
    """One keep-alive connection speaking the SQS JSON protocol."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.endpoint = "http://127.0.0.1:%d" % port

    def call(self, op, body):
        data = json.dumps(body).encode()
        self.conn.request("POST", "/", data, sign_request(
            self.endpoint, "POST", "/", data, {"X-Amz-Target": "AmazonSQS." + op,
                                               "Content-Type": "application/x-amz-json-1.0"}))
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError("%s: %d %s" % (op, r.status, data[:200]))
        return json.loads(data)


def fill(port, url, n, c=8):
    def work(k):
        raw = Raw(port)
        for i in range(k, n // 10, c):
            raw.call("SendMessageBatch", {"QueueUrl": url, "Entries": [
                {"Id": str(j), "MessageBody": "message %d" % (i * 10 + j)} for j in range(10)]})
    with concurrent.futures.ThreadPoolExecutor(c) as ex:
        list(ex.map(work, range(c)))


def consume(port, url, n, c=8):
    """Receive 10 and delete them in one batch, until n messages are gone; messages/s."""
    done = [0]

    def work(_):
        raw = Raw(port)
        while done[0] < n:
            msgs = raw.call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10,
                                               "WaitTimeSeconds": 1}).get("Messages", [])
            if not msgs:
                continue
            raw.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]})
            done[0] += len(msgs)
    t = time.time()
    with concurrent.futures.ThreadPoolExecutor(c) as ex:
        list(ex.map(work, range(c)))
    return n / (time.time() - t)


def one_run(seconds, events, messages):
    server = Server().start("--memory-budget-mb", "200000", *EXTRA)
    try:
        client = server.lambda_client(pool=20)
        port = server.port
        r = {}
        # Durable enqueue: stored, never run (reserved concurrency 0).
        create_noop(client, "parked")
        client.put_function_concurrency(FunctionName="parked", ReservedConcurrentExecutions=0)
        path = "/2015-03-31/functions/%s/invocations"
        event = ["X-Amz-Invocation-Type: Event"]
        for c in (1, 16):
            r["floor_c%d" % c] = load(port, "/", c, seconds, baseline=True)["throughput"]
            r["enqueue_c%d" % c] = checked(
                load(port, path % "parked", c, seconds, headers=event, expect=202))["throughput"]
        client.delete_function(FunctionName="parked")

        # End to end: N events through the dispatcher, against sync invokes of the same function.
        create_noop(client, "noop")
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            list(ex.map(lambda _: client.invoke(FunctionName="noop", Payload=b"{}"), range(32)))
        r["sync_c16"] = checked(load(port, path % "noop", 16, seconds))["throughput"]
        before = invocations(server, "noop")
        t = time.time()

        def send(k):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(k, events, 16):
                conn.request("POST", path % "noop", b"{}", sign_request(
                    "http://127.0.0.1:%d" % port, "POST", path % "noop", b"{}",
                    {"X-Amz-Invocation-Type": "Event"}))
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 202, resp.status
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            list(ex.map(send, range(16)))
        while invocations(server, "noop") < before + events:
            time.sleep(0.02)
        r["async_e2e"] = events / (time.time() - t)

        # SQS.
        raw = Raw(port)
        url = raw.call("CreateQueue", {"QueueName": "bench"})["QueueUrl"]
        body = json.dumps({"QueueUrl": url, "MessageBody": "x" * 100})
        target = ["X-Amz-Target: AmazonSQS.SendMessage"]
        for c in (1, 16):
            r["send_c%d" % c] = checked(
                load(port, "/", c, seconds, body=body, headers=target))["throughput"]
        raw.call("PurgeQueue", {"QueueUrl": url})
        fill(port, url, messages)
        r["receive_delete_c8"] = consume(port, url, messages)

        # An event source mapping draining a full queue.
        url = raw.call("CreateQueue", {"QueueName": "esm", "Attributes": {"VisibilityTimeout": "120"}})["QueueUrl"]
        fill(port, url, messages)
        before = invocations(server, "noop")
        t = time.time()
        client.create_event_source_mapping(FunctionName="noop", BatchSize=10,
                                           EventSourceArn="arn:aws:sqs:%s:%s:esm" % (REGION, ACCOUNT))
        while True:
            a = raw.call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})["Attributes"]
            if a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
            time.sleep(0.05)
        r["esm_drain"] = messages / (time.time() - t)
        r["esm_batches"] = invocations(server, "noop") - before
        return r
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--messages", type=int, default=10000)
    args = ap.parse_args()
    runs = [one_run(args.seconds, args.events, args.messages) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("| measure | median (%d runs) | loopback floor, same concurrency | ratio to floor |" % args.runs)
    print("|---|---|---|---|")
    rows = [("async enqueue (202, fsynced), c=1", "enqueue_c1", "floor_c1"),
            ("async enqueue (202, fsynced), c=16", "enqueue_c16", "floor_c16"),
            ("SQS SendMessage, c=1", "send_c1", "floor_c1"),
            ("SQS SendMessage, c=16", "send_c16", "floor_c16")]
    for label, k, f in rows:
        print("| %s | %.0f req/s | %.0f req/s | %.3f |" % (label, med[k], med[f], med[k] / med[f]))
    print()
    print("| measure | median (%d runs) |" % args.runs)
    print("|---|---|")
    print("| sync invoke of the no-op function, c=16 (same run) | %.0f invocations/s |" % med["sync_c16"])
    print("| async end to end, %d events enqueued at c=16 until all ran | %.0f events/s (%.2f of sync) |"
          % (args.events, med["async_e2e"], med["async_e2e"] / med["sync_c16"]))
    print("| SQS receive 10 + DeleteMessageBatch, 8 consumers | %.0f messages/s |" % med["receive_delete_c8"])
    print("| event source mapping draining %d messages (BatchSize 10) | %.0f messages/s (%.0f invocations) |"
          % (args.messages, med["esm_drain"], med["esm_batches"]))
    print()
    print("raw runs:", json.dumps(runs))


if __name__ == "__main__":
    main()

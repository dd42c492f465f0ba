#!/usr/bin/env python3
"""SNS: the time from Publish to the start of a warm lambda subscriber (target p50 < 5 ms), and
Publish throughput at c=1 and c=16 to a topic with one SQS subscription (each publish a durable
delivery). Prints a markdown table for docs/benchmarks.md.

    /usr/bin/python3 bench/run_sns_bench.py [--samples 50] [--seconds 3]
"""

import argparse
import os
import sys
import time
import urllib.parse

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import rpc_load  # noqa: E402
from harness import (ACCOUNT, REGION, ROLE, Server, log_lines, make_zip,  # noqa: E402
                     queue_for_service)


def publish_load(port, topic_arn, c, seconds):
    body = urllib.parse.urlencode({"Action": "Publish", "Version": "2010-03-31",
                                   "TopicArn": topic_arn, "Message": "m"})
    return rpc_load(port, body, "application/x-www-form-urlencoded", "sns", c, seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()
    server = Server().start("--memory-budget-mb", "200000", "--log-level", "warn")
    try:
        sns = server.sns_client()
        lam = server.lambda_client()
        topic = sns.create_topic(Name="bench")["TopicArn"]
        code = ("import time\n"
                "def handler(event, context):\n"
                "    print('START_AT %.6f' % time.time())\n"
                "    return {}\n")
        lam.create_function(FunctionName="on-publish", Runtime="python3.11",
                            Handler="app.handler", Role=ROLE, MemorySize=1769,
                            Code={"ZipFile": make_zip({"app.py": code})})
        lam.get_waiter("function_active_v2").wait(FunctionName="on-publish")
        lam.add_permission(FunctionName="on-publish", StatementId="sns",
                           Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                           SourceArn=topic)
        sns.subscribe(TopicArn=topic, Protocol="lambda",
                      Endpoint="arn:aws:lambda:%s:%s:function:on-publish" % (REGION, ACCOUNT))
        lam.invoke(FunctionName="on-publish")  # warm
        sent = []
        for _ in range(args.samples):
            sent.append(time.time())
            sns.publish(TopicArn=topic, Message="go")
            time.sleep(0.1)
        logs = boto3.client("logs", endpoint_url=server.endpoint, region_name=REGION)
        starts = []
        deadline = time.time() + 30
        while len(starts) < args.samples + 1 and time.time() < deadline:
            time.sleep(0.5)
            starts = sorted(float(v) for v in log_lines(logs, "on-publish", "START_AT"))
        starts = starts[-args.samples:]
        delays = sorted((st - s) * 1000 for st, s in zip(starts, sent))

        # Publish throughput: a topic with one SQS subscriber (one durable delivery each).
        sqs = server.sqs_client()
        queue_for_service(sqs, "sink", "sns.amazonaws.com")
        queue_arn = "arn:aws:sqs:%s:%s:sink" % (REGION, ACCOUNT)
        fan = sns.create_topic(Name="to-queue")["TopicArn"]
        sns.subscribe(TopicArn=fan, Protocol="sqs", Endpoint=queue_arn)
        one = publish_load(server.port, fan, 1, args.seconds)
        many = publish_load(server.port, fan, 16, args.seconds)
        # Every answered publish reaches the queue (waited for, then counted).
        url = sqs.get_queue_url(QueueName="sink")["QueueUrl"]
        answered = one["requests"] + many["requests"]
        deadline = time.time() + 120
        while True:
            n = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
            if n >= answered or time.time() > deadline:
                break
            time.sleep(0.5)
        assert n >= answered, (n, answered)
        print("| measurement | result | target |")
        print("|---|---|---|")
        print("| Publish sent → warm lambda subscriber start (ms, %d samples) | p50 %.2f, p99 %.2f "
              "| p50 < 5 |" % (len(delays), delays[len(delays) // 2],
                               delays[max(0, int(len(delays) * 0.99) - 1)]))
        print("| Publish to a topic with an SQS subscriber, c=1 | %.0f/s (p50 %.0f µs) | |" % (
            one["throughput"], one["p50_us"]))
        print("| Publish to a topic with an SQS subscriber, c=16 | %.0f/s (p50 %.0f µs) | |" % (
            many["throughput"], many["p50_us"]))
    finally:
        server.close()


if __name__ == "__main__":
    main()

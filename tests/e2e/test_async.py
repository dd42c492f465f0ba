"""Asynchronous invocation (InvocationType Event) through boto3 and the aws CLI v2: 202 once
stored, OnSuccess/OnFailure destinations (Lambent functions) receiving AWS's invocation record,
retries counted by the function, the event-age limit, a throttled event that runs once its
reservation is raised, the event invoke configuration API, and no acknowledged event lost across
kill -9. What a function saw is read back through the CloudWatch Logs API."""

import json
import time
import unittest

import boto3
from botocore.exceptions import ClientError

from harness import REGION, ROLE, Server, log_lines, make_zip, sandbox_supported

WORKER = r'''
import json, time
def handler(event, context):
    print("SAW " + json.dumps({"id": event.get("id"), "request": context.aws_request_id}))
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"done": event.get("id")}
'''

SINK = r'''
import json
def handler(event, context):
    print("RECORD " + json.dumps(event))
    return {}
'''


def fn_arn(name):
    return "arn:aws:lambda:%s:000000000000:function:%s" % (REGION, name)


class Base(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.server = Server().start("--async-retry-base-ms", "300", *self.extra)
        self.client = self.server.lambda_client(pool=10)
        self.logs = boto3.client("logs", endpoint_url=self.server.endpoint, region_name=REGION)
        self.sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)

    def tearDown(self):
        self.server.close()

    def create(self, name, code, **kw):
        self.client.create_function(FunctionName=name, Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE, Timeout=kw.pop("Timeout", 30),
                                    Code={"ZipFile": make_zip({"app.py": code})}, **kw)

    def lines(self, name, prefix):
        return log_lines(self.logs, name, prefix)

    def wait_lines(self, name, prefix, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.lines(name, prefix)
            if len(got) >= count:
                return got
            time.sleep(0.25)
        return self.lines(name, prefix)

    def send(self, name, event, **kw):
        r = self.client.invoke(FunctionName=name, InvocationType="Event",
                               Payload=json.dumps(event).encode(), **kw)
        self.assertEqual(r["StatusCode"], 202)
        return r["ResponseMetadata"]["RequestId"]


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Async(Base):
    def test_success_reaches_the_on_success_destination(self):
        self.create("as-worker", WORKER)
        self.create("as-sink", SINK)
        cfg = self.client.put_function_event_invoke_config(
            FunctionName="as-worker",
            DestinationConfig={"OnSuccess": {"Destination": fn_arn("as-sink")}})
        self.assertEqual(cfg["FunctionArn"], fn_arn("as-worker") + ":$LATEST")
        rid = self.send("as-worker", {"id": "e1"})
        [record] = self.wait_lines("as-sink", "RECORD", 1)
        self.assertEqual(record["version"], "1.0")
        self.assertEqual(record["requestContext"]["requestId"], rid)
        self.assertEqual(record["requestContext"]["condition"], "Success")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(record["requestContext"]["functionArn"], fn_arn("as-worker") + ":$LATEST")
        self.assertEqual(record["requestPayload"], {"id": "e1"})
        self.assertEqual(record["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST"})
        self.assertEqual(record["responsePayload"], {"done": "e1"})
        self.assertTrue(record["timestamp"].endswith("Z"))
        # The worker saw it once, with the request id the 202 carried.
        self.assertEqual(self.lines("as-worker", "SAW"), [{"id": "e1", "request": rid}])
        # The aws CLI's async invoke.
        _, out, _ = self.server.aws("lambda", "invoke", "--function-name", "as-worker",
                                    "--invocation-type", "Event", "--cli-binary-format",
                                    "raw-in-base64-out", "--payload", '{"id": "e2"}', "/dev/null")
        self.assertEqual(out["StatusCode"], 202)
        self.assertEqual(len(self.wait_lines("as-sink", "RECORD", 2)), 2)

    def test_failures_are_retried_then_reach_the_on_failure_destination(self):
        self.create("as-fail", WORKER)
        self.create("as-dlq", SINK)
        self.client.put_function_event_invoke_config(
            FunctionName="as-fail", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": fn_arn("as-dlq")}})
        rid = self.send("as-fail", {"id": "f1", "fail": True})
        [record] = self.wait_lines("as-dlq", "RECORD", 1)
        self.assertEqual(record["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(record["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(record["responsePayload"]["errorType"], "RuntimeError")
        seen = self.lines("as-fail", "SAW")
        self.assertEqual(seen, [{"id": "f1", "request": rid}] * 2)  # 1 + MaximumRetryAttempts
        # Default: 1 + 2 attempts.
        self.client.delete_function_event_invoke_config(FunctionName="as-fail")
        self.client.put_function_event_invoke_config(
            FunctionName="as-fail", DestinationConfig={"OnFailure": {"Destination": fn_arn("as-dlq")}})
        self.send("as-fail", {"id": "f2", "fail": True})
        self.wait_lines("as-dlq", "RECORD", 2)
        self.assertEqual(sum(s["id"] == "f2" for s in self.lines("as-fail", "SAW")), 3)

    def test_a_throttled_event_runs_once_its_reservation_is_raised(self):
        self.create("as-thr", WORKER)
        self.client.put_function_concurrency(FunctionName="as-thr", ReservedConcurrentExecutions=0)
        self.send("as-thr", {"id": "t1"})
        time.sleep(3)
        self.assertEqual(self.lines("as-thr", "SAW"), [])
        self.client.delete_function_concurrency(FunctionName="as-thr")
        seen = self.wait_lines("as-thr", "SAW", 1, timeout=30)
        self.assertEqual([s["id"] for s in seen], ["t1"])

    def test_event_invoke_config_api(self):
        self.create("as-cfg", WORKER, Publish=True)
        self.client.create_alias(FunctionName="as-cfg", Name="live", FunctionVersion="1")
        put = self.client.put_function_event_invoke_config(
            FunctionName="as-cfg", Qualifier="live", MaximumRetryAttempts=0,
            MaximumEventAgeInSeconds=120)
        self.assertEqual(put["FunctionArn"], fn_arn("as-cfg") + ":live")
        upd = self.client.update_function_event_invoke_config(
            FunctionName="as-cfg", Qualifier="live",
            DestinationConfig={"OnFailure": {"Destination": fn_arn("as-cfg")}})
        self.assertEqual((upd["MaximumRetryAttempts"], upd["MaximumEventAgeInSeconds"]), (0, 120))
        self.assertEqual(upd["DestinationConfig"]["OnFailure"]["Destination"], fn_arn("as-cfg"))
        replaced = self.client.put_function_event_invoke_config(FunctionName="as-cfg",
                                                                Qualifier="live",
                                                                MaximumRetryAttempts=1)
        self.assertNotIn("MaximumEventAgeInSeconds", replaced)  # Put replaces everything
        self.assertEqual(replaced["DestinationConfig"], {"OnSuccess": {}, "OnFailure": {}})
        self.client.put_function_event_invoke_config(FunctionName="as-cfg", MaximumRetryAttempts=2)
        listed = self.client.list_function_event_invoke_configs(FunctionName="as-cfg")
        self.assertEqual(sorted(c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]),
                         [fn_arn("as-cfg") + ":$LATEST", fn_arn("as-cfg") + ":live"])
        unchecked = self.server.lambda_client(validate=False)
        for bad in (dict(MaximumRetryAttempts=3), dict(MaximumEventAgeInSeconds=30)):
            with self.assertRaises(ClientError) as cm:
                unchecked.put_function_event_invoke_config(FunctionName="as-cfg", **bad)
            self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(ClientError) as cm:
            self.client.put_function_event_invoke_config(
                FunctionName="as-cfg",
                DestinationConfig={"OnSuccess": {"Destination": "arn:aws:events:us-east-1:000000000000:event-bus/default"}})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")
        self.client.delete_function_event_invoke_config(FunctionName="as-cfg", Qualifier="live")
        with self.assertRaises(ClientError) as cm:
            self.client.get_function_event_invoke_config(FunctionName="as-cfg", Qualifier="live")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            self.client.update_function_event_invoke_config(FunctionName="as-cfg", Qualifier="live",
                                                            MaximumRetryAttempts=1)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        # Event payloads are limited to 1 MB; a missing function is a 404 before any 202.
        with self.assertRaises(ClientError) as cm:
            self.client.invoke(FunctionName="as-cfg", InvocationType="Event",
                               Payload=json.dumps({"x": "y" * (1 << 20)}).encode())
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)
        with self.assertRaises(ClientError) as cm:
            self.client.invoke(FunctionName="as-none", InvocationType="Event", Payload=b"{}")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def queue(self, name):
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, "arn:aws:sqs:%s:000000000000:%s" % (REGION, name)

    def receive(self, url, count, timeout=60):
        got = []
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                         MessageAttributeNames=["All"])
            for m in r.get("Messages", []):
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                got.append(m)
        return got

    def test_queue_destinations_and_the_dead_letter_queue(self):
        ok_url, ok_arn = self.queue("as-ok")
        fail_url, fail_arn = self.queue("as-failed")
        dlq_url, dlq_arn = self.queue("as-dlq")
        self.create("as-q", WORKER, DeadLetterConfig={"TargetArn": dlq_arn})
        self.client.put_function_event_invoke_config(
            FunctionName="as-q", MaximumRetryAttempts=1,
            DestinationConfig={"OnSuccess": {"Destination": ok_arn},
                               "OnFailure": {"Destination": fail_arn}})
        rid = self.send("as-q", {"id": "q1"})
        [m] = self.receive(ok_url, 1)
        record = json.loads(m["Body"])
        self.assertEqual(record["requestContext"]["condition"], "Success")
        self.assertEqual(record["requestContext"]["requestId"], rid)
        self.assertEqual(record["requestPayload"], {"id": "q1"})
        self.assertEqual(record["responsePayload"], {"done": "q1"})
        # A failing event: tried 1 + MaximumRetryAttempts times, then the OnFailure queue gets the
        # record and the dead-letter queue the event itself with AWS's attributes.
        rid = self.send("as-q", {"id": "q2", "fail": True})
        [m] = self.receive(fail_url, 1)
        record = json.loads(m["Body"])
        self.assertEqual(record["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(record["responseContext"]["functionError"], "Unhandled")
        [d] = self.receive(dlq_url, 1)
        self.assertEqual(json.loads(d["Body"]), {"id": "q2", "fail": True})
        attrs = d["MessageAttributes"]
        self.assertEqual(attrs["RequestID"], {"DataType": "String", "StringValue": rid})
        self.assertEqual(attrs["ErrorCode"], {"DataType": "Number", "StringValue": "200"})
        self.assertEqual(attrs["ErrorMessage"], {"DataType": "String", "StringValue": "asked to fail"})
        self.assertEqual([s["id"] for s in self.lines("as-q", "SAW")].count("q2"), 2)
        # Nothing else arrived anywhere.
        self.assertEqual(self.receive(ok_url, 1, timeout=2) + self.receive(dlq_url, 1, timeout=2), [])
        # A dead-letter queue that is gone: counted as a DeadLetterErrors metric.
        self.sqs.delete_queue(QueueUrl=dlq_url)
        self.send("as-q", {"id": "q3", "fail": True})
        self.receive(fail_url, 1)
        time.sleep(1)
        cw = boto3.client("cloudwatch", endpoint_url=self.server.endpoint, region_name=REGION)
        now = time.time()
        stats = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="DeadLetterErrors",
                                         Dimensions=[{"Name": "FunctionName", "Value": "as-q"}],
                                         StartTime=now - 600, EndTime=now + 60, Period=60,
                                         Statistics=["Sum"])
        self.assertEqual(sum(p["Sum"] for p in stats["Datapoints"]), 1)

    def test_an_expired_event_goes_to_the_failure_path(self):
        # Reserved concurrency 0 keeps the event throttled (backing off) past its 60 s age limit.
        dlq_url, dlq_arn = self.queue("as-old-dlq")
        self.create("as-old", WORKER, DeadLetterConfig={"TargetArn": dlq_arn})
        self.create("as-old-sink", SINK)
        self.client.put_function_event_invoke_config(
            FunctionName="as-old", MaximumEventAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": fn_arn("as-old-sink")}})
        self.client.put_function_concurrency(FunctionName="as-old", ReservedConcurrentExecutions=0)
        self.send("as-old", {"id": "old"})
        [record] = self.wait_lines("as-old-sink", "RECORD", 1, timeout=150)
        self.assertEqual(record["requestContext"]["condition"], "EventAgeExceeded")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 0)
        self.assertNotIn("responseContext", record)
        self.assertEqual(self.lines("as-old", "SAW"), [])
        [d] = self.receive(dlq_url, 1)
        self.assertEqual(json.loads(d["Body"]), {"id": "old"})
        self.assertEqual(d["MessageAttributes"]["ErrorCode"]["StringValue"], "429")


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class AsyncCrash(Base):
    extra = ("--async-parallel", "8")

    def test_no_acknowledged_event_is_lost_across_kill_9(self):
        self.create("as-crash", WORKER, MemorySize=256)
        sent = []
        for i in range(1000):
            self.send("as-crash", {"id": "c%d" % i})
            sent.append("c%d" % i)
            if i == 600:
                # Mid-run: some ran, some are running, most are waiting.
                self.server.kill9()
                self.server.start("--async-retry-base-ms", "300", *self.extra)
                self.client = self.server.lambda_client(pool=10)
                self.logs = boto3.client("logs", endpoint_url=self.server.endpoint,
                                         region_name=REGION)
        deadline = time.time() + 300
        while time.time() < deadline:
            seen = {s["id"] for s in self.lines("as-crash", "SAW")}
            if seen >= set(sent):
                break
            time.sleep(1)
        missing = set(sent) - seen
        self.assertEqual(missing, set(), "%d events never ran" % len(missing))


if __name__ == "__main__":
    unittest.main()

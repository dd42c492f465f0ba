"""Event source mappings on built-in queues, through boto3 and the aws CLI v2: the mapping API and
its states, 10,000 messages all processed, partial batch failures (ReportBatchItemFailures)
redelivering only the failed items, disabling stopping consumption, a poison message ending in
the queue's dead-letter queue, ScalingConfig, and the SQS event shape the function receives.
What a function saw is read back through the CloudWatch Logs API."""

import hashlib
import json
import threading
import time
import unittest

import boto3
import botocore.config
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, Server, log_lines, make_zip, sandbox_supported

CONSUMER = r'''
import json
def handler(event, context):
    records = event["Records"]
    print("BATCH " + json.dumps([[r["messageId"], r["body"], r["attributes"]["ApproximateReceiveCount"]]
                                 for r in records]))
    if records[0]["body"] == "shape":
        print("SHAPE " + json.dumps(records[0]))
    failures = []
    for r in records:
        if r["body"].startswith("poison"):
            raise RuntimeError("poison message")
        if r["body"].startswith("flaky") and r["attributes"]["ApproximateReceiveCount"] == "1":
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}
'''


def queue_arn(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


class Base(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        cfg = botocore.config.Config(retries={"max_attempts": 0}, read_timeout=60,
                                     max_pool_connections=20)
        self.client = self.server.lambda_client()
        self.sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION, config=cfg)
        self.logs = boto3.client("logs", endpoint_url=self.server.endpoint, region_name=REGION)

    def tearDown(self):
        self.server.close()

    def create_function(self, name, code=CONSUMER, timeout=30):
        self.client.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                    Role=ROLE, Timeout=timeout,
                                    Code={"ZipFile": make_zip({"app.py": code})})

    def queue(self, name, **attrs):
        return self.sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]

    def mapping(self, function, queue, **kw):
        m = self.client.create_event_source_mapping(FunctionName=function,
                                                    EventSourceArn=queue_arn(queue), **kw)
        self.assertEqual(m["State"], "Creating")
        return self.wait_state(m["UUID"], "Enabled" if kw.get("Enabled", True) else "Disabled")

    def wait_state(self, uuid, state, timeout=10):
        deadline = time.time() + timeout
        while True:
            m = self.client.get_event_source_mapping(UUID=uuid)
            if m["State"] == state or time.time() > deadline:
                self.assertEqual(m["State"], state)
                return m
            time.sleep(0.05)

    def lines(self, name, prefix):
        return log_lines(self.logs, name, prefix)

    def seen(self, name):
        """Every (messageId, body, receive count) the function was given."""
        return [tuple(x) for batch in self.lines(name, "BATCH") for x in batch]

    def wait_seen(self, name, prefix, count, timeout=20):
        """The bodies starting with `prefix` the function was given, once there are `count`
        (log lines can trail the deletes by a moment)."""
        deadline = time.time() + timeout
        while True:
            got = [b for _, b, _ in self.seen(name) if b.startswith(prefix)]
            if len(got) >= count or time.time() > deadline:
                return got
            time.sleep(0.2)

    def counts(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def wait_drained(self, url, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.counts(url) == (0, 0):
                return True
            time.sleep(0.25)
        return False

    def send(self, url, bodies):
        for i in range(0, len(bodies), 10):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[i:i + 10])])


class MappingApi(Base):
    """What needs no execution environment: the API, its validation and its states."""

    def test_api_and_states(self):
        self.create_function("esm-api")
        self.queue("esm-api-q")
        m = self.mapping("esm-api", "esm-api-q", BatchSize=5)
        self.assertEqual(m["EventSourceArn"], queue_arn("esm-api-q"))
        self.assertEqual(m["FunctionArn"], "arn:aws:lambda:%s:%s:function:esm-api" % (REGION, ACCOUNT))
        self.assertEqual((m["BatchSize"], m["MaximumBatchingWindowInSeconds"]), (5, 0))
        self.assertEqual(m["FunctionResponseTypes"], [])
        self.assertEqual(m["StateTransitionReason"], "USER_INITIATED")
        uuid = m["UUID"]
        listed = self.client.list_event_source_mappings(FunctionName="esm-api")["EventSourceMappings"]
        self.assertEqual([x["UUID"] for x in listed], [uuid])
        self.assertEqual(self.client.list_event_source_mappings(
            EventSourceArn=queue_arn("other"))["EventSourceMappings"], [])
        u = self.client.update_event_source_mapping(UUID=uuid, Enabled=False, BatchSize=200,
                                                    MaximumBatchingWindowInSeconds=2,
                                                    FunctionResponseTypes=["ReportBatchItemFailures"])
        self.assertEqual(u["State"], "Disabling")
        m = self.wait_state(uuid, "Disabled")
        self.assertEqual((m["BatchSize"], m["MaximumBatchingWindowInSeconds"]), (200, 2))
        self.assertEqual(m["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(self.client.update_event_source_mapping(UUID=uuid, Enabled=True)["State"], "Enabling")
        self.wait_state(uuid, "Enabled")
        # The aws CLI.
        _, out, _ = self.server.aws("lambda", "get-event-source-mapping", "--uuid", uuid)
        self.assertEqual(out["State"], "Enabled")
        _, out, _ = self.server.aws("lambda", "list-event-source-mappings", "--function-name", "esm-api")
        self.assertEqual(len(out["EventSourceMappings"]), 1)
        # A second mapping of the same queue and function: ResourceConflictException.
        with self.assertRaises(ClientError) as cm:
            self.client.create_event_source_mapping(FunctionName="esm-api",
                                                    EventSourceArn=queue_arn("esm-api-q"))
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceConflictException")
        d = self.client.delete_event_source_mapping(UUID=uuid)
        self.assertEqual(d["State"], "Deleting")
        with self.assertRaises(ClientError) as cm:
            self.client.get_event_source_mapping(UUID=uuid)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        # The mapping survives a restart, with its configuration.
        m = self.mapping("esm-api", "esm-api-q", BatchSize=7)
        self.server.kill9()
        self.server.start()
        self.client = self.server.lambda_client()
        again = self.wait_state(m["UUID"], "Enabled")
        self.assertEqual(again["BatchSize"], 7)

    def test_bad_input(self):
        self.create_function("esm-bad")
        self.queue("esm-bad-q")
        cases = [
            (dict(FunctionName="esm-bad", EventSourceArn=queue_arn("absent")), "InvalidParameterValueException"),
            (dict(FunctionName="absent", EventSourceArn=queue_arn("esm-bad-q")), "ResourceNotFoundException"),
            (dict(FunctionName="esm-bad", EventSourceArn=queue_arn("esm-bad-q"), BatchSize=11),
             "InvalidParameterValueException"),
            (dict(FunctionName="esm-bad", EventSourceArn=queue_arn("esm-bad-q"), BatchSize=10001,
                  MaximumBatchingWindowInSeconds=1), "ValidationException"),
            (dict(FunctionName="esm-bad", EventSourceArn=queue_arn("esm-bad-q"),
                  StartingPosition="LATEST"), "InvalidParameterValueException"),
            (dict(FunctionName="esm-bad", EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/s"),
             "InvalidParameterValueException"),
        ]
        unchecked = self.server.lambda_client(validate=False)
        for kw, code in cases:
            with self.assertRaises(ClientError, msg=kw) as cm:
                unchecked.create_event_source_mapping(**kw)
            self.assertEqual(cm.exception.response["Error"]["Code"], code, kw)
        self.assertEqual(self.client.list_event_source_mappings()["EventSourceMappings"], [])
        with self.assertRaises(ClientError) as cm:
            self.client.update_event_source_mapping(UUID="6d9b1f49-0000-4000-8000-000000000000", Enabled=False)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        # A member the operation does not have: InvalidRequestContentException, as Lambda's front end.
        body = json.dumps({"FunctionName": "esm-bad", "EventSourceArn": queue_arn("esm-bad-q"),
                           "Colour": "blue"}).encode()
        status, headers, data = self.server.raw("POST", "/2015-03-31/event-source-mappings/", body)
        self.assertEqual((status, headers.get("x-amzn-errortype")), (400, "InvalidRequestContentException"))
        # ScalingConfig (newer than Debian's botocore model): raw JSON.
        body = json.dumps({"FunctionName": "esm-bad", "EventSourceArn": queue_arn("esm-bad-q"),
                           "ScalingConfig": {"MaximumConcurrency": 1}}).encode()
        status, _, data = self.server.raw("POST", "/2015-03-31/event-source-mappings/", body)
        self.assertEqual(status, 400, data)
        body = json.dumps({"FunctionName": "esm-bad", "EventSourceArn": queue_arn("esm-bad-q"),
                           "ScalingConfig": {"MaximumConcurrency": 3}}).encode()
        status, _, data = self.server.raw("POST", "/2015-03-31/event-source-mappings/", body)
        self.assertEqual(status, 202, data)
        self.assertEqual(json.loads(data)["ScalingConfig"], {"MaximumConcurrency": 3})


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Consumption(Base):
    def test_ten_thousand_messages_are_all_processed(self):
        self.create_function("esm-bulk")
        url = self.queue("esm-bulk-q", VisibilityTimeout=60)
        bodies = ["m%05d" % i for i in range(10000)]
        threads = [threading.Thread(target=self.send, args=(url, bodies[i::4])) for i in range(4)]
        for t in threads:
            t.start()
        self.mapping("esm-bulk", "esm-bulk-q", BatchSize=100, MaximumBatchingWindowInSeconds=1)
        for t in threads:
            t.join()
        self.assertTrue(self.wait_drained(url, timeout=300), self.counts(url))
        self.assertEqual(set(self.wait_seen("esm-bulk", "m", 10000)), set(bodies))
        batches = self.lines("esm-bulk", "BATCH")
        self.assertLessEqual(max(len(b) for b in batches), 100)

    def test_partial_batch_failures_redeliver_only_the_failed_items(self):
        # Visibility 4 s covers the 1 s window and the 2 s function timeout: failed items come back
        # 4 s after they were received.
        self.create_function("esm-partial", timeout=2)
        url = self.queue("esm-partial-q", VisibilityTimeout=4)
        self.send(url, ["ok%d" % i for i in range(6)] + ["flaky%d" % i for i in range(4)])
        self.mapping("esm-partial", "esm-partial-q", BatchSize=10, MaximumBatchingWindowInSeconds=1,
                     FunctionResponseTypes=["ReportBatchItemFailures"])
        self.assertTrue(self.wait_drained(url, timeout=60), self.counts(url))
        self.wait_seen("esm-partial", "", 14)
        seen = self.seen("esm-partial")
        times = {}
        for _, body, _ in seen:
            times[body] = times.get(body, 0) + 1
        self.assertEqual({b: n for b, n in times.items() if b.startswith("ok")},
                         {"ok%d" % i: 1 for i in range(6)})
        self.assertEqual({b: n for b, n in times.items() if b.startswith("flaky")},
                         {"flaky%d" % i: 2 for i in range(4)})
        self.assertEqual(sorted(c for b, c in ((b, c) for _, b, c in seen) if b.startswith("flaky")),
                         ["1"] * 4 + ["2"] * 4)

    def test_disabling_stops_consumption_and_the_event_shape(self):
        self.create_function("esm-toggle")
        url = self.queue("esm-toggle-q")
        m = self.mapping("esm-toggle", "esm-toggle-q")
        self.sqs.send_message(QueueUrl=url, MessageBody="shape",
                              MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        self.assertTrue(self.wait_drained(url, timeout=60))
        deadline = time.time() + 10
        while not self.lines("esm-toggle", "SHAPE") and time.time() < deadline:
            time.sleep(0.2)
        [shape] = self.lines("esm-toggle", "SHAPE")
        self.assertEqual(shape["eventSource"], "aws:sqs")
        self.assertEqual(shape["eventSourceARN"], queue_arn("esm-toggle-q"))
        self.assertEqual(shape["awsRegion"], REGION)
        self.assertEqual(shape["md5OfBody"], hashlib.md5(b"shape").hexdigest())
        self.assertEqual(shape["body"], "shape")
        self.assertEqual(shape["messageAttributes"]["k"],
                         {"stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
        self.assertEqual(set(shape["attributes"]), {"ApproximateReceiveCount", "SentTimestamp",
                                                    "SenderId", "ApproximateFirstReceiveTimestamp"})
        self.assertTrue(shape["receiptHandle"] and shape["messageId"])
        self.client.update_event_source_mapping(UUID=m["UUID"], Enabled=False)
        self.wait_state(m["UUID"], "Disabled")
        self.send(url, ["while-disabled-%d" % i for i in range(5)])
        time.sleep(3)
        self.assertEqual(self.counts(url), (5, 0))
        self.assertFalse([b for _, b, _ in self.seen("esm-toggle") if b.startswith("while")])
        self.client.update_event_source_mapping(UUID=m["UUID"], Enabled=True)
        self.wait_state(m["UUID"], "Enabled")
        self.assertTrue(self.wait_drained(url, timeout=60))
        self.assertEqual(len(self.wait_seen("esm-toggle", "while", 5)), 5)
        # Deleting the mapping stops it too.
        self.client.delete_event_source_mapping(UUID=m["UUID"])
        time.sleep(0.5)
        self.send(url, ["after-delete"])
        time.sleep(2)
        self.assertEqual(self.counts(url), (1, 0))

    def test_a_poison_message_ends_in_the_dead_letter_queue(self):
        self.create_function("esm-poison", timeout=2)
        dlq = self.queue("esm-poison-dlq")
        url = self.queue("esm-poison-q", VisibilityTimeout=3, RedrivePolicy=json.dumps(
            {"deadLetterTargetArn": queue_arn("esm-poison-dlq"), "maxReceiveCount": 2}))
        self.mapping("esm-poison", "esm-poison-q", BatchSize=1)
        self.send(url, ["good-1", "poison-pill", "good-2"])
        got = []
        deadline = time.time() + 60
        while not got and time.time() < deadline:
            got = self.sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2).get("Messages", [])
        self.assertEqual([m["Body"] for m in got], ["poison-pill"])
        self.assertTrue(self.wait_drained(url, timeout=30))
        self.wait_seen("esm-poison", "good", 2)
        seen = self.seen("esm-poison")
        self.assertEqual(sorted(b for _, b, _ in seen if b.startswith("good")), ["good-1", "good-2"])
        self.assertEqual(sorted(c for _, b, c in seen if b == "poison-pill"), ["1", "2"])
        m = self.client.list_event_source_mappings(FunctionName="esm-poison")["EventSourceMappings"][0]
        self.assertEqual(m["State"], "Enabled")

    def test_a_mapping_to_an_alias_invokes_the_alias(self):
        arn_of = CONSUMER.replace('    records = event["Records"]',
                                  '    print("ARN " + json.dumps(context.invoked_function_arn))\n'
                                  '    records = event["Records"]')
        self.client.create_function(FunctionName="esm-alias", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE, Timeout=30, Publish=True,
                                    Code={"ZipFile": make_zip({"app.py": arn_of})})
        self.client.create_alias(FunctionName="esm-alias", Name="live", FunctionVersion="1")
        url = self.queue("esm-alias-q")
        m = self.mapping("esm-alias:live", "esm-alias-q")
        self.assertEqual(m["FunctionArn"],
                         "arn:aws:lambda:%s:%s:function:esm-alias:live" % (REGION, ACCOUNT))
        self.send(url, ["via-alias"])
        self.assertTrue(self.wait_drained(url, timeout=60))
        self.assertEqual(self.wait_seen("esm-alias", "via", 1), ["via-alias"])
        self.assertEqual(set(self.lines("esm-alias", "ARN")),
                         {"arn:aws:lambda:%s:%s:function:esm-alias:live" % (REGION, ACCOUNT)})
        # A mapping to an alias that does not exist is refused.
        with self.assertRaises(ClientError) as cm:
            self.client.create_event_source_mapping(FunctionName="esm-alias:nope",
                                                    EventSourceArn=queue_arn("esm-alias-q"))
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_scaling_config_caps_concurrency(self):
        slow = CONSUMER.replace("    records = event[\"Records\"]",
                                "    import time; time.sleep(0.5)\n    records = event[\"Records\"]")
        self.create_function("esm-cap", slow)
        url = self.queue("esm-cap-q", VisibilityTimeout=60)
        body = json.dumps({"FunctionName": "esm-cap", "EventSourceArn": queue_arn("esm-cap-q"),
                           "BatchSize": 1, "ScalingConfig": {"MaximumConcurrency": 2}}).encode()
        status, _, data = self.server.raw("POST", "/2015-03-31/event-source-mappings/", body)
        self.assertEqual(status, 202, data)
        self.wait_state(json.loads(data)["UUID"], "Enabled")
        self.send(url, ["c%d" % i for i in range(12)])
        peak = 0
        deadline = time.time() + 60
        while time.time() < deadline:
            busy = self.counts(url)[1]
            peak = max(peak, busy)
            if self.counts(url) == (0, 0):
                break
            time.sleep(0.05)
        self.assertEqual(self.counts(url), (0, 0))
        self.assertLessEqual(peak, 2)
        self.assertGreaterEqual(peak, 1)


if __name__ == "__main__":
    unittest.main()

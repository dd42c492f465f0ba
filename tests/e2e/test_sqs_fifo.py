"""Queues at parity with SQS, through boto3 (query protocol), raw JSON-protocol requests and the
aws CLI v2: FIFO queues (attributes, what they refuse, ordering across 10 groups with 1,000
messages and concurrent consumers, deduplication by id and by content, sequence numbers, receive
attempt ids, kill -9 keeping order and deduplication), an event source mapping on a FIFO queue
where one group's failing batch blocks only that group, 1 MiB messages, system attributes as asked
(AWSTraceHeader, SenderId, …) and AddPermission/RemovePermission. The deduplication window's
expiry is tested with a clock in src/queue/queue_service_test.cc, not here."""

import json
import threading
import time
import unittest
import uuid

import boto3
import botocore.config
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, Server, log_lines, make_zip, sandbox_supported


def client(server):
    cfg = botocore.config.Config(retries={"max_attempts": 0}, read_timeout=60,
                                 max_pool_connections=20)
    return boto3.client("sqs", endpoint_url=server.endpoint, region_name=REGION, config=cfg)


def arn(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


class FifoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.sqs = client(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def error(self, fn, **kw):
        try:
            fn(**kw)
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"]["Message"]
        self.fail("no error")

    def fifo(self, name, **attrs):
        attrs = {"FifoQueue": "true", **{k: str(v) for k, v in attrs.items()}}
        return self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]

    def json_call(self, op, body):
        status, _, data = self.server.raw(
            "POST", "/", json.dumps(body).encode(),
            {"X-Amz-Target": "AmazonSQS." + op, "Content-Type": "application/x-amz-json-1.0"})
        return status, json.loads(data) if data else {}

    def test_attributes_and_refusals(self):
        url = self.fifo("attrs.fifo", ContentBasedDeduplication="true",
                        DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual((a["FifoQueue"], a["ContentBasedDeduplication"], a["DeduplicationScope"],
                          a["FifoThroughputLimit"]), ("true", "true", "messageGroup",
                                                      "perMessageGroupId"))
        self.assertEqual(a["MaximumMessageSize"], "1048576")
        # No attribute names: no attributes (not an error).
        self.assertNotIn("Attributes", self.sqs.get_queue_attributes(QueueUrl=url))
        # A standard queue may say FifoQueue=false; FIFO attributes are not its own.
        self.sqs.create_queue(QueueName="plain-false", Attributes={"FifoQueue": "false"})
        code, _ = self.error(self.sqs.create_queue, QueueName="plain2",
                             Attributes={"ContentBasedDeduplication": "true"})
        self.assertEqual(code, "InvalidAttributeName")
        code, msg = self.error(self.sqs.create_queue, QueueName="nofifo",
                               Attributes={"FifoQueue": "true"})
        self.assertEqual(code, "InvalidParameterValue")
        self.assertIn("must end with .fifo suffix", msg)
        code, _ = self.error(self.sqs.create_queue, QueueName="suffix.fifo")
        self.assertEqual(code, "InvalidParameterValue")
        strict = self.fifo("strict.fifo")
        self.assertEqual(self.error(self.sqs.send_message, QueueUrl=strict, MessageBody="x",
                                    MessageDeduplicationId="d"),
                         ("MissingParameter", "The request must contain the parameter MessageGroupId."))
        code, msg = self.error(self.sqs.send_message, QueueUrl=strict, MessageBody="x",
                               MessageGroupId="g")
        self.assertEqual(code, "InvalidParameterValue")
        self.assertIn("ContentBasedDeduplication", msg)
        code, msg = self.error(self.sqs.send_message, QueueUrl=strict, MessageBody="x",
                               MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=3)
        self.assertEqual(code, "InvalidParameterValue")
        self.assertIn("DelaySeconds", msg)
        # A FIFO queue's dead-letter queue is a FIFO queue.
        self.sqs.create_queue(QueueName="std-dlq")
        code, msg = self.error(self.sqs.set_queue_attributes, QueueUrl=strict, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn("std-dlq"),
                                         "maxReceiveCount": 2})})
        self.assertEqual(code, "InvalidParameterValue")
        # Batch entries fail one by one.
        r = self.sqs.send_message_batch(QueueUrl=strict, Entries=[
            {"Id": "ok", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
            {"Id": "bad", "MessageBody": "b", "MessageDeduplicationId": "2"}])
        self.assertEqual([s["Id"] for s in r["Successful"]], ["ok"])
        self.assertRegex(r["Successful"][0]["SequenceNumber"], r"^\d{20}$")
        self.assertEqual([(f["Id"], f["Code"]) for f in r["Failed"]], [("bad", "MissingParameter")])
        # The aws CLI creates one too.
        _, out, _ = self.server.aws("sqs", "create-queue", "--queue-name", "cli.fifo",
                                    "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")
        self.assertTrue(out["QueueUrl"].endswith("/cli.fifo"))

    def test_order_across_ten_groups_with_concurrent_consumers(self):
        url = self.fifo("order.fifo")
        groups = ["g%d" % g for g in range(10)]
        sent = {g: [] for g in groups}
        for i in range(100):
            entries = []
            for g in groups:
                body = "%s-%03d" % (g, i)
                sent[g].append(body)
                entries.append({"Id": g, "MessageBody": body, "MessageGroupId": g,
                                "MessageDeduplicationId": body})
            r = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            self.assertEqual(len(r["Successful"]), 10, r.get("Failed"))
        seen = {g: [] for g in groups}
        lock = threading.Lock()
        stop = time.time() + 60
        errors = []

        def consume():
            sqs = client(self.server)
            while time.time() < stop:
                with lock:
                    if sum(len(v) for v in seen.values()) >= 1000:
                        return
                r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        AttributeNames=["MessageGroupId"])
                msgs = r.get("Messages", [])
                with lock:
                    # A group's messages are handed out only after its earlier ones are deleted:
                    # the order they arrive in, across consumers, is the order sent.
                    for m in msgs:
                        seen[m["Attributes"]["MessageGroupId"]].append(m["Body"])
                if msgs:
                    d = sqs.delete_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(msgs)])
                    if d.get("Failed"):
                        errors.append(d["Failed"])

        threads = [threading.Thread(target=consume) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for g in groups:
            self.assertEqual(seen[g], sent[g], g)

    def test_deduplication_by_id_and_by_content(self):
        url = self.fifo("dedup.fifo")
        first = self.sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g",
                                      MessageDeduplicationId="same")
        again = self.sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g",
                                      MessageDeduplicationId="same")
        self.assertEqual(again["MessageId"], first["MessageId"])
        self.assertEqual(again["SequenceNumber"], first["SequenceNumber"])
        # The JSON protocol the same way.
        status, out = self.json_call("SendMessage", {"QueueUrl": url, "MessageBody": "three",
                                                     "MessageGroupId": "g",
                                                     "MessageDeduplicationId": "same"})
        self.assertEqual((status, out["MessageId"]), (200, first["MessageId"]))
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["one"])
        content = self.fifo("content.fifo", ContentBasedDeduplication="true")
        a = self.sqs.send_message(QueueUrl=content, MessageBody="body", MessageGroupId="g")
        b = self.sqs.send_message(QueueUrl=content, MessageBody="body", MessageGroupId="h")
        c = self.sqs.send_message(QueueUrl=content, MessageBody="other", MessageGroupId="g")
        self.assertEqual(a["MessageId"], b["MessageId"])  # scope: the queue
        self.assertNotEqual(a["MessageId"], c["MessageId"])

    def test_system_attributes_attempt_ids_and_the_json_protocol(self):
        url = self.fifo("sys.fifo", ContentBasedDeduplication="true")
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        self.sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g",
                              MessageSystemAttributes={"AWSTraceHeader": {
                                  "DataType": "String", "StringValue": trace}})
        # Debian's botocore (1.29) names them AttributeNames; newer SDKs send
        # MessageSystemAttributeNames (the JSON request below).
        r = self.sqs.receive_message(QueueUrl=url, AttributeNames=[
            "AWSTraceHeader", "SequenceNumber"], ReceiveRequestAttemptId="try-1")
        m = r["Messages"][0]
        self.assertEqual(set(m["Attributes"]), {"AWSTraceHeader", "SequenceNumber"})
        self.assertEqual(m["Attributes"]["AWSTraceHeader"], trace)
        # The same attempt again (a lost answer retried): the same message and receipt.
        retry = self.sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-1")
        self.assertEqual(retry["Messages"][0]["ReceiptHandle"], m["ReceiptHandle"])
        status, out = self.json_call("ReceiveMessage", {"QueueUrl": url,
                                                        "ReceiveRequestAttemptId": "try-2"})
        self.assertEqual((status, out.get("Messages")), (200, None))  # the group waits
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.sqs.send_message(QueueUrl=url, MessageBody="j", MessageGroupId="g")
        status, out = self.json_call("ReceiveMessage", {
            "QueueUrl": url, "MessageSystemAttributeNames": ["MessageGroupId", "SenderId"]})
        self.assertEqual(status, 200)
        j = out["Messages"][0]
        self.assertEqual(set(j["Attributes"]), {"MessageGroupId", "SenderId"})
        self.json_call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": j["ReceiptHandle"]})
        # Every system attribute with All.
        self.sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g")
        m = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
        for k in ("SenderId", "SentTimestamp", "ApproximateReceiveCount",
                  "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageGroupId",
                  "MessageDeduplicationId"):
            self.assertIn(k, m["Attributes"])

    def test_eventbridge_sends_to_a_fifo_queue_in_its_group(self):
        url = self.fifo("events.fifo")
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": arn("events.fifo")}]})})
        events = self.server.client("events")
        events.put_rule(Name="to-fifo", EventPattern=json.dumps({"source": ["shop"]}))
        with self.assertRaises(ClientError) as cm:
            events.put_targets(Rule="to-fifo", Targets=[{"Id": "q", "Arn": arn("events.fifo")}])
        self.assertIn("SqsParameters", cm.exception.response["Error"]["Message"])
        events.put_targets(Rule="to-fifo", Targets=[{"Id": "q", "Arn": arn("events.fifo"),
                                                     "SqsParameters": {"MessageGroupId": "orders"}}])
        for n in range(3):
            events.put_events(Entries=[{"Source": "shop", "DetailType": "order",
                                        "Detail": json.dumps({"n": n})}])
        got = []
        deadline = time.time() + 15
        while len(got) < 3 and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         AttributeNames=["All"])
            for m in r.get("Messages", []):
                got.append(m)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        # (EventBridge does not order deliveries: the queue orders what it got.)
        self.assertEqual(sorted(json.loads(m["Body"])["detail"]["n"] for m in got), [0, 1, 2])
        for m in got:
            self.assertEqual(m["Attributes"]["MessageGroupId"], "orders")
            self.assertEqual(m["Attributes"]["MessageDeduplicationId"], json.loads(m["Body"])["id"])

    def test_one_mebibyte_messages(self):
        url = self.sqs.create_queue(QueueName="big")["QueueUrl"]
        body = ("0123456789abcdef" * 65536)[:1048576 - 10]
        self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
            "k": {"DataType": "String", "StringValue": "v"}})
        got = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
        self.assertEqual(got["Body"], body)
        code, _ = self.error(self.sqs.send_message, QueueUrl=url, MessageBody="x" * 1048577)
        self.assertEqual(code, "InvalidParameterValue")
        code, _ = self.error(self.sqs.send_message_batch, QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x" * 600000}, {"Id": "b", "MessageBody": "y" * 600000}])
        self.assertEqual(code, "AWS.SimpleQueueService.BatchRequestTooLong")

    def test_permissions_edit_the_policy(self):
        url = self.sqs.create_queue(QueueName="shared")["QueueUrl"]
        self.sqs.add_permission(QueueUrl=url, Label="partner", AWSAccountIds=["111122223333"],
                                Actions=["SendMessage", "ReceiveMessage"])
        policy = json.loads(self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
        st = policy["Statement"][0]
        self.assertEqual(st["Sid"], "partner")
        self.assertEqual(st["Principal"], {"AWS": ["arn:aws:iam::111122223333:root"]})
        self.assertEqual(st["Action"], ["SQS:SendMessage", "SQS:ReceiveMessage"])
        self.assertEqual(st["Resource"], arn("shared"))
        code, _ = self.error(self.sqs.add_permission, QueueUrl=url, Label="partner",
                             AWSAccountIds=["111122223333"], Actions=["SendMessage"])
        self.assertEqual(code, "InvalidParameterValue")
        self.server.aws("sqs", "remove-permission", "--queue-url", url, "--label", "partner")
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        self.assertNotIn("Policy", attrs.get("Attributes", {}))
        code, _ = self.error(self.sqs.remove_permission, QueueUrl=url, Label="partner")
        self.assertEqual(code, "InvalidParameterValue")


class FifoDurabilityTest(unittest.TestCase):
    def test_kill9_keeps_order_in_flight_state_and_deduplication(self):
        server = Server().start()
        try:
            sqs = client(server)
            url = sqs.create_queue(QueueName="durable.fifo", Attributes={
                "FifoQueue": "true", "VisibilityTimeout": "8"})["QueueUrl"]
            ids = [sqs.send_message(QueueUrl=url, MessageBody="m%d" % i, MessageGroupId="g",
                                    MessageDeduplicationId="d%d" % i)["MessageId"]
                   for i in range(3)]
            received_at = time.time()
            first = sqs.receive_message(QueueUrl=url)["Messages"][0]
            self.assertEqual(first["Body"], "m0")
            server.kill9()
            server.start()
            sqs = client(server)
            # The deduplication window survived: the same id answers the same message.
            again = sqs.send_message(QueueUrl=url, MessageBody="m0", MessageGroupId="g",
                                     MessageDeduplicationId="d0")
            self.assertEqual(again["MessageId"], ids[0])
            # m0 is still in flight: the group waits, then goes on in order.
            self.assertNotIn("Messages", sqs.receive_message(QueueUrl=url))
            time.sleep(max(0, received_at + 8.3 - time.time()))
            order = []
            for _ in range(6):
                r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                for m in r.get("Messages", []):
                    order.append(m["Body"])
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                if len(order) == 3:
                    break
            self.assertEqual(order, ["m0", "m1", "m2"])
        finally:
            server.close()


CONSUMER = r'''
import json
def handler(event, context):
    bodies = [r["body"] for r in event["Records"]]
    print("BATCH " + json.dumps({"bodies": bodies,
                                 "groups": [r["attributes"]["MessageGroupId"] for r in event["Records"]],
                                 "seq": [r["attributes"]["SequenceNumber"] for r in event["Records"]]}))
    if "bad-0" in bodies:
        raise RuntimeError("this group's first message fails")
'''


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
class FifoMappingTest(unittest.TestCase):
    def test_a_failing_group_blocks_only_itself(self):
        server = Server().start()
        try:
            sqs = client(server)
            lam = server.lambda_client()
            logs = server.logs_client()
            sqs.create_queue(QueueName="dead.fifo", Attributes={"FifoQueue": "true"})
            url = sqs.create_queue(QueueName="work.fifo", Attributes={
                "FifoQueue": "true", "VisibilityTimeout": "2",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn("dead.fifo"),
                                             "maxReceiveCount": 2})})["QueueUrl"]
            lam.create_function(FunctionName="fifo-consumer", Runtime="python3.11",
                                Handler="app.handler", Role=ROLE, Timeout=1,
                                Code={"ZipFile": make_zip({"app.py": CONSUMER})})
            # FIFO mappings: batches of at most 10, no batching window.
            with self.assertRaises(ClientError) as cm:
                lam.create_event_source_mapping(FunctionName="fifo-consumer",
                                                EventSourceArn=arn("work.fifo"), BatchSize=20,
                                                MaximumBatchingWindowInSeconds=1)
            self.assertEqual(cm.exception.response["Error"]["Code"],
                             "InvalidParameterValueException")
            for i in range(5):
                for g in ("good", "bad", "other"):
                    sqs.send_message(QueueUrl=url, MessageBody="%s-%d" % (g, i), MessageGroupId=g,
                                     MessageDeduplicationId="%s-%d" % (g, i))
            # Batches of one message: which messages share a failing batch is then certain.
            lam.create_event_source_mapping(FunctionName="fifo-consumer",
                                            EventSourceArn=arn("work.fifo"), BatchSize=1)
            deadline = time.time() + 90
            batches = []
            while time.time() < deadline:
                batches = log_lines(logs, "fifo-consumer", "BATCH")  # in time order
                done = {b["bodies"][0] for b in batches}
                if {"good-4", "other-4", "bad-4"} <= done:
                    break
                time.sleep(1)
            bodies = [b["bodies"][0] for b in batches]
            for g in ("good", "other"):
                self.assertEqual(sorted(set(x for x in bodies if x.startswith(g))),
                                 ["%s-%d" % (g, i) for i in range(5)])
            # bad-0 failed on both of its receives (maxReceiveCount 2), keeping its group waiting;
            # then it went to the dead-letter queue and the group went on, in order.
            tries = [i for i, x in enumerate(bodies) if x == "bad-0"]
            self.assertEqual(len(tries), 2, bodies)
            rest = [(i, x) for i, x in enumerate(bodies) if x.startswith("bad-") and x != "bad-0"]
            self.assertTrue(rest and min(i for i, _ in rest) > max(tries), bodies)
            # (Their order among themselves is the queue's, checked above with 10 groups; log
            # timestamps of batches a millisecond apart cannot show it.)
            self.assertEqual(sorted(set(x for _, x in rest)), ["bad-%d" % i for i in range(1, 5)])
            dead = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="dead.fifo")["QueueUrl"],
                                       MaxNumberOfMessages=10, WaitTimeSeconds=5,
                                       AttributeNames=["All"])["Messages"]
            self.assertEqual([m["Body"] for m in dead], ["bad-0"])
            self.assertEqual(dead[0]["Attributes"]["DeadLetterQueueSourceArn"], arn("work.fifo"))
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()

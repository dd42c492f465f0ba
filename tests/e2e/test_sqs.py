"""The built-in queues driven by Debian's boto3 and aws CLI v2 (both speak SQS's query protocol;
the JSON protocol is covered by the JS SDK test and a raw request here): queue lifecycle and
attributes, send/receive/delete (single and batch), message attributes with checksums computed
here independently, long polling, visibility timeout expiry and redelivery, ChangeMessageVisibility,
redrive to a dead-letter queue after maxReceiveCount, purge, tags, AWS's errors, and durability
across kill -9."""

import hashlib
import json
import re
import struct
import threading
import time
import unittest

import boto3
import botocore.config

from harness import ACCOUNT, REGION, Server, ServerTestCase


def attributes_md5(attrs):
    """SQS's MD5OfMessageAttributes, written from AWS's documented algorithm."""
    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        binary = a["DataType"].startswith("Binary")
        value = a["BinaryValue"] if binary else a["StringValue"].encode()
        for part in (name.encode(), a["DataType"].encode()):
            buf += struct.pack(">I", len(part)) + part
        buf += bytes([2 if binary else 1]) + struct.pack(">I", len(value)) + value
    return hashlib.md5(buf).hexdigest()


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class SqsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.sqs = cls.client(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    @staticmethod
    def client(server):
        cfg = botocore.config.Config(retries={"max_attempts": 0}, read_timeout=60)
        return boto3.client("sqs", endpoint_url=server.endpoint, region_name=REGION, config=cfg)

    def assertSqsError(self, code, status, fn, *args, **kw):
        return ServerTestCase.assertAwsError(self, code, status, fn, *args, **kw)

    def new_queue(self, name, **attrs):
        return self.sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]

    def receive_all(self, url, want, timeout=15, **kw):
        got = []
        deadline = time.time() + timeout
        while len(got) < want and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kw)
            got += r.get("Messages", [])
        return got

    def test_queue_lifecycle_and_attributes(self):
        url = self.new_queue("life", VisibilityTimeout=45, DelaySeconds=0)
        self.assertEqual(url, "%s/%s/life" % (self.server.endpoint, ACCOUNT))
        # Same name and attributes: the same queue; different attributes: QueueAlreadyExists.
        self.assertEqual(self.new_queue("life", VisibilityTimeout=45), url)
        self.assertSqsError("QueueAlreadyExists", 400, self.new_queue, "life", VisibilityTimeout=46)
        self.assertEqual(self.sqs.get_queue_url(QueueName="life")["QueueUrl"], url)
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(a["VisibilityTimeout"], "45")
        self.assertEqual(a["MessageRetentionPeriod"], "345600")
        self.assertEqual(a["MaximumMessageSize"], "1048576")  # SQS's default since 2025
        self.assertEqual(a["QueueArn"], "arn:aws:sqs:%s:%s:life" % (REGION, ACCOUNT))
        self.assertEqual(a["ApproximateNumberOfMessages"], "0")
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "2"})
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ReceiveMessageWaitTimeSeconds"])
        self.assertEqual(a["Attributes"], {"ReceiveMessageWaitTimeSeconds": "2"})
        self.assertSqsError("InvalidAttributeValue", 400, self.sqs.set_queue_attributes,
                            QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})
        self.assertSqsError("InvalidAttributeName", 400, self.sqs.get_queue_attributes,
                            QueueUrl=url, AttributeNames=["Colour"])
        # A queue named with characters SQS refuses.
        self.assertSqsError("InvalidParameterValue", 400, self.sqs.create_queue, QueueName="a b")
        self.sqs.tag_queue(QueueUrl=url, Tags={"team": "core", "env": "test"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "core"})
        self.assertIn(url, self.sqs.list_queues(QueueNamePrefix="li")["QueueUrls"])
        self.assertNotIn("QueueUrls", self.sqs.list_queues(QueueNamePrefix="zzz"))
        self.sqs.delete_queue(QueueUrl=url)
        self.assertSqsError("AWS.SimpleQueueService.NonExistentQueue", 400,
                            self.sqs.get_queue_url, QueueName="life")
        self.assertSqsError("AWS.SimpleQueueService.NonExistentQueue", 400,
                            self.sqs.send_message, QueueUrl=url, MessageBody="x")

    def test_send_receive_delete_with_attributes(self):
        url = self.new_queue("msgs")
        attrs = {"color": {"DataType": "String", "StringValue": "blue"},
                 "count": {"DataType": "Number", "StringValue": "3.5"},
                 "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffdata"},
                 "custom": {"DataType": "String.label", "StringValue": "ünïcode"}}
        body = "line 1\r\nline 2 <&> \"quoted\" ünïcode"
        r = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
        self.assertEqual(r["MD5OfMessageBody"], md5(body))
        self.assertEqual(r["MD5OfMessageAttributes"], attributes_md5(attrs))
        m = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"],
                                     MessageAttributeNames=["All"])["Messages"][0]
        self.assertEqual(m["MessageId"], r["MessageId"])
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MD5OfBody"], md5(body))
        self.assertEqual(m["MessageAttributes"], attrs)
        self.assertEqual(m["MD5OfMessageAttributes"], attributes_md5(attrs))
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(m["Attributes"]["SenderId"], ACCOUNT)
        self.assertLessEqual(int(m["Attributes"]["SentTimestamp"]),
                             int(m["Attributes"]["ApproximateFirstReceiveTimestamp"]))
        # Only the attributes asked for, by name or prefix.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        # "custom.*" is a prefix ending in a dot: it does not match "custom" itself.
        m = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["custom.*", "count"])["Messages"][0]
        self.assertEqual(set(m["MessageAttributes"]), {"count"})
        self.assertEqual(m["MD5OfMessageAttributes"], attributes_md5({"count": attrs["count"]}))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]), ("0", "0"))
        # Bad input: empty body, invalid characters, an invalid receipt handle, bad attributes.
        self.assertSqsError("MissingParameter", 400, self.sqs.send_message, QueueUrl=url, MessageBody="")
        self.assertSqsError("InvalidMessageContents", 400, self.sqs.send_message, QueueUrl=url,
                            MessageBody="bell \x07")
        self.assertSqsError("ReceiptHandleIsInvalid", 400, self.sqs.delete_message, QueueUrl=url,
                            ReceiptHandle="not-a-handle")
        self.assertSqsError("InvalidParameterValue", 400, self.sqs.send_message, QueueUrl=url,
                            MessageBody="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
        self.assertSqsError("InvalidParameterValue", 400, self.sqs.receive_message, QueueUrl=url,
                            MaxNumberOfMessages=11)
        self.assertSqsError("InvalidParameterValue", 400, self.sqs.send_message, QueueUrl=url,
                            MessageBody="x" * 1048577)

    def test_batches(self):
        url = self.new_queue("batches")
        r = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 0,
             "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "c", "MessageBody": ""}])
        self.assertEqual(sorted(e["Id"] for e in r["Successful"]), ["a", "b"])
        self.assertEqual(r["Failed"][0]["Id"], "c")
        self.assertTrue(r["Failed"][0]["SenderFault"])
        self.assertEqual(r["Failed"][0]["Code"], "MissingParameter")
        got = self.receive_all(url, 2)
        self.assertEqual(sorted(m["Body"] for m in got), ["one", "two"])
        entries = [{"Id": "e%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        entries.append({"Id": "bad", "ReceiptHandle": "garbage"})
        d = self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(len(d["Successful"]), 2)
        self.assertEqual(d["Failed"][0]["Code"], "ReceiptHandleIsInvalid")
        self.assertSqsError("AWS.SimpleQueueService.EmptyBatchRequest", 400,
                            self.sqs.send_message_batch, QueueUrl=url, Entries=[])
        self.assertSqsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
        self.assertSqsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])
        self.assertSqsError("AWS.SimpleQueueService.InvalidBatchEntryId", 400,
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": "no spaces", "MessageBody": "1"}])
        self.assertSqsError("AWS.SimpleQueueService.BatchRequestTooLong", 400,
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": str(i), "MessageBody": "x" * 110000} for i in range(10)])

    def test_long_polling(self):
        url = self.new_queue("poll")
        # Nothing arrives: the call waits out WaitTimeSeconds.
        t = time.time()
        r = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        self.assertNotIn("Messages", r)
        self.assertGreaterEqual(time.time() - t, 1.9)
        # A message sent while a receive waits ends the wait early.
        other = self.client(self.server)
        threading.Timer(1.0, lambda: other.send_message(QueueUrl=url, MessageBody="late")).start()
        t = time.time()
        r = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        waited = time.time() - t
        self.assertEqual(r["Messages"][0]["Body"], "late")
        self.assertLess(waited, 15)
        # The queue's ReceiveMessageWaitTimeSeconds applies when the call gives none.
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})
        t = time.time()
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.assertGreaterEqual(time.time() - t, 0.9)
        # A delayed message stays hidden until its delay passes.
        self.sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=2)
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
        self.assertEqual(a["Attributes"]["ApproximateNumberOfMessagesDelayed"], "1")
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0))
        r = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        self.assertEqual(r["Messages"][0]["Body"], "delayed")

    def test_visibility_timeout_and_redelivery(self):
        url = self.new_queue("vis", VisibilityTimeout=1)
        self.sqs.send_message(QueueUrl=url, MessageBody="again")
        first = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
        # Hidden while in flight.
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
        self.assertEqual(a["Attributes"]["ApproximateNumberOfMessagesNotVisible"], "1")
        # Reappears after the timeout (a waiting receive is woken by it), with a new receipt.
        second = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=5)["Messages"][0]
        self.assertEqual(second["MessageId"], first["MessageId"])
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertNotEqual(second["ReceiptHandle"], first["ReceiptHandle"])
        # The stale handle deletes nothing (as on SQS) and cannot change visibility.
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.assertSqsError("InvalidParameterValue", 400, self.sqs.change_message_visibility,
                            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=5)
        # Extending the current one keeps it hidden past the queue's timeout.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=30)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2))
        # Back to 0: visible at once; then a change of a message not in flight is refused.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
        third = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
        self.assertEqual(third["Body"], "again")
        self.assertSqsError("AWS.SimpleQueueService.MessageNotInflight", 400,
                            self.sqs.change_message_visibility, QueueUrl=url,
                            ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=10)
        r = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=r["ReceiptHandle"])
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2))

    def test_redrive_to_dead_letter_queue(self):
        dlq = self.new_queue("poison-dlq")
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
        src = self.new_queue("poison-src", VisibilityTimeout=0)
        self.sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy})
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"], [src])
        self.sqs.send_message(QueueUrl=src, MessageBody="poison",
                              MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        ids = set()
        for _ in range(2):  # received maxReceiveCount times, never deleted
            m = self.sqs.receive_message(QueueUrl=src, WaitTimeSeconds=2)["Messages"][0]
            ids.add(m["MessageId"])
        # The next receive moves it to the dead-letter queue instead of delivering it.
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=src))
        d = self.sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2, MessageAttributeNames=["All"])["Messages"][0]
        self.assertEqual(d["Body"], "poison")
        self.assertEqual({d["MessageId"]}, ids)
        self.assertEqual(d["MessageAttributes"]["k"]["StringValue"], "v")
        # A redrive policy must point at an existing queue.
        bad = json.dumps({"deadLetterTargetArn": dlq_arn + "-missing", "maxReceiveCount": 2})
        self.assertSqsError("InvalidParameterValue", 400, self.sqs.set_queue_attributes,
                            QueueUrl=src, Attributes={"RedrivePolicy": bad})

    def test_purge(self):
        url = self.new_queue("purge")
        self.sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(5)])
        self.sqs.purge_queue(QueueUrl=url)
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        self.assertEqual(a["Attributes"]["ApproximateNumberOfMessages"], "0")
        self.assertSqsError("AWS.SimpleQueueService.PurgeQueueInProgress", 403,
                            self.sqs.purge_queue, QueueUrl=url)

    def test_aws_cli(self):
        _, out, _ = self.server.aws("sqs", "create-queue", "--queue-name", "cli",
                                    "--attributes", "VisibilityTimeout=5")
        url = out["QueueUrl"]
        self.server.aws("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli",
                        "--message-attributes", '{"a":{"DataType":"String","StringValue":"b"}}')
        _, out, _ = self.server.aws("sqs", "receive-message", "--queue-url", url,
                                    "--wait-time-seconds", "2", "--attribute-names", "All",
                                    "--message-attribute-names", "All")
        m = out["Messages"][0]
        self.assertEqual(m["Body"], "from the cli")
        self.assertEqual(m["MessageAttributes"]["a"]["StringValue"], "b")
        self.server.aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        _, out, _ = self.server.aws("sqs", "get-queue-attributes", "--queue-url", url,
                                    "--attribute-names", "All")
        self.assertEqual(out["Attributes"]["ApproximateNumberOfMessages"], "0")
        self.assertEqual(out["Attributes"]["VisibilityTimeout"], "5")
        _, out, _ = self.server.aws("sqs", "list-queues")
        self.assertIn(url, out["QueueUrls"])
        rc, _, err = self.server.aws("sqs", "get-queue-url", "--queue-name", "nope", check=False)
        self.assertEqual(rc, 254)
        self.assertIn("NonExistentQueue", err)
        self.server.aws("sqs", "delete-queue", "--queue-url", url)

    def test_bad_query_input_is_refused_and_changes_nothing(self):
        """Forms no SDK would send: AWS's error codes, and the queue is as it was."""
        url = self.new_queue("raw-query", VisibilityTimeout=7)
        self.sqs.send_message(QueueUrl=url, MessageBody="keep")

        def post(form, path="/"):
            status, _, data = self.server.raw("POST", path, form.encode(),
                                              {"Content-Type": "application/x-www-form-urlencoded"})
            code = re.search(r"<Code>([^<]*)</Code>", data.decode())
            return status, code.group(1) if code else data.decode()
        v = "&Version=2012-11-05"
        self.assertEqual(post("Action=CreateQueue" + v), (400, "MissingParameter"))
        self.assertEqual(post("Action=SendMessage&QueueUrl=%s&MessageBody=x&MessageAttribute.99999.Name=a" % url + v),
                         (400, "MalformedQueryString"))
        self.assertEqual(post("Action=SendMessage&QueueUrl=%s&MessageBody=x&DelaySeconds=soon" % url + v),
                         (400, "InvalidParameterValue"))
        self.assertEqual(post("Action=SendMessage&QueueUrl=%s&MessageBody=%%FF%%FE" % url + v),
                         (400, "InvalidMessageContents"))
        self.assertEqual(post("Action=SetQueueAttributes&QueueUrl=%s&Attribute.1.Name=VisibilityTimeout" % url + v),
                         (400, "InvalidAttributeValue"))
        self.assertEqual(post("Action=SetQueueAttributes&QueueUrl=%s&Attribute.1.Name=VisibilityTimeout"
                              "&Attribute.1.Value=-1" % url + v), (400, "InvalidAttributeValue"))
        self.assertEqual(post("Action=DeleteMessage&QueueUrl=%s&ReceiptHandle=%%00" % url + v),
                         (400, "ReceiptHandleIsInvalid"))
        self.assertEqual(post("Action=SendMessage&QueueUrl=http://h/999999999999/raw-query&MessageBody=x" + v),
                         (400, "AWS.SimpleQueueService.NonExistentQueue"))
        self.assertEqual(post("Action=Teleport" + v), (400, "InvalidAction"))
        # Posted to the queue URL's path, without QueueUrl: the path names the queue.
        self.assertEqual(post("Action=GetQueueAttributes&AttributeName.1=VisibilityTimeout" + v,
                              "/%s/raw-query" % ACCOUNT)[0], 200)
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual((a["VisibilityTimeout"], a["ApproximateNumberOfMessages"]), ("7", "1"))

    def test_json_protocol_raw(self):
        """What current SDKs send: X-Amz-Target AmazonSQS.*, JSON bodies, numbers as numbers."""
        def call(op, body):
            status, hdrs, data = self.server.raw(
                "POST", "/", json.dumps(body).encode(),
                {"X-Amz-Target": "AmazonSQS." + op, "Content-Type": "application/x-amz-json-1.0"})
            return status, hdrs, json.loads(data) if data else {}
        status, _, out = call("CreateQueue", {"QueueName": "raw-json"})
        self.assertEqual(status, 200)
        url = out["QueueUrl"]
        status, _, out = call("SendMessage", {"QueueUrl": url, "MessageBody": "j", "DelaySeconds": 0})
        self.assertEqual(out["MD5OfMessageBody"], md5("j"))
        status, _, out = call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1})
        self.assertEqual(out["Messages"][0]["Body"], "j")
        status, hdrs, out = call("GetQueueUrl", {"QueueName": "absent"})
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "com.amazonaws.sqs#QueueDoesNotExist")
        self.assertEqual(hdrs["x-amzn-query-error"], "AWS.SimpleQueueService.NonExistentQueue;Sender")
        status, _, out = call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "ten"})
        self.assertEqual(status, 400)
        status, _, out = call("NoSuchOperation", {})
        self.assertEqual((status, out["__type"]), (400, "com.amazonaws.sqs#UnsupportedOperation"))
        status, _, _ = self.server.raw("POST", "/", b"{not json", {"X-Amz-Target": "AmazonSQS.ListQueues"})
        self.assertEqual(status, 400)


class SqsServerLifecycleTest(unittest.TestCase):
    def test_retention_drops_old_messages(self):
        """MessageRetentionPeriod's minimum is 60 s: this test waits it out."""
        server = Server().start()
        try:
            sqs = SqsTest.client(server)
            url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="old")
            time.sleep(45)
            sqs.send_message(QueueUrl=url, MessageBody="young")
            time.sleep(16)
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            self.assertEqual([m["Body"] for m in got["Messages"]], ["young"])
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]),
                             ("0", "1"))
        finally:
            server.close()

    def test_shutdown_ends_long_polls(self):
        server = Server().start()
        try:
            sqs = SqsTest.client(server)
            url = sqs.create_queue(QueueName="waiting")["QueueUrl"]
            result = {}
            t = threading.Thread(target=lambda: result.update(
                sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)))
            t.start()
            time.sleep(1)
            start = time.time()
            self.assertEqual(server.terminate(), 0)
            self.assertLess(time.time() - start, 10)
            t.join(timeout=30)
            self.assertNotIn("Messages", result)
        finally:
            server.close()


class SqsDurabilityTest(unittest.TestCase):
    def test_kill9_keeps_acknowledged_changes(self):
        server = Server().start()
        try:
            sqs = SqsTest.client(server)
            url = sqs.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
            dlq = sqs.create_queue(QueueName="durable-dlq")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})})
            for i in range(0, 200, 10):
                sqs.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(j), "MessageBody": "m%d" % (i + j)} for j in range(10)])
            deleted = set()
            for _ in range(5):
                for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    deleted.add(m["Body"])
            # One message received twice before the crash: its count survives.
            marked = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
            # One received for a minute: its receipt handle still deletes it after the restart.
            held = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"][0]
            server.kill9()
            server.start()
            sqs = SqsTest.client(server)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])
            deleted.add(held["Body"])
            self.assertEqual(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
                             ["Attributes"]["RedrivePolicy"],
                             json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3}))
            seen = {}
            deadline = time.time() + 30
            while len(seen) < 200 - len(deleted) and time.time() < deadline:
                for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                             AttributeNames=["All"]).get("Messages", []):
                    seen[m["Body"]] = m
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            self.assertEqual(set(seen), {"m%d" % i for i in range(200)} - deleted)
            self.assertEqual(seen[marked["Body"]]["Attributes"]["ApproximateReceiveCount"], "2")
            self.assertEqual(len(deleted), 51)
            # Nothing left, not even hidden: the pre-crash receipt handle did delete `held`.
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            self.assertEqual((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]),
                             ("0", "0"))
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()

"""SNS end to end with the aws CLI v2 and boto3: topics and their attributes, tags and policy,
subscriptions (sqs, http with the confirmation flow, lambda) with filter policies of both scopes,
Publish and PublishBatch with SNS's refusals, signed messages verified against the certificate at
SigningCertURL, raw delivery, HTTP retries by delivery policy, dead-letter queues, topics as
targets of S3 notifications and Lambda destinations, and durability across kill -9."""

import base64
import http.server
import json
import threading
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from harness import (ACCOUNT, REGION, ServerTestCase, drain_queue, log_lines, make_zip,
                     queue_for_service, sandbox_supported)

QUEUE_ARN = "arn:aws:sqs:%s:%s:%%s" % (REGION, ACCOUNT)


def verify_signature(m):
    """Checks an SNS message's Signature with the certificate its SigningCertURL serves."""
    if m["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    canonical = "".join("%s\n%s\n" % (k, m[k]) for k in fields if k in m)
    cert_url = m.get("SigningCertURL") or m["SigningCertUrl"]
    cert = x509.load_pem_x509_certificate(urllib.request.urlopen(cert_url).read())
    digest = hashes.SHA1() if m["SignatureVersion"] == "1" else hashes.SHA256()
    cert.public_key().verify(base64.b64decode(m["Signature"]), canonical.encode(),
                             padding.PKCS1v15(), digest)


def https_context(key_file, cert_file, signer_key=None, signer_cert=None):
    """A server TLS context for 127.0.0.1: a fresh key and certificate, signed by the given
    authority (the node's CA), or self-signed."""
    import datetime
    import ipaddress
    import ssl
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    issuer = x509.load_pem_x509_certificate(signer_cert).subject if signer_cert else name
    signing_key = serialization.load_pem_private_key(signer_key, None) if signer_key else key
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(signing_key, hashes.SHA256()))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


class Hook:
    """An HTTP endpoint on loopback that records what SNS POSTs and answers with the statuses
    given in turn (the last one from then on); HTTPS with `tls` (an ssl.SSLContext)."""

    def __init__(self, statuses=(200,), tls=None):
        self.requests = []
        self.statuses = list(statuses)
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = hook.statuses[min(len(hook.requests), len(hook.statuses) - 1)]
                hook.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body.decode(), "path": self.path,
                                      "status": status, "at": time.monotonic()})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "%s://127.0.0.1:%d/hook" % ("https" if tls else "http",
                                                self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n, timeout=20):
        deadline = time.time() + timeout
        while len(self.requests) < n and time.time() < deadline:
            time.sleep(0.05)
        return self.requests

    def close(self):
        self.httpd.shutdown()


class SnsTestBase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sns = cls.server.sns_client()
        cls.sqs = cls.server.sqs_client()

    def aws(self, *args, check=True):
        return self.server.aws(*args, check=check)

    def queue(self, name, topic_arn=None):
        """A queue whose policy lets the topic (or any topic) send to it; its URL."""
        return queue_for_service(self.sqs, name, "sns.amazonaws.com", topic_arn)

    def drain(self, url, expect, timeout=15):
        return drain_queue(self.sqs, url, expect, timeout)

    def error(self, code, status, fn, **kw):
        return self.assertAwsError(code, status, fn, **kw)


class SnsApiTest(SnsTestBase):
    def test_topics_with_the_cli(self):
        _, made, _ = self.aws("sns", "create-topic", "--name", "cli-topic", "--attributes",
                              "DisplayName=Orders", "--tags", "Key=team,Value=a")
        arn = made["TopicArn"]
        self.assertEqual(arn, "arn:aws:sns:%s:%s:cli-topic" % (REGION, ACCOUNT))
        # Idempotent with the same attributes; refused with others.
        _, again, _ = self.aws("sns", "create-topic", "--name", "cli-topic", "--attributes",
                               "DisplayName=Orders")
        self.assertEqual(again["TopicArn"], arn)
        rc, _, err = self.aws("sns", "create-topic", "--name", "cli-topic", "--attributes",
                              "DisplayName=Other", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidParameter", err)
        _, attrs, _ = self.aws("sns", "get-topic-attributes", "--topic-arn", arn)
        a = attrs["Attributes"]
        self.assertEqual(a["DisplayName"], "Orders")
        self.assertEqual(a["TopicArn"], arn)
        self.assertEqual(a["Owner"], ACCOUNT)
        self.assertEqual(a["SubscriptionsConfirmed"], "0")
        self.assertEqual(json.loads(a["Policy"])["Statement"][0]["Resource"], arn)
        self.assertEqual(json.loads(a["EffectiveDeliveryPolicy"])["http"][
            "defaultHealthyRetryPolicy"]["numRetries"], 3)
        self.aws("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name",
                 "DeliveryPolicy", "--attribute-value",
                 json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}}}))
        a = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(json.loads(a["EffectiveDeliveryPolicy"])["http"][
            "defaultHealthyRetryPolicy"]["numRetries"], 5)
        _, tags, _ = self.aws("sns", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags["Tags"], [{"Key": "team", "Value": "a"}])
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
        self.sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "env", "Value": "test"}])
        _, listed, _ = self.aws("sns", "list-topics")
        self.assertIn({"TopicArn": arn}, listed["Topics"])
        self.sns.add_permission(TopicArn=arn, Label="others", AWSAccountId=["111122223333"],
                                ActionName=["Publish"])
        policy = json.loads(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]],
                         ["__default_statement_ID", "others"])
        self.sns.remove_permission(TopicArn=arn, Label="others")
        self.aws("sns", "delete-topic", "--topic-arn", arn)
        self.error("NotFound", 404, self.sns.get_topic_attributes, TopicArn=arn)
        self.sns.delete_topic(TopicArn=arn)  # deleting it again succeeds, as on AWS

    def test_refusals(self):
        arn = self.sns.create_topic(Name="refusals")["TopicArn"]
        missing = arn + "-missing"
        self.error("InvalidParameter", 400, self.sns.create_topic, Name="bad name!")
        self.error("InvalidParameter", 400, self.sns.create_topic, Name="f.fifo",
                   Attributes={"FifoTopic": "true"})
        self.error("InvalidParameter", 400, self.sns.set_topic_attributes, TopicArn=arn,
                   AttributeName="Nope", AttributeValue="x")
        self.error("NotFound", 404, self.sns.publish, TopicArn=missing, Message="x")
        self.error("NotFound", 404, self.sns.subscribe, TopicArn=missing, Protocol="sqs",
                   Endpoint=QUEUE_ARN % "q")
        self.error("InvalidParameter", 400, self.sns.subscribe, TopicArn=arn, Protocol="email",
                   Endpoint="a@example.com")
        self.error("InvalidParameter", 400, self.sns.subscribe, TopicArn=arn, Protocol="sqs",
                   Endpoint="not-an-arn")
        self.error("InvalidParameter", 400, self.sns.subscribe, TopicArn=arn, Protocol="http",
                   Endpoint="https://x.example/")
        err = self.error("InvalidParameter", 400, self.sns.subscribe, TopicArn=arn,
                         Protocol="sqs", Endpoint=QUEUE_ARN % "q",
                         Attributes={"FilterPolicy": json.dumps({"a": [{"prefx": "b"}]})})
        self.assertIn("FilterPolicy", err["Error"]["Message"])
        self.error("InvalidParameter", 400, self.sns.subscribe, TopicArn=arn, Protocol="lambda",
                   Endpoint="arn:aws:lambda:%s:%s:function:f" % (REGION, ACCOUNT),
                   Attributes={"RawMessageDelivery": "true"})
        self.error("InvalidParameter", 400, self.sns.publish, TopicArn=arn, Message="")
        self.error("InvalidParameter", 400, self.sns.publish, TopicArn=arn, Message="x",
                   Subject="line\nbreak")
        self.error("InvalidParameter", 400, self.sns.publish, TopicArn=arn, Message="x" * 262145)
        self.error("InvalidParameter", 400, self.sns.publish, TopicArn=arn, Message='{"a": 1}',
                   MessageStructure="json")
        self.error("ParameterValueInvalid", 400, self.sns.publish, TopicArn=arn, Message="x",
                   MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
        self.error("ParameterValueInvalid", 400, self.sns.publish, TopicArn=arn, Message="x",
                   MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "v"}})
        self.error("EmptyBatchRequest", 400, self.sns.publish_batch, TopicArn=arn,
                   PublishBatchRequestEntries=[])
        self.error("TooManyEntriesInBatchRequest", 400, self.sns.publish_batch, TopicArn=arn,
                   PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(11)])
        self.error("BatchEntryIdsNotDistinct", 400, self.sns.publish_batch, TopicArn=arn,
                   PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}] * 2)
        self.error("NotFound", 404, self.sns.get_subscription_attributes,
                   SubscriptionArn=arn + ":nope")
        # Unsigned and wrongly signed requests.
        status, _, body = self.server.raw("POST", "/", b"Action=ListTopics&Version=2010-03-31",
                                          {"Content-Type": "application/x-www-form-urlencoded"},
                                          sign=False)
        self.assertEqual(status, 403, body)

    def test_subscriptions_and_their_attributes(self):
        arn = self.sns.create_topic(Name="subs")["TopicArn"]
        sub = self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "subs-q",
                                 Attributes={"RawMessageDelivery": "true"},
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertTrue(sub.startswith(arn + ":"))
        # The same subscription again is the same one.
        self.assertEqual(self.sns.subscribe(TopicArn=arn, Protocol="sqs",
                                            Endpoint=QUEUE_ARN % "subs-q")["SubscriptionArn"], sub)
        a = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(a["RawMessageDelivery"], "true")
        self.assertEqual(a["PendingConfirmation"], "false")
        self.assertEqual(a["Protocol"], "sqs")
        self.assertEqual(a["TopicArn"], arn)
        self.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                             AttributeValue=json.dumps({"k": ["v"]}))
        a = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(json.loads(a["FilterPolicy"]), {"k": ["v"]})
        self.assertEqual(a["FilterPolicyScope"], "MessageAttributes")
        _, listed, _ = self.aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn)
        self.assertEqual([s["SubscriptionArn"] for s in listed["Subscriptions"]], [sub])
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"][
            "SubscriptionsConfirmed"], "1")
        self.aws("sns", "unsubscribe", "--subscription-arn", sub)
        self.assertEqual(self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"], [])


class SnsDeliveryTest(SnsTestBase):
    def test_filter_policies_pick_exactly_the_matching_messages(self):
        arn = self.sns.create_topic(Name="fanout")["TopicArn"]
        big = self.queue("big-orders", arn)
        eu = self.queue("eu-orders", arn)
        everything = self.queue("all-orders", arn)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "big-orders",
                           Attributes={"FilterPolicy": json.dumps(
                               {"total": [{"numeric": [">=", 100]}],
                                "kind": [{"anything-but": "test"}]})})
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "eu-orders",
                           Attributes={"FilterPolicyScope": "MessageBody",
                                       "FilterPolicy": json.dumps(
                                           {"region": [{"prefix": "eu-"}]}),
                                       "RawMessageDelivery": "true"})
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "all-orders")
        messages = [
            ({"region": "eu-west-1", "n": 1}, {"total": 150, "kind": "real"}),
            ({"region": "us-east-1", "n": 2}, {"total": 150, "kind": "test"}),
            ({"region": "eu-central-1", "n": 3}, {"total": 50, "kind": "real"}),
            ({"region": "ap-south-1", "n": 4}, {"total": 99.99, "kind": "real"}),
        ]
        for body, attrs in messages:
            self.sns.publish(TopicArn=arn, Message=json.dumps(body), MessageAttributes={
                "total": {"DataType": "Number", "StringValue": str(attrs["total"])},
                "kind": {"DataType": "String", "StringValue": attrs["kind"]}})
        got_big = self.drain(big, 1)
        got_eu = self.drain(eu, 2)
        got_all = self.drain(everything, 4)
        self.assertEqual(sorted(json.loads(json.loads(m["Body"])["Message"])["n"]
                                for m in got_big), [1])
        # Raw delivery: the message itself, the attributes as SQS message attributes.
        self.assertEqual(sorted(json.loads(m["Body"])["n"] for m in got_eu), [1, 3])
        self.assertEqual(got_eu[0]["MessageAttributes"]["kind"],
                         {"DataType": "String", "StringValue": "real"})
        self.assertEqual(len(got_all), 4)
        envelope = json.loads(got_all[0]["Body"])
        self.assertEqual(envelope["Type"], "Notification")
        self.assertEqual(envelope["TopicArn"], arn)
        self.assertEqual(envelope["MessageAttributes"]["total"]["Type"], "Number")
        self.assertIn("Action=Unsubscribe", envelope["UnsubscribeURL"])
        verify_signature(envelope)

    def test_structured_messages_subjects_batches_and_signature_versions(self):
        arn = self.sns.create_topic(Name="structured",
                                    Attributes={"SignatureVersion": "2"})["TopicArn"]
        url = self.queue("structured-q", arn)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "structured-q")
        self.aws("sns", "publish", "--topic-arn", arn, "--subject", "Hello", "--message-structure",
                 "json", "--message", json.dumps({"default": "for all", "sqs": "for queues"}))
        r = self.sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {"Id": "bad", "Message": "x", "MessageStructure": "json"},
            {"Id": "two", "Message": "second", "Subject": "S2"}])
        self.assertEqual(sorted(s["Id"] for s in r["Successful"]), ["one", "two"])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in r["Failed"]],
                         [("bad", "InvalidParameter", True)])
        got = [json.loads(m["Body"]) for m in self.drain(url, 3)]
        by_message = {g["Message"]: g for g in got}
        self.assertEqual(sorted(by_message), ["first", "for queues", "second"])
        self.assertEqual(by_message["for queues"]["Subject"], "Hello")
        self.assertNotIn("Subject", by_message["first"])
        for g in got:
            self.assertEqual(g["SignatureVersion"], "2")
            verify_signature(g)

    def test_dead_letter_queues_get_what_cannot_be_delivered(self):
        arn = self.sns.create_topic(Name="dlq-topic")["TopicArn"]
        dlq = self.queue("sns-dlq")
        # A queue that does not let the topic send, and one that is deleted after subscribing.
        self.sqs.create_queue(QueueName="closed-q")
        gone = self.queue("gone-q", arn)
        redrive = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": QUEUE_ARN % "sns-dlq"})}
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "closed-q",
                           Attributes=redrive)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "gone-q",
                           Attributes=redrive)
        self.sqs.delete_queue(QueueUrl=gone)
        self.sns.publish(TopicArn=arn, Message="undeliverable")
        got = self.drain(dlq, 2)
        self.assertEqual(len(got), 2)
        for m in got:
            self.assertEqual(json.loads(m["Body"])["Message"], "undeliverable")

    def test_http_subscriptions_confirm_deliver_and_retry(self):
        arn = self.sns.create_topic(Name="http-topic")["TopicArn"]
        hook = Hook()
        try:
            r = self.sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=hook.url)
            self.assertEqual(r["SubscriptionArn"], "pending confirmation")
            confirm = hook.wait(1)[0]
            body = json.loads(confirm["body"])
            self.assertEqual(confirm["headers"]["x-amz-sns-message-type"],
                             "SubscriptionConfirmation")
            self.assertEqual(body["Type"], "SubscriptionConfirmation")
            self.assertEqual(body["TopicArn"], arn)
            verify_signature(body)
            subs = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
            self.assertEqual(subs[0]["SubscriptionArn"], "PendingConfirmation")
            # Nothing is delivered before the endpoint confirms.
            self.sns.publish(TopicArn=arn, Message="too early")
            # The SubscribeURL confirms without credentials.
            page = urllib.request.urlopen(body["SubscribeURL"]).read().decode()
            self.assertIn("<SubscriptionArn>%s:" % arn, page)
            self.sns.publish(TopicArn=arn, Message="on time", Subject="S")
            note = hook.wait(2)[1]
            self.assertEqual(json.loads(note["body"])["Message"], "on time")
            h = note["headers"]
            self.assertEqual(h["x-amz-sns-message-type"], "Notification")
            self.assertEqual(h["x-amz-sns-topic-arn"], arn)
            self.assertTrue(h["x-amz-sns-subscription-arn"].startswith(arn + ":"))
            self.assertEqual(h["content-type"], "text/plain; charset=UTF-8")
            self.assertEqual(h["user-agent"], "Amazon Simple Notification Service Agent")
            verify_signature(json.loads(note["body"]))
            time.sleep(0.5)
            self.assertEqual(len(hook.requests), 2)  # "too early" never came
        finally:
            hook.close()

        # Retries: 5xx twice, then accepted, one second apart (the subscription's policy).
        flaky = Hook([200])
        dlq = self.queue("http-dlq")
        try:
            sub = self.sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=flaky.url,
                                     ReturnSubscriptionArn=True)["SubscriptionArn"]
            token = json.loads(flaky.wait(1)[0]["body"])["Token"]
            self.assertEqual(self.sns.confirm_subscription(TopicArn=arn, Token=token)[
                "SubscriptionArn"], sub)
            flaky.statuses = [200, 500, 503, 200]
            self.sns.set_subscription_attributes(
                SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
                    {"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 1,
                                            "maxDelayTarget": 1}}))
            self.sns.set_subscription_attributes(
                SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
            self.sns.publish(TopicArn=arn, Message="eventually")
            reqs = flaky.wait(4)
            self.assertEqual([r["status"] for r in reqs], [200, 500, 503, 200])
            self.assertEqual(reqs[3]["body"], "eventually")
            self.assertEqual(reqs[3]["headers"]["x-amz-sns-rawdelivery"], "true")
            self.assertGreaterEqual(reqs[2]["at"] - reqs[1]["at"], 0.9)
            # A 4xx is the endpoint's refusal: not retried, dead-lettered.
            flaky.statuses = [200, 500, 503, 200, 403]
            self.sns.set_subscription_attributes(
                SubscriptionArn=sub, AttributeName="RedrivePolicy",
                AttributeValue=json.dumps({"deadLetterTargetArn": QUEUE_ARN % "http-dlq"}))
            self.sns.publish(TopicArn=arn, Message="refused")
            got = self.drain(dlq, 1)
            self.assertEqual([m["Body"] for m in got], ["refused"])
            self.assertEqual(len(flaky.requests), 5)
        finally:
            flaky.close()
        # The UnsubscribeURL works without credentials.
        self.sns.unsubscribe(SubscriptionArn=sub)

    def test_https_subscriptions_verify_the_endpoint(self):
        import os
        import tempfile
        arn = self.sns.create_topic(Name="https-topic")["TopicArn"]
        ca_dir = os.path.join(self.server.data_dir, "ca")
        with open(os.path.join(ca_dir, "ca.key"), "rb") as f:
            ca_key = f.read()
        with open(os.path.join(ca_dir, "ca.crt"), "rb") as f:
            ca_cert = f.read()
        tmp = tempfile.mkdtemp(prefix="lambent-sns-tls-")
        trusted = Hook(tls=https_context(os.path.join(tmp, "a.key"), os.path.join(tmp, "a.crt"),
                                         ca_key, ca_cert))
        untrusted = Hook(tls=https_context(os.path.join(tmp, "b.key"), os.path.join(tmp, "b.crt")))
        try:
            # An endpoint whose certificate the node's authority signed: confirmed, delivered.
            self.sns.subscribe(TopicArn=arn, Protocol="https", Endpoint=trusted.url)
            body = json.loads(trusted.wait(1)[0]["body"])
            self.sns.confirm_subscription(TopicArn=arn, Token=body["Token"])
            self.sns.publish(TopicArn=arn, Message="over tls")
            self.assertEqual(json.loads(trusted.wait(2)[1]["body"])["Message"], "over tls")
            # A self-signed endpoint never gets a request: the handshake fails verification.
            self.sns.subscribe(TopicArn=arn, Protocol="https", Endpoint=untrusted.url)
            time.sleep(2)
            self.assertEqual(untrusted.requests, [])
            pending = [s for s in self.sns.list_subscriptions_by_topic(TopicArn=arn)[
                "Subscriptions"] if s["Endpoint"] == untrusted.url]
            self.assertEqual(pending[0]["SubscriptionArn"], "PendingConfirmation")
        finally:
            trusted.close()
            untrusted.close()

    def test_s3_notifications_to_a_topic(self):
        arn = self.sns.create_topic(Name="bucket-events")["TopicArn"]
        url = self.queue("bucket-events-q", arn)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "bucket-events-q")
        s3 = self.server.s3_client()
        s3.create_bucket(Bucket="sns-events")
        config = {"TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
        # The topic's policy must let S3 publish for this bucket.
        with self.assertRaises(ClientError) as cm:
            s3.put_bucket_notification_configuration(Bucket="sns-events",
                                                     NotificationConfiguration=config)
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidArgument")
        policy = json.loads(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        policy["Statement"].append({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                    "Action": "SNS:Publish", "Resource": arn, "Condition": {
                                        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::sns-events"}}})
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                      AttributeValue=json.dumps(policy))
        s3.put_bucket_notification_configuration(Bucket="sns-events",
                                                 NotificationConfiguration=config)
        s3.put_object(Bucket="sns-events", Key="a/b.txt", Body=b"x")
        got = [json.loads(m["Body"]) for m in self.drain(url, 2)]
        subjects = sorted(g["Subject"] for g in got)
        self.assertEqual(subjects, ["Amazon S3 Notification"] * 2)
        events = [json.loads(g["Message"]) for g in got]
        records = [e for e in events if "Records" in e]
        self.assertEqual(records[0]["Records"][0]["s3"]["object"]["key"], "a/b.txt")
        self.assertIn("s3:TestEvent", [e.get("Event") for e in events])

    def test_acknowledged_publishes_survive_kill_9(self):
        arn = self.sns.create_topic(Name="durable")["TopicArn"]
        self.queue("durable-q", arn)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "durable-q")
        ids = set()
        for i in range(40):
            ids.add(self.sns.publish(TopicArn=arn, Message="m%d" % i)["MessageId"])
        self.server.kill9()
        self.server.start()
        type(self).sns = self.server.sns_client()
        type(self).sqs = self.server.sqs_client()
        url = self.sqs.get_queue_url(QueueName="durable-q")["QueueUrl"]
        got = {json.loads(m["Body"])["MessageId"] for m in self.drain(url, 40, timeout=30)}
        self.assertEqual(got, ids)
        # The topic and its subscription are still there.
        self.assertEqual(len(self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]),
                         1)


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups for sandboxes")
class SnsLambdaTest(SnsTestBase):
    def test_a_topic_with_a_lambda_and_an_sqs_subscription(self):
        arn = self.sns.create_topic(Name="to-functions")["TopicArn"]
        code = make_zip({"app.py": "import json\ndef handler(e, c):\n"
                                   "    print('SAW ' + json.dumps(e))\n"})
        self.create("sns-sub", code)
        fn_arn = "arn:aws:lambda:%s:%s:function:sns-sub" % (REGION, ACCOUNT)
        url = self.queue("to-functions-q", arn)
        self.sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=fn_arn,
                           Attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "to-functions-q",
                           Attributes={"FilterPolicy": json.dumps({"color": ["blue"]})})
        # Without the function's permission, nothing reaches it.
        self.sns.publish(TopicArn=arn, Message="denied", MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"}})
        self.client.add_permission(FunctionName="sns-sub", StatementId="sns",
                                   Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                                   SourceArn=arn)
        for i, color in enumerate(["red", "blue", "green", "red"]):
            self.sns.publish(TopicArn=arn, Message="m%d" % i, Subject="s%d" % i,
                             MessageAttributes={"color": {"DataType": "String",
                                                          "StringValue": color}})
        deadline = time.time() + 30
        seen = []
        while time.time() < deadline:
            seen = log_lines(self.server.logs_client(), "sns-sub", "SAW")
            if len(seen) >= 2:
                break
            time.sleep(0.3)
        time.sleep(1)
        seen = log_lines(self.server.logs_client(), "sns-sub", "SAW")
        records = [e["Records"][0] for e in seen]
        self.assertEqual(sorted(r["Sns"]["Message"] for r in records), ["m0", "m3"])
        r = records[0]
        self.assertEqual(r["EventSource"], "aws:sns")
        self.assertEqual(r["EventVersion"], "1.0")
        self.assertTrue(r["EventSubscriptionArn"].startswith(arn + ":"))
        self.assertEqual(r["Sns"]["MessageAttributes"]["color"], {"Type": "String",
                                                                   "Value": "red"})
        self.assertIn("SigningCertUrl", r["Sns"])
        verify_signature(r["Sns"])
        self.assertEqual([json.loads(m["Body"])["Message"] for m in self.drain(url, 1)], ["m1"])

    def test_lambda_destinations_and_dead_letters_on_topics(self):
        arn = self.sns.create_topic(Name="outcomes")["TopicArn"]
        url = self.queue("outcomes-q", arn)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE_ARN % "outcomes-q")
        iam = self.server.iam_client()
        iam.put_role_policy(RoleName="lambda-role", PolicyName="publish", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish",
                                                     "Resource": "*"}]}))
        code = make_zip({"app.py": "def handler(e, c):\n    if e.get('fail'):\n"
                                   "        raise ValueError('bad')\n    return {'ok': e}\n"})
        self.create("to-topic", code, DeadLetterConfig={"TargetArn": arn})
        self.client.put_function_event_invoke_config(
            FunctionName="to-topic", MaximumRetryAttempts=0,
            DestinationConfig={"OnSuccess": {"Destination": arn}})
        self.client.invoke(FunctionName="to-topic", InvocationType="Event", Payload=b'{"n": 1}')
        self.client.invoke(FunctionName="to-topic", InvocationType="Event",
                           Payload=b'{"fail": true}')
        got = [json.loads(m["Body"]) for m in self.drain(url, 2, timeout=30)]
        messages = [json.loads(g["Message"]) for g in got]
        success = [m for m in messages if m.get("requestContext", {}).get("condition") == "Success"]
        self.assertEqual(success[0]["responsePayload"], {"ok": {"n": 1}})
        dead = [g for g in got if json.loads(g["Message"]).get("fail")]
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0]["MessageAttributes"]["ErrorMessage"]["Value"], "bad")
        self.assertEqual(dead[0]["MessageAttributes"]["ErrorCode"]["Type"], "Number")


if __name__ == "__main__":
    unittest.main()

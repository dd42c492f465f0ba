"""EventBridge end to end with the aws CLI v2 and boto3: buses, rules and their refusals,
PutEvents with per-entry errors, patterns routing exactly the matching events to queue, topic and
function targets with their inputs (Input, InputPath, InputTransformer), dead-letter queues,
TestEventPattern, and a rate(1 minute) schedule firing once per minute across a restart."""

import json
import time
import unittest

from botocore.exceptions import ClientError

from harness import (ACCOUNT, REGION, ServerTestCase, drain_queue, log_lines, make_zip,
                     queue_for_service, sandbox_supported)

QUEUE_ARN = "arn:aws:sqs:%s:%s:%%s" % (REGION, ACCOUNT)


class EventsTestBase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.events = cls.server.client("events")
        cls.sqs = cls.server.sqs_client()

    def queue(self, name):
        """A queue whose policy lets EventBridge send to it; its URL."""
        return queue_for_service(self.sqs, name, "events.amazonaws.com")

    def drain(self, url, expect, timeout=15):
        return drain_queue(self.sqs, url, expect, timeout)

    def error(self, code, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception.response


class EventBridgeApiTest(EventsTestBase):
    def test_buses_rules_and_targets_with_the_cli(self):
        _, bus, _ = self.server.aws("events", "create-event-bus", "--name", "orders-bus")
        self.assertEqual(bus["EventBusArn"],
                         "arn:aws:events:%s:%s:event-bus/orders-bus" % (REGION, ACCOUNT))
        self.error("ResourceAlreadyExistsException", self.events.create_event_bus,
                   Name="orders-bus")
        names = [b["Name"] for b in self.events.list_event_buses()["EventBuses"]]
        self.assertIn("default", names)
        self.assertIn("orders-bus", names)
        _, rule, _ = self.server.aws("events", "put-rule", "--name", "big", "--event-bus-name",
                                     "orders-bus", "--event-pattern",
                                     json.dumps({"source": ["shop"]}), "--description", "d")
        self.assertEqual(rule["RuleArn"],
                         "arn:aws:events:%s:%s:rule/orders-bus/big" % (REGION, ACCOUNT))
        d = self.events.describe_rule(Name="big", EventBusName="orders-bus")
        self.assertEqual((d["State"], d["Description"], d["EventBusName"]),
                         ("ENABLED", "d", "orders-bus"))
        self.events.disable_rule(Name="big", EventBusName="orders-bus")
        self.assertEqual(self.events.describe_rule(Name="big", EventBusName="orders-bus")["State"],
                         "DISABLED")
        r = self.events.put_targets(Rule="big", EventBusName="orders-bus", Targets=[
            {"Id": "q", "Arn": QUEUE_ARN % "x", "InputPath": "$.detail"}])
        self.assertEqual(r["FailedEntryCount"], 0)
        targets = self.events.list_targets_by_rule(Rule="big", EventBusName="orders-bus")
        self.assertEqual(targets["Targets"], [{"Id": "q", "Arn": QUEUE_ARN % "x",
                                               "InputPath": "$.detail"}])
        self.assertEqual(self.events.list_rule_names_by_target(
            TargetArn=QUEUE_ARN % "x", EventBusName="orders-bus")["RuleNames"], ["big"])
        self.error("ValidationException", self.events.delete_rule, Name="big",
                   EventBusName="orders-bus")
        r = self.events.remove_targets(Rule="big", EventBusName="orders-bus", Ids=["q", "nope"])
        self.assertEqual([f["TargetId"] for f in r["FailedEntries"]], ["nope"])
        self.events.delete_rule(Name="big", EventBusName="orders-bus")
        self.events.delete_rule(Name="big", EventBusName="orders-bus")  # again: fine
        self.events.tag_resource(ResourceARN=bus["EventBusArn"], Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=bus["EventBusArn"])["Tags"],
                         [{"Key": "k", "Value": "v"}])
        self.server.aws("events", "delete-event-bus", "--name", "orders-bus")
        self.error("ResourceNotFoundException", self.events.describe_event_bus, Name="orders-bus")

    def test_refusals(self):
        self.error("ValidationException", self.events.put_rule, Name="r")
        self.error("InvalidEventPatternException", self.events.put_rule, Name="r",
                   EventPattern=json.dumps({"source": "not-a-list"}))
        self.error("ValidationException", self.events.put_rule, Name="r",
                   ScheduleExpression="rate(1 minutes)")
        self.error("ValidationException", self.events.put_rule, Name="r",
                   ScheduleExpression="cron(0 10 * * * *)")
        self.events.create_event_bus(Name="custom")
        self.error("ValidationException", self.events.put_rule, Name="r", EventBusName="custom",
                   ScheduleExpression="rate(5 minutes)")
        self.error("ResourceNotFoundException", self.events.put_rule, Name="r",
                   EventBusName="missing", EventPattern=json.dumps({"source": ["a"]}))
        self.error("ResourceNotFoundException", self.events.describe_rule, Name="missing")
        self.error("ValidationException", self.events.delete_event_bus, Name="default")
        self.events.put_rule(Name="targets", EventPattern=json.dumps({"source": ["a"]}))
        for bad in ({"Id": "t", "Arn": "arn:aws:ec2:us-east-1:1:instance/i"},
                    {"Id": "t", "Arn": QUEUE_ARN % "q", "Input": "{not json"},
                    {"Id": "t", "Arn": QUEUE_ARN % "q", "Input": "{}", "InputPath": "$"},
                    {"Id": "t", "Arn": QUEUE_ARN % "q", "InputPath": "detail"},
                    {"Id": "t", "Arn": QUEUE_ARN % "q",
                     "InputTransformer": {"InputPathsMap": {"a": "$.x"}, "InputTemplate": "<b>"}},
                    {"Id": "t", "Arn": QUEUE_ARN % "q", "RetryPolicy": {"MaximumRetryAttempts": 186}},
                    {"Id": "bad id!", "Arn": QUEUE_ARN % "q"}):
            self.error("ValidationException", self.events.put_targets, Rule="targets",
                       Targets=[bad])
        r = self.events.put_targets(Rule="targets", Targets=[
            {"Id": str(i), "Arn": QUEUE_ARN % "q"} for i in range(6)])
        self.assertEqual(r["FailedEntryCount"], 1)
        self.assertEqual(r["FailedEntries"][0]["ErrorCode"], "LimitExceededException")
        self.error("ValidationException", self.events.put_events, Entries=[
            {"Source": "a", "DetailType": "b", "Detail": "{}"}] * 11)
        self.error("ValidationException", self.events.put_events, Entries=[
            {"Source": "a", "DetailType": "b", "Detail": json.dumps({"x": "y" * 262144})}])

    def test_test_event_pattern(self):
        event = json.dumps({"id": "1", "account": ACCOUNT, "source": "shop", "time":
                            "2026-12-02T00:00:00Z", "region": REGION, "resources": [],
                            "detail-type": "order", "detail": {"total": 120, "ip": "10.0.0.9"}})
        for pattern, want in (({"source": ["shop"]}, True),
                              ({"detail": {"total": [{"numeric": [">", 150]}]}}, False),
                              ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
                              ({"$or": [{"source": ["x"]}, {"detail-type": [{"prefix": "ord"}]}]},
                               True)):
            _, r, _ = self.server.aws("events", "test-event-pattern", "--event-pattern",
                                      json.dumps(pattern), "--event", event)
            self.assertEqual(r["Result"], want, pattern)
        self.error("InvalidEventPatternException", self.events.test_event_pattern,
                   EventPattern=json.dumps({"source": [{"nope": 1}]}), Event=event)


class EventBridgeDeliveryTest(EventsTestBase):
    def test_patterns_route_exactly_the_matching_events(self):
        big = self.queue("eb-big")
        eu = self.queue("eb-eu")
        dlq = self.queue("eb-dlq")
        self.sqs.create_queue(QueueName="eb-closed")  # no policy: EventBridge may not send
        self.events.put_rule(Name="big-orders", EventPattern=json.dumps(
            {"source": ["shop"], "detail": {"total": [{"numeric": [">=", 100]}]}}))
        self.events.put_targets(Rule="big-orders", Targets=[
            {"Id": "whole", "Arn": QUEUE_ARN % "eb-big"},
            {"Id": "closed", "Arn": QUEUE_ARN % "eb-closed",
             "DeadLetterConfig": {"Arn": QUEUE_ARN % "eb-dlq"}}])
        self.events.put_rule(Name="eu", EventPattern=json.dumps(
            {"detail": {"region": [{"prefix": "eu-"}], "kind": [{"anything-but": "test"}]}}))
        self.events.put_targets(Rule="eu", Targets=[
            {"Id": "path", "Arn": QUEUE_ARN % "eb-eu", "InputPath": "$.detail.region"},
            {"Id": "transformed", "Arn": QUEUE_ARN % "eb-eu", "InputTransformer": {
                "InputPathsMap": {"r": "$.detail.region", "n": "$.detail.n"},
                "InputTemplate": '{"where": <r>, "n": <n>, "text": "order <n> in <r>", '
                                 '"rule": "<aws.events.rule-arn>"}'}},
            {"Id": "constant", "Arn": QUEUE_ARN % "eb-eu", "Input": '{"fixed": true}'}])
        entries = [
            {"Source": "shop", "DetailType": "order",
             "Detail": json.dumps({"total": 150, "region": "eu-west-1", "kind": "real", "n": 1})},
            {"Source": "shop", "DetailType": "order",
             "Detail": json.dumps({"total": 20, "region": "eu-west-1", "kind": "test", "n": 2})},
            {"Source": "other", "DetailType": "order",
             "Detail": json.dumps({"total": 500, "region": "us-east-1", "kind": "real", "n": 3})},
            {"Source": "shop", "DetailType": "order",
             "Detail": json.dumps({"total": 5, "region": "eu-central-1", "kind": "real", "n": 4})},
            {"DetailType": "order", "Detail": "{}"},
        ]
        r = self.events.put_events(Entries=entries)
        self.assertEqual(r["FailedEntryCount"], 1)
        self.assertEqual(r["Entries"][4]["ErrorCode"], "InvalidArgument")
        got_big = [json.loads(m["Body"]) for m in self.drain(big, 1)]
        self.assertEqual([g["detail"]["n"] for g in got_big], [1])
        e = got_big[0]
        self.assertEqual(e["id"], r["Entries"][0]["EventId"])
        self.assertEqual((e["source"], e["detail-type"], e["account"], e["region"], e["version"]),
                         ("shop", "order", ACCOUNT, REGION, "0"))
        self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        got_eu = [json.loads(m["Body"]) for m in self.drain(eu, 6)]
        self.assertEqual(sorted(g for g in got_eu if isinstance(g, str)),
                         ["eu-central-1", "eu-west-1"])
        transformed = sorted((g for g in got_eu if isinstance(g, dict) and "where" in g),
                             key=lambda g: g["n"])
        self.assertEqual([t["n"] for t in transformed], [1, 4])
        self.assertEqual(transformed[0]["text"], "order 1 in eu-west-1")
        self.assertTrue(transformed[0]["rule"].endswith(":rule/eu"))
        self.assertEqual(len([g for g in got_eu if g == {"fixed": True}]), 2)
        # The target whose policy refuses EventBridge: its dead-letter queue got the event.
        dead = self.drain(dlq, 1)
        self.assertEqual(json.loads(dead[0]["Body"])["detail"]["n"], 1)

    def test_custom_bus_and_topic_targets(self):
        sns = self.server.sns_client()
        topic = sns.create_topic(Name="from-events")["TopicArn"]
        url = self.queue("from-topic")
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": QUEUE_ARN % "from-topic"}]})})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE_ARN % "from-topic",
                      Attributes={"RawMessageDelivery": "true"})
        policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        policy["Statement"].append({"Effect": "Allow",
                                    "Principal": {"Service": "events.amazonaws.com"},
                                    "Action": "sns:Publish", "Resource": topic})
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                 AttributeValue=json.dumps(policy))
        self.events.create_event_bus(Name="app")
        self.events.put_rule(Name="all", EventBusName="app",
                             EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        self.events.put_targets(Rule="all", EventBusName="app",
                                Targets=[{"Id": "t", "Arn": topic}])
        r = self.events.put_events(Entries=[
            {"Source": "app.x", "DetailType": "d", "Detail": '{"a": 1}', "EventBusName": "app"},
            {"Source": "app.x", "DetailType": "d", "Detail": '{"a": 2}'},  # the default bus
            {"Source": "app.x", "DetailType": "d", "Detail": "{}", "EventBusName": "nope"}])
        self.assertEqual(r["Entries"][2]["ErrorCode"], "ResourceNotFoundException")
        got = [json.loads(m["Body"]) for m in self.drain(url, 1)]
        self.assertEqual([g["detail"] for g in got], [{"a": 1}])


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups for sandboxes")
class EventBridgeScheduleTest(EventsTestBase):
    def test_a_rate_schedule_fires_once_per_minute_across_a_restart(self):
        code = make_zip({"app.py": "import json\ndef handler(e, c):\n"
                                   "    print('SAW ' + json.dumps(e))\n"})
        self.create("every-minute", code)
        rule_arn = self.events.put_rule(Name="every-minute",
                                        ScheduleExpression="rate(1 minute)")["RuleArn"]
        self.client.add_permission(FunctionName="every-minute", StatementId="events",
                                   Action="lambda:InvokeFunction",
                                   Principal="events.amazonaws.com", SourceArn=rule_arn)
        self.events.put_targets(Rule="every-minute", Targets=[
            {"Id": "fn", "Arn": "arn:aws:lambda:%s:%s:function:every-minute" % (REGION, ACCOUNT)}])
        logs = self.server.logs_client()

        def seen():
            return log_lines(logs, "every-minute", "SAW")

        deadline = time.time() + 75
        while not seen() and time.time() < deadline:
            time.sleep(1)
        first = seen()
        self.assertEqual(len(first), 1)
        e = first[0]
        self.assertEqual((e["source"], e["detail-type"], e["resources"], e["detail"]),
                         ("aws.events", "Scheduled Event", [rule_arn], {}))
        # A restart (kill -9) in the middle of the next minute: the next tick fires once.
        time.sleep(20)
        self.server.kill9()
        self.server.start()
        type(self).client = self.server.lambda_client()
        logs = self.server.logs_client()
        deadline = time.time() + 60
        while len(seen()) < 2 and time.time() < deadline:
            time.sleep(1)
        time.sleep(5)
        events = seen()
        self.assertEqual(len(events), 2, events)
        t = [time.mktime(time.strptime(x["time"], "%Y-%m-%dT%H:%M:%SZ")) for x in events]
        self.assertEqual(sorted(t)[1] - sorted(t)[0], 60)
        self.assertEqual(len({x["id"] for x in events}), 2)


if __name__ == "__main__":
    unittest.main()

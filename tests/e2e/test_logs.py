"""The CloudWatch Logs API through boto3 and the aws CLI v2: groups and streams, PutLogEvents,
GetLogEvents and FilterLogEvents (every pattern kind, pagination without repeats or gaps),
retention, durability across kill -9, and `aws logs tail --follow` on a function's log group."""

import json
import subprocess
import threading
import time
import unittest

import boto3
import botocore.config
from botocore.exceptions import ClientError

from harness import AWS_CLI, REGION, ROLE, Server, make_zip, sandbox_supported

MESSAGES = [
    "INFO service started",
    "ERROR disk full on /dev/sda",
    "WARN disk almost full",
    "ERROR will retry connection",
    '{"level":"ERROR","latency":250,"user":{"id":"u-1"}}',
    '{"level":"INFO","latency":12,"user":{"id":"u-2"}}',
    '{"level":"WARN","latency":99,"user":{"id":"u-1"},"flag":true}',
    "Out of memory: killed process",
]


class LogsApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
        cls.logs = boto3.client("logs", endpoint_url=cls.server.endpoint, region_name=REGION,
                                config=cfg)
        cls.unchecked = boto3.client("logs", endpoint_url=cls.server.endpoint, region_name=REGION,
                                     config=botocore.config.Config(parameter_validation=False))

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def error(self, code, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception.response

    def put(self, group, stream, messages, start=None):
        now = start or int(time.time() * 1000) - len(messages)
        self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now + i, "message": m} for i, m in enumerate(messages)])

    def test_groups_and_streams(self):
        self.logs.create_log_group(logGroupName="/app/one")
        self.logs.create_log_group(logGroupName="/app/two")
        self.error("ResourceAlreadyExistsException", self.logs.create_log_group,
                   logGroupName="/app/one")
        names = [g["logGroupName"] for g in
                 self.logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]]
        self.assertEqual(names, ["/app/one", "/app/two"])
        page = self.logs.describe_log_groups(logGroupNamePrefix="/app/", limit=1)
        self.assertEqual(len(page["logGroups"]), 1)
        rest = self.logs.describe_log_groups(logGroupNamePrefix="/app/", nextToken=page["nextToken"])
        self.assertEqual([g["logGroupName"] for g in rest["logGroups"]], ["/app/two"])
        for s in ("b-stream", "a-stream", "c-stream"):
            self.logs.create_log_stream(logGroupName="/app/one", logStreamName=s)
        self.error("ResourceAlreadyExistsException", self.logs.create_log_stream,
                   logGroupName="/app/one", logStreamName="a-stream")
        self.put("/app/one", "b-stream", ["late"], start=int(time.time() * 1000))
        self.put("/app/one", "c-stream", ["early"], start=int(time.time() * 1000) - 60_000)
        by_name = self.logs.describe_log_streams(logGroupName="/app/one")["logStreams"]
        self.assertEqual([s["logStreamName"] for s in by_name], ["a-stream", "b-stream", "c-stream"])
        by_time = self.logs.describe_log_streams(logGroupName="/app/one", orderBy="LastEventTime",
                                                 descending=True)["logStreams"]
        self.assertEqual([s["logStreamName"] for s in by_time][:2], ["b-stream", "c-stream"])
        self.assertIn("lastEventTimestamp", by_time[0])
        self.error("InvalidParameterException", self.logs.describe_log_streams,
                   logGroupName="/app/one", orderBy="LastEventTime", logStreamNamePrefix="a")
        self.error("ResourceNotFoundException", self.logs.describe_log_streams,
                   logGroupName="/app/none")
        self.error("ResourceNotFoundException", self.logs.put_log_events, logGroupName="/app/one",
                   logStreamName="absent", logEvents=[{"timestamp": 1, "message": "x"}])
        self.logs.delete_log_stream(logGroupName="/app/one", logStreamName="a-stream")
        self.error("ResourceNotFoundException", self.logs.delete_log_stream,
                   logGroupName="/app/one", logStreamName="a-stream")
        self.logs.delete_log_group(logGroupName="/app/two")
        self.error("ResourceNotFoundException", self.logs.delete_log_group, logGroupName="/app/two")
        _, out, _ = self.server.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/app")
        self.assertEqual([g["logGroupName"] for g in out["logGroups"]], ["/app/one"])

    def test_put_log_events_rules(self):
        self.logs.create_log_group(logGroupName="/put/rules")
        self.logs.create_log_stream(logGroupName="/put/rules", logStreamName="s")
        now = int(time.time() * 1000)
        self.error("InvalidParameterException", self.logs.put_log_events, logGroupName="/put/rules",
                   logStreamName="s", logEvents=[{"timestamp": now, "message": "b"},
                                                 {"timestamp": now - 5, "message": "a"}])
        r = self.logs.put_log_events(logGroupName="/put/rules", logStreamName="s", logEvents=[
            {"timestamp": now - 30 * 86_400_000, "message": "ancient"},
            {"timestamp": now, "message": "fine"},
            {"timestamp": now + 5 * 3_600_000, "message": "future"}])
        self.assertEqual(r["rejectedLogEventsInfo"],
                         {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2})
        events = self.logs.get_log_events(logGroupName="/put/rules", logStreamName="s",
                                          startFromHead=True)["events"]
        self.assertEqual([e["message"] for e in events], ["fine"])

    def test_filter_patterns_match_exactly(self):
        self.logs.create_log_group(logGroupName="/filter/g")
        self.logs.create_log_stream(logGroupName="/filter/g", logStreamName="s1")
        self.logs.create_log_stream(logGroupName="/filter/g", logStreamName="s2")
        self.put("/filter/g", "s1", MESSAGES[:4])
        self.put("/filter/g", "s2", MESSAGES[4:])

        def matching(pattern, **kw):
            events = self.logs.filter_log_events(logGroupName="/filter/g", filterPattern=pattern,
                                                 **kw)["events"]
            return sorted(e["message"] for e in events)

        def expect(*indexes):
            return sorted(MESSAGES[i] for i in indexes)

        self.assertEqual(matching(""), expect(*range(8)))
        self.assertEqual(matching("ERROR"), expect(1, 3, 4))
        self.assertEqual(matching("ERROR disk"), expect(1))
        self.assertEqual(matching('"Out of memory"'), expect(7))
        self.assertEqual(matching("ERROR -retry"), expect(1, 4))
        self.assertEqual(matching("?WARN ?memory"), expect(2, 6, 7))
        self.assertEqual(matching('{ $.level = "ERROR" }'), expect(4))
        self.assertEqual(matching("{ $.latency > 50 }"), expect(4, 6))
        self.assertEqual(matching('{ $.user.id = "u-1" && $.latency < 100 }'), expect(6))
        self.assertEqual(matching('{ ($.level = "INFO") || ($.flag IS TRUE) }'), expect(5, 6))
        self.assertEqual(matching("{ $.flag NOT EXISTS }"), expect(4, 5))
        self.assertEqual(matching('{ $.level = "W*" }'), expect(6))
        self.assertEqual(matching("ERROR", logStreamNames=["s1"]), expect(1, 3))
        self.assertEqual(matching("ERROR", logStreamNamePrefix="s2"), expect(4))
        self.error("InvalidParameterException", self.logs.filter_log_events,
                   logGroupName="/filter/g", filterPattern="{ $.level = }")
        self.error("ResourceNotFoundException", self.logs.filter_log_events,
                   logGroupName="/filter/none")
        _, out, _ = self.server.aws("logs", "filter-log-events", "--log-group-name", "/filter/g",
                                    "--filter-pattern", "{ $.latency >= 99 }")
        self.assertEqual(sorted(e["message"] for e in out["events"]), expect(4, 6))

    def test_pagination_never_repeats_or_drops(self):
        self.logs.create_log_group(logGroupName="/page/g")
        base = int(time.time() * 1000) - 100_000
        expected = []
        for s in range(3):
            self.logs.create_log_stream(logGroupName="/page/g", logStreamName="s%d" % s)
            events = [{"timestamp": base + i * 3 + s, "message": "s%d-%04d" % (s, i)}
                      for i in range(800)]
            # Same timestamps across streams too: the cursor must order ties by event id.
            events += [{"timestamp": base + 5000, "message": "s%d-tie-%d" % (s, i)}
                       for i in range(20)]
            self.logs.put_log_events(logGroupName="/page/g", logStreamName="s%d" % s,
                                     logEvents=events)
            expected += [e["message"] for e in events]
        seen, ids, token, pages = [], set(), None, 0
        while True:
            kw = {"nextToken": token} if token else {}
            r = self.logs.filter_log_events(logGroupName="/page/g", limit=97, **kw)
            pages += 1
            for e in r["events"]:
                self.assertNotIn(e["eventId"], ids)
                ids.add(e["eventId"])
                seen.append(e)
            token = r.get("nextToken")
            if not token:
                break
        self.assertEqual(sorted(e["message"] for e in seen), sorted(expected))
        self.assertEqual([e["timestamp"] for e in seen], sorted(e["timestamp"] for e in seen))
        self.assertGreater(pages, 20)
        # The CLI's own paginator agrees.
        _, out, _ = self.server.aws("logs", "filter-log-events", "--log-group-name", "/page/g",
                                    "--page-size", "250")
        self.assertEqual(len(out["events"]), len(expected))

        # GetLogEvents: forward from the head, then backward from the end, by tokens.
        forward, token = [], None
        while True:
            kw = {"nextToken": token} if token else {"startFromHead": True}
            r = self.logs.get_log_events(logGroupName="/page/g", logStreamName="s1", limit=64, **kw)
            forward += [e["message"] for e in r["events"]]
            if r["nextForwardToken"] == token:
                break
            token = r["nextForwardToken"]
        self.assertEqual(forward, ["s1-%04d" % i for i in range(800)] +
                         ["s1-tie-%d" % i for i in range(20)])
        backward, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            r = self.logs.get_log_events(logGroupName="/page/g", logStreamName="s1", limit=64, **kw)
            backward = [e["message"] for e in r["events"]] + backward
            if r["nextBackwardToken"] == token:
                break
            token = r["nextBackwardToken"]
        self.assertEqual(backward, forward)

    def test_retention_deletes_old_events(self):
        self.logs.create_log_group(logGroupName="/ret/g")
        self.logs.create_log_stream(logGroupName="/ret/g", logStreamName="s")
        now = int(time.time() * 1000)
        self.logs.put_log_events(logGroupName="/ret/g", logStreamName="s", logEvents=[
            {"timestamp": now - 5 * 86_400_000, "message": "five days old"},
            {"timestamp": now - 2 * 86_400_000, "message": "two days old"},
            {"timestamp": now, "message": "new"}])
        self.error("InvalidParameterException", self.unchecked.put_retention_policy,
                   logGroupName="/ret/g", retentionInDays=2)
        self.logs.put_retention_policy(logGroupName="/ret/g", retentionInDays=3)
        group = self.logs.describe_log_groups(logGroupNamePrefix="/ret/g")["logGroups"][0]
        self.assertEqual(group["retentionInDays"], 3)
        msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName="/ret/g")["events"]]
        self.assertEqual(msgs, ["two days old", "new"])
        self.logs.put_retention_policy(logGroupName="/ret/g", retentionInDays=1)
        msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName="/ret/g")["events"]]
        self.assertEqual(msgs, ["new"])
        self.logs.delete_retention_policy(logGroupName="/ret/g")
        group = self.logs.describe_log_groups(logGroupNamePrefix="/ret/g")["logGroups"][0]
        self.assertNotIn("retentionInDays", group)


JSON_APP = r'''
import logging
logger = logging.getLogger()
def handler(event, context):
    logger.info("info line")
    logger.error("error line")
    return {}
'''


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class JsonLogFormat(unittest.TestCase):
    """LoggingConfig LogFormat JSON: platform.* records and JSON application logs, with levels."""

    def test_platform_records_and_levels(self):
        import base64
        server = Server().start()
        try:
            client = server.lambda_client()
            # Debian's botocore model predates LoggingConfig: send the request as JSON directly.
            status, _, body = server.raw("POST", "/2015-03-31/functions", json.dumps({
                "FunctionName": "jl", "Runtime": "python3.11", "Handler": "app.handler",
                "Role": ROLE, "Code": {"ZipFile": base64.b64encode(
                    make_zip({"app.py": JSON_APP})).decode()},
                "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/custom/jl"}}).encode())
            self.assertEqual(status, 201, body)

            def tail():
                r = client.invoke(FunctionName="jl", LogType="Tail", Payload=b"{}")
                return [json.loads(line) for line in
                        base64.b64decode(r["LogResult"]).decode().splitlines() if line]

            records = tail()
            types = [r.get("type") for r in records]
            self.assertEqual(types[0], "platform.start")
            self.assertEqual(types[-2:], ["platform.runtimeDone", "platform.report"])
            report = records[-1]["record"]
            self.assertEqual(report["status"], "success")
            self.assertIn("initDurationMs", report["metrics"])
            self.assertEqual(report["metrics"]["memorySizeMB"], 128)
            app = [r for r in records if "level" in r]
            self.assertEqual([(r["level"], r["message"]) for r in app],
                             [("INFO", "info line"), ("ERROR", "error line")])
            self.assertTrue(all(r["requestId"] == records[0]["record"]["requestId"] for r in app))
            # Levels: application ERROR and system WARN leave only the error line.
            status, _, body = server.raw(
                "PUT", "/2015-03-31/functions/jl/configuration", json.dumps({"LoggingConfig": {
                    "LogFormat": "JSON", "ApplicationLogLevel": "ERROR", "SystemLogLevel": "WARN",
                    "LogGroup": "/custom/jl"}}).encode())
            self.assertEqual(status, 200, body)
            client.get_waiter("function_updated_v2").wait(FunctionName="jl")
            records = tail()
            self.assertEqual([(r.get("level"), r.get("message")) for r in records],
                             [("ERROR", "error line")])
            # The custom log group holds them.
            logs = boto3.client("logs", endpoint_url=server.endpoint, region_name=REGION)
            time.sleep(0.3)
            events = logs.filter_log_events(logGroupName="/custom/jl",
                                            filterPattern='{ $.type = "platform.report" }')["events"]
            self.assertEqual(len(events), 1)
        finally:
            server.close()


class LogsDurability(unittest.TestCase):
    def test_events_survive_kill_9(self):
        server = Server().start()
        try:
            logs = boto3.client("logs", endpoint_url=server.endpoint, region_name=REGION)
            logs.create_log_group(logGroupName="/dur/g")
            logs.create_log_stream(logGroupName="/dur/g", logStreamName="s")
            now = int(time.time() * 1000)
            logs.put_log_events(logGroupName="/dur/g", logStreamName="s", logEvents=[
                {"timestamp": now + i, "message": "m%d" % i} for i in range(100)])
            server.kill9()
            server.start()
            logs = boto3.client("logs", endpoint_url=server.endpoint, region_name=REGION)
            events = logs.get_log_events(logGroupName="/dur/g", logStreamName="s",
                                         startFromHead=True)["events"]
            self.assertEqual([e["message"] for e in events], ["m%d" % i for i in range(100)])
        finally:
            server.close()


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Tail(unittest.TestCase):
    def test_aws_logs_tail_follow_shows_new_invocations(self):
        server = Server().start()
        tail = None
        try:
            client = server.lambda_client()
            client.create_function(
                FunctionName="tail-fn", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n"
                                                     "    print('marker', event['m'])\n"
                                                     "    return 1\n"})})
            client.invoke(FunctionName="tail-fn", Payload=b'{"m": "first"}')
            tail = subprocess.Popen([AWS_CLI, "--endpoint-url", server.endpoint, "logs", "tail",
                                     "/aws/lambda/tail-fn", "--follow", "--since", "10m",
                                     "--format", "short"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            lines = []
            reader = threading.Thread(target=lambda: lines.extend(iter(tail.stdout.readline, "")),
                                      daemon=True)
            reader.start()

            def wait_for(text, timeout):
                deadline = time.time() + timeout
                while time.time() < deadline:
                    if any(text in line for line in lines):
                        return True
                    time.sleep(0.1)
                return False

            self.assertTrue(wait_for("marker first", 20), lines)
            time.sleep(1)
            sent = time.time()
            client.invoke(FunctionName="tail-fn", Payload=b'{"m": "second"}')
            self.assertTrue(wait_for("marker second", 15), lines)
            # The CLI polls every 5 s: a new line shows within one poll (plus slack).
            self.assertLess(time.time() - sent, 12)
            self.assertTrue(any(line.split(" ", 1)[1].startswith("REPORT RequestId:")
                                for line in lines if " " in line), lines)
            # Each event once, though the follow loop re-reads the newest timestamp.
            self.assertEqual(sum("marker first" in line for line in lines), 1)
        finally:
            if tail:
                tail.kill()
                tail.wait()
            server.close()


if __name__ == "__main__":
    unittest.main()

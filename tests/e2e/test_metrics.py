"""The metrics Lambda reports, after a known mix of invocations (synchronous successes, errors and
throttles; asynchronous events, one of which fails into a dead-letter queue and an OnFailure queue
that are gone), through the three ways out:
Prometheus text at /metrics, `aws cloudwatch get-metric-statistics` (the CLI) and GetMetricData /
ListMetrics (boto3's CloudWatch client). Also across a restart (they are stored per minute)."""

import concurrent.futures
import datetime
import json
import re
import time
import unittest
import urllib.request

import boto3
from botocore.exceptions import ClientError

from harness import REGION, ROLE, Server, make_zip, sandbox_supported

APP = r'''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
'''

N_OK, N_ERR, N_THROTTLED = 6, 3, 4
N_ASYNC_OK = 2


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.client = cls.server.lambda_client(pool=10)
        cls.cw = boto3.client("cloudwatch", endpoint_url=cls.server.endpoint, region_name=REGION)
        cls.start = datetime.datetime.utcnow() - datetime.timedelta(minutes=2)
        c = cls.client
        c.create_function(FunctionName="met-fn", Runtime="python3.11", Handler="app.handler",
                          Role=ROLE, Code={"ZipFile": make_zip({"app.py": APP})}, Timeout=30,
                          Publish=True)
        c.create_alias(FunctionName="met-fn", Name="live", FunctionVersion="1")
        # The mix: successes (three of them at once, through the alias), errors, throttles.
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            list(ex.map(lambda _: c.invoke(FunctionName="met-fn", Qualifier="live",
                                           Payload=b'{"sleep": 1}'), range(3)))
        for _ in range(N_OK - 3):
            c.invoke(FunctionName="met-fn", Payload=b"{}")
        for _ in range(N_ERR):
            r = c.invoke(FunctionName="met-fn", Payload=b'{"fail": true}')
            assert r.get("FunctionError") == "Unhandled"
        c.put_function_concurrency(FunctionName="met-fn", ReservedConcurrentExecutions=0)
        once = cls.server.lambda_client(retries=0)  # botocore would retry a 429 otherwise
        for _ in range(N_THROTTLED):
            try:
                once.invoke(FunctionName="met-fn", Payload=b"{}")
                raise AssertionError("expected a throttle")
            except ClientError as e:
                assert e.response["Error"]["Code"] == "TooManyRequestsException"
        c.delete_function_concurrency(FunctionName="met-fn")
        # Asynchronous: N_ASYNC_OK events run fine; one fails (no retries) and can reach neither
        # its dead-letter queue nor its OnFailure queue, both deleted.
        sqs = boto3.client("sqs", endpoint_url=cls.server.endpoint, region_name=REGION)
        urls = [sqs.create_queue(QueueName=q)["QueueUrl"] for q in ("met-dlq", "met-failed")]
        arn = "arn:aws:sqs:%s:000000000000:%%s" % REGION
        c.create_function(FunctionName="met-async", Runtime="python3.11", Handler="app.handler",
                          Role=ROLE, Code={"ZipFile": make_zip({"app.py": APP})}, Timeout=30,
                          DeadLetterConfig={"TargetArn": arn % "met-dlq"})
        c.put_function_event_invoke_config(
            FunctionName="met-async", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": arn % "met-failed"}})
        for url in urls:
            sqs.delete_queue(QueueUrl=url)
        for _ in range(N_ASYNC_OK):
            c.invoke(FunctionName="met-async", InvocationType="Event", Payload=b"{}")
        c.invoke(FunctionName="met-async", InvocationType="Event", Payload=b'{"fail": true}')
        deadline = time.time() + 60
        while time.time() < deadline:
            text = urllib.request.urlopen(cls.server.endpoint + "/metrics").read().decode()
            if 'lambent_async_events_dropped_total{function="met-async"} 1' in text and \
                    'lambent_invocations_total{function="met-async"} %d' % (N_ASYNC_OK + 1) in text:
                break
            time.sleep(0.2)
        cls.end = datetime.datetime.utcnow() + datetime.timedelta(minutes=2)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def stat(self, metric, statistic, dims=None, cli=False, period=3600):
        dims = dims if dims is not None else {"FunctionName": "met-fn"}
        if cli:
            args = ["cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda",
                    "--metric-name", metric, "--start-time", iso(self.start), "--end-time",
                    iso(self.end), "--period", str(period), "--statistics", statistic]
            if dims:
                args += ["--dimensions"] + ["Name=%s,Value=%s" % kv for kv in dims.items()]
            _, out, _ = self.server.aws(*args)
        else:
            out = self.cw.get_metric_statistics(
                Namespace="AWS/Lambda", MetricName=metric, StartTime=self.start, EndTime=self.end,
                Period=period, Statistics=[statistic],
                Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])
        points = out["Datapoints"]
        if not points:
            return None
        if statistic == "Sum":
            return sum(p["Sum"] for p in points)
        if statistic == "Maximum":
            return max(p["Maximum"] for p in points)
        return points[0][statistic]

    def test_cloudwatch_statistics_through_the_cli(self):
        self.assertEqual(self.stat("Invocations", "Sum", cli=True), N_OK + N_ERR)
        self.assertEqual(self.stat("Errors", "Sum", cli=True), N_ERR)
        self.assertEqual(self.stat("Throttles", "Sum", cli=True), N_THROTTLED)
        self.assertEqual(self.stat("Duration", "SampleCount", cli=True), N_OK + N_ERR)
        self.assertGreaterEqual(self.stat("Duration", "Maximum", cli=True), 1000)
        self.assertEqual(self.stat("ConcurrentExecutions", "Maximum", cli=True), 3)
        # Per Resource (alias) and ExecutedVersion, and account-wide.
        self.assertEqual(self.stat("Invocations", "Sum", {"FunctionName": "met-fn",
                                                          "Resource": "met-fn:live"}, cli=True), 3)
        self.assertEqual(self.stat("Invocations", "Sum", {"FunctionName": "met-fn",
                                                          "ExecutedVersion": "1"}, cli=True), 3)
        # Account-wide: met-fn's and met-async's invocations.
        self.assertEqual(self.stat("Invocations", "Sum", {}, cli=True), N_OK + N_ERR + N_ASYNC_OK + 1)
        self.assertEqual(self.stat("UnreservedConcurrentExecutions", "Maximum", {}, cli=True), 3)

    def test_duration_percentiles_and_minutes(self):
        out = self.cw.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="Duration", StartTime=self.start, EndTime=self.end,
            Period=3600, ExtendedStatistics=["p50", "p99"],
            Dimensions=[{"Name": "FunctionName", "Value": "met-fn"}])
        ext = out["Datapoints"][0]["ExtendedStatistics"]
        self.assertLess(ext["p50"], 1000)  # most were quick
        self.assertGreaterEqual(ext["p99"], 950)  # the sleeping ones, within the 5 % buckets
        by_minute = self.cw.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="Invocations", StartTime=self.start,
            EndTime=self.end, Period=60, Statistics=["Sum"],
            Dimensions=[{"Name": "FunctionName", "Value": "met-fn"}])["Datapoints"]
        self.assertTrue(all(p["Timestamp"].second == 0 for p in by_minute))
        self.assertEqual(sum(p["Sum"] for p in by_minute), N_OK + N_ERR)

    def test_get_metric_data_and_list_metrics(self):
        queries = [{"Id": name.lower(), "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": name,
                       "Dimensions": [{"Name": "FunctionName", "Value": "met-fn"}]},
            "Period": 3600, "Stat": stat}} for name, stat in
            (("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"),
             ("ConcurrentExecutions", "Maximum"))]
        out = self.cw.get_metric_data(MetricDataQueries=queries, StartTime=self.start,
                                      EndTime=self.end)
        values = {r["Id"]: sum(r["Values"]) for r in out["MetricDataResults"]}
        self.assertEqual(values, {"invocations": N_OK + N_ERR, "errors": N_ERR,
                                  "throttles": N_THROTTLED, "concurrentexecutions": 3})
        listed = self.cw.list_metrics(Namespace="AWS/Lambda",
                                      Dimensions=[{"Name": "FunctionName", "Value": "met-fn"}])
        names = {m["MetricName"] for m in listed["Metrics"]}
        self.assertTrue({"Invocations", "Errors", "Throttles", "Duration",
                         "ConcurrentExecutions"} <= names, names)
        with self.assertRaises(ClientError) as cm:
            self.cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations",
                                          StartTime=self.start, EndTime=self.end, Period=61,
                                          Statistics=["Sum"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValue")

    def test_the_json_protocol_the_sdks_speak(self):
        """CloudWatch's JSON 1.0 (X-Amz-Target GraniteServiceVersion20100801.*, what the AWS SDKs
        send since 2025): the same answers, timestamps as epoch seconds, and errors with their
        query codes in x-amzn-query-error (awsQueryCompatible)."""
        def call(op, body):
            return self.server.raw("POST", "/", json.dumps(body).encode(), {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "GraniteServiceVersion20100801." + op})
        start, end = self.start.timestamp(), self.end.timestamp()
        status, headers, body = call("GetMetricData", {
            "StartTime": start, "EndTime": end, "MetricDataQueries": [{
                "Id": "inv", "MetricStat": {"Metric": {
                    "Namespace": "AWS/Lambda", "MetricName": "Invocations",
                    "Dimensions": [{"Name": "FunctionName", "Value": "met-fn"}]},
                    "Period": 3600, "Stat": "Sum"}}]})
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("application/x-amz-json-1.0"))
        result = json.loads(body)["MetricDataResults"][0]
        self.assertEqual((result["Id"], sum(result["Values"])), ("inv", N_OK + N_ERR))
        self.assertTrue(all(isinstance(t, (int, float)) and start - 3600 <= t <= end
                            for t in result["Timestamps"]), result["Timestamps"])
        status, _, body = call("GetMetricStatistics", {
            "Namespace": "AWS/Lambda", "MetricName": "Duration", "StartTime": start, "EndTime": end,
            "Period": 3600, "Statistics": ["Maximum"], "ExtendedStatistics": ["p50"],
            "Dimensions": [{"Name": "FunctionName", "Value": "met-fn"}]})
        self.assertEqual(status, 200, body)
        point = json.loads(body)["Datapoints"][0]
        self.assertEqual(set(point), {"Timestamp", "Maximum", "ExtendedStatistics", "Unit"})
        self.assertIn("p50", point["ExtendedStatistics"])
        status, _, body = call("ListMetrics", {"Namespace": "AWS/Lambda", "MetricName": "Errors"})
        self.assertEqual(status, 200, body)
        self.assertTrue(all(m["MetricName"] == "Errors" for m in json.loads(body)["Metrics"]))
        status, headers, body = call("GetMetricStatistics", {
            "Namespace": "AWS/Lambda", "MetricName": "Invocations", "StartTime": start,
            "EndTime": end, "Period": 61, "Statistics": ["Sum"]})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"],
                         "com.amazonaws.cloudwatch#InvalidParameterValueException")
        self.assertEqual(headers["x-amzn-query-error"], "InvalidParameterValue;Sender")

    def test_prometheus_exposition(self):
        text = urllib.request.urlopen(self.server.endpoint + "/metrics").read().decode()

        def value(pattern):
            m = re.search("^" + re.escape(pattern) + r" (\S+)$", text, re.M)
            self.assertIsNotNone(m, pattern + "\n" + text)
            return float(m.group(1))

        self.assertEqual(value('lambent_invocations_total{function="met-fn"}'), N_OK + N_ERR)
        self.assertEqual(value('lambent_errors_total{function="met-fn"}'), N_ERR)
        self.assertEqual(value('lambent_throttles_total{function="met-fn"}'), N_THROTTLED)
        self.assertEqual(value('lambent_duration_seconds_count{function="met-fn"}'), N_OK + N_ERR)
        self.assertEqual(value('lambent_duration_seconds_bucket{function="met-fn",le="+Inf"}'),
                         N_OK + N_ERR)
        self.assertGreaterEqual(value('lambent_duration_seconds_sum{function="met-fn"}'), 3.0)
        self.assertEqual(value('lambent_concurrent_executions{function="met-fn"}'), 0)
        self.assertEqual(value("lambent_unreserved_concurrent_executions"), 0)
        self.assertEqual(value("lambent_account_concurrent_executions"), 0)
        self.assertGreater(value("process_resident_memory_bytes"), 0)
        self.assertGreater(value("process_open_fds"), 0)

    def test_async_and_dead_letter_metrics(self):
        dims = {"FunctionName": "met-async"}
        expected = {"AsyncEventsReceived": N_ASYNC_OK + 1, "AsyncEventsDropped": 1,
                    "DeadLetterErrors": 1, "DestinationDeliveryFailures": 1,
                    "Invocations": N_ASYNC_OK + 1, "Errors": 1}
        for metric, want in expected.items():
            self.assertEqual(self.stat(metric, "Sum", dims, cli=True), want, metric)
        self.assertEqual(self.stat("AsyncEventAge", "SampleCount", dims), N_ASYNC_OK + 1)
        queries = [{"Id": name.lower(), "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": name,
                       "Dimensions": [{"Name": "FunctionName", "Value": "met-async"}]},
            "Period": 3600, "Stat": "Sum"}} for name in expected]
        out = self.cw.get_metric_data(MetricDataQueries=queries, StartTime=self.start,
                                      EndTime=self.end)
        self.assertEqual({r["Id"]: sum(r["Values"]) for r in out["MetricDataResults"]},
                         {k.lower(): v for k, v in expected.items()})
        text = urllib.request.urlopen(self.server.endpoint + "/metrics").read().decode()
        for name, want in (("lambent_async_events_received_total", N_ASYNC_OK + 1),
                           ("lambent_async_events_dropped_total", 1),
                           ("lambent_dead_letter_errors_total", 1),
                           ("lambent_destination_delivery_failures_total", 1),
                           ("lambent_async_event_age_milliseconds_count", N_ASYNC_OK + 1)):
            m = re.search("^%s\\{function=\"met-async\"\\} (\\S+)$" % name, text, re.M)
            self.assertIsNotNone(m, name + "\n" + text)
            self.assertEqual(float(m.group(1)), want, name)

    def test_zz_metrics_survive_a_restart(self):
        self.server.restart()
        type(self).cw = boto3.client("cloudwatch", endpoint_url=self.server.endpoint,
                                     region_name=REGION)
        type(self).client = self.server.lambda_client(pool=10)
        self.assertEqual(self.stat("Invocations", "Sum"), N_OK + N_ERR)
        self.assertEqual(self.stat("Throttles", "Sum"), N_THROTTLED)


if __name__ == "__main__":
    unittest.main()

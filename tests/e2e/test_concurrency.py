"""Concurrency controls through boto3, the aws CLI v2 and raw HTTP: reserved concurrency and the
unreserved minimum, throttling with AWS's Reason and Retry-After, the account limit, and
provisioned concurrency (initialized ahead, READY, first in line, kept warm, spilling over)."""

import base64
import concurrent.futures
import datetime
import json
import re
import time
import unittest
import urllib.request

import boto3

from harness import REGION, ROLE, Server, ServerTestCase, make_zip, sandbox_supported

SLEEPER = r'''
import os, time
def handler(event, context):
    if event.get("exit"):
        os._exit(3)  # the environment dies with the invocation
    time.sleep(event.get("sleep", 0))
    return {"stream": context.log_stream_name,
            "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
'''


def sleeper_zip():
    return make_zip({"app.py": SLEEPER})


class ConcurrencySettings(unittest.TestCase):
    """The control plane, on a node whose account limit is 150."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start("--memory-budget-mb", "64000", "--concurrency-limit", "150")
        cls.client = cls.server.lambda_client()
        for name in ("cc-a", "cc-b"):
            cls.client.create_function(FunctionName=name, Runtime="python3.11",
                                       Handler="app.handler", Role=ROLE,
                                       Code={"ZipFile": sleeper_zip()})

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    assertAwsError = ServerTestCase.assertAwsError

    def test_reservations_leave_the_unreserved_minimum(self):
        s = self.client.get_account_settings()["AccountLimit"]
        self.assertEqual((s["ConcurrentExecutions"], s["UnreservedConcurrentExecutions"]), (150, 150))
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.client.get_function_concurrency(FunctionName="cc-a"))
        r = self.client.put_function_concurrency(FunctionName="cc-a", ReservedConcurrentExecutions=30)
        self.assertEqual(r["ReservedConcurrentExecutions"], 30)
        self.assertEqual(self.client.get_function_concurrency(FunctionName="cc-a")
                         ["ReservedConcurrentExecutions"], 30)
        self.assertEqual(self.client.get_function(FunctionName="cc-a")["Concurrency"],
                         {"ReservedConcurrentExecutions": 30})
        self.assertEqual(self.client.get_account_settings()["AccountLimit"]
                         ["UnreservedConcurrentExecutions"], 120)
        # 150 - 30 - 21 = 99 < 100: refused, nothing changes.
        err = self.assertAwsError("InvalidParameterValueException", 400,
                                  self.client.put_function_concurrency, FunctionName="cc-b",
                                  ReservedConcurrentExecutions=21)
        self.assertIn("minimum value of [100]", err["Error"]["Message"])
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.client.get_function_concurrency(FunctionName="cc-b"))
        self.client.put_function_concurrency(FunctionName="cc-b", ReservedConcurrentExecutions=20)
        # Raising a function's own reservation counts only the others.
        self.client.put_function_concurrency(FunctionName="cc-a", ReservedConcurrentExecutions=30)
        _, out, _ = self.server.aws("lambda", "get-account-settings")
        self.assertEqual(out["AccountLimit"]["UnreservedConcurrentExecutions"], 100)
        self.assertAwsError("ValidationException", 400,
                            self.server.lambda_client(validate=False).put_function_concurrency,
                            FunctionName="cc-a", ReservedConcurrentExecutions=-1)
        self.server.aws("lambda", "delete-function-concurrency", "--function-name", "cc-b")
        self.client.delete_function_concurrency(FunctionName="cc-a")
        self.assertEqual(self.client.get_account_settings()["AccountLimit"]
                         ["UnreservedConcurrentExecutions"], 150)
        self.assertAwsError("ResourceNotFoundException", 404, self.client.put_function_concurrency,
                            FunctionName="cc-none", ReservedConcurrentExecutions=1)

    def test_provisioned_configuration_rules(self):
        self.client.publish_version(FunctionName="cc-b")
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.put_provisioned_concurrency_config, FunctionName="cc-b",
                            Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.put_provisioned_concurrency_config, FunctionName="cc-b",
                            Qualifier="9", ProvisionedConcurrentExecutions=1)
        self.assertAwsError("ProvisionedConcurrencyConfigNotFoundException", 404,
                            self.client.get_provisioned_concurrency_config, FunctionName="cc-b",
                            Qualifier="1")
        unchecked = self.server.lambda_client(validate=False)
        self.assertAwsError("ValidationException", 400,
                            unchecked.put_provisioned_concurrency_config, FunctionName="cc-b",
                            Qualifier="1", ProvisionedConcurrentExecutions=0)
        self.assertEqual(self.client.list_provisioned_concurrency_configs(FunctionName="cc-b")
                         ["ProvisionedConcurrencyConfigs"], [])


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Throttling(unittest.TestCase):
    def setUp(self):
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()

    def start(self, *args):
        self.server = Server().start(*args)
        self.client = self.server.lambda_client(pool=50)

    def create(self, name, memory=128):
        self.client.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                    Role=ROLE, Code={"ZipFile": sleeper_zip()}, Timeout=30,
                                    MemorySize=memory)

    def raw_invoke(self, name, sleep):
        status, headers, body = self.server.raw(
            "POST", "/2015-03-31/functions/%s/invocations" % name,
            json.dumps({"sleep": sleep}).encode())
        return status, headers, json.loads(body)

    def test_reserved_concurrency_throttles_with_the_reason(self):
        self.start()
        self.create("thr-res")
        self.create("thr-other")
        self.client.put_function_concurrency(FunctionName="thr-res", ReservedConcurrentExecutions=2)
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            calls = [ex.submit(self.raw_invoke, "thr-res", 3) for _ in range(5)]
            time.sleep(1)
            # Other functions keep their own capacity meanwhile.
            others = [ex.submit(self.raw_invoke, "thr-other", 0) for _ in range(2)]
            results = [c.result() for c in calls]
            self.assertEqual([o.result()[0] for o in others], [200, 200])
        ok = [r for r in results if r[0] == 200]
        throttled = [r for r in results if r[0] == 429]
        self.assertEqual((len(ok), len(throttled)), (2, 3), [r[0] for r in results])
        self.assertEqual(len({r[2]["stream"] for r in ok}), 2)
        for status, headers, body in throttled:
            self.assertEqual(headers["x-amzn-errortype"], "TooManyRequestsException")
            self.assertEqual(body["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded")
            self.assertEqual(body["message"], "Rate Exceeded.")
            self.assertIn("retry-after", headers)
        # boto3 surfaces the same error and Reason.
        self.client.put_function_concurrency(FunctionName="thr-res", ReservedConcurrentExecutions=0)
        err = ServerTestCase.assertAwsError(self, "TooManyRequestsException", 429,
                                            self.client.invoke, FunctionName="thr-res",
                                            Payload=b"{}")
        self.assertEqual(err["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded")
        # Lifting the reservation restores service.
        self.client.delete_function_concurrency(FunctionName="thr-res")
        self.assertEqual(self.raw_invoke("thr-res", 0)[0], 200)

    def test_account_limit_throttles_unreserved_functions(self):
        # An account limit of 100 (the unreserved floor): 100 invocations in flight at once, then
        # the next one is throttled with the account-level Reason.
        self.start("--memory-budget-mb", "14000", "--concurrency-limit", "100")
        self.create("thr-acct")
        # 105 overlapping invocations (each sleeps 20 s, so all arrive before any ends -- on a
        # loaded 2-core CI machine the arrivals spread over more than 8 s while 100 environments
        # start, and a late one then reused a finished environment): exactly 100 run, 5 are
        # throttled with the account-level Reason.
        with concurrent.futures.ThreadPoolExecutor(105) as ex:
            results = list(ex.map(lambda _: self.raw_invoke("thr-acct", 20), range(105)))
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200] * 100 + [429] * 5)
        for status, headers, body in results:
            if status == 429:
                self.assertEqual(body["Reason"], "ConcurrentInvocationLimitExceeded")
        self.assertEqual(len({r[2]["stream"] for r in results if r[0] == 200}), 100)


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Provisioned(unittest.TestCase):
    def setUp(self):
        self.server = Server().start("--keep-alive", "1")
        self.client = self.server.lambda_client(pool=10)

    def tearDown(self):
        self.server.close()

    def wait_status(self, name, qualifier, want, timeout=60):
        deadline = time.time() + timeout
        while True:
            c = self.client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
            if c["Status"] == want or time.time() > deadline:
                return c
            time.sleep(0.2)

    def invoke(self, name, qualifier, sleep=0):
        r = self.client.invoke(FunctionName=name, Qualifier=qualifier, LogType="Tail",
                               Payload=json.dumps({"sleep": sleep}).encode())
        body = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, body)
        return body, base64.b64decode(r["LogResult"]).decode()

    def test_provisioned_environments_are_ready_first_and_kept_warm(self):
        self.client.create_function(FunctionName="pc-fn", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE, Timeout=30,
                                    Code={"ZipFile": sleeper_zip()}, Publish=True)
        self.client.create_alias(FunctionName="pc-fn", Name="live", FunctionVersion="1")
        put = self.client.put_provisioned_concurrency_config(
            FunctionName="pc-fn", Qualifier="live", ProvisionedConcurrentExecutions=3)
        self.assertEqual(put["RequestedProvisionedConcurrentExecutions"], 3)
        self.assertIn(put["Status"], ("IN_PROGRESS", "READY"))
        ready = self.wait_status("pc-fn", "live", "READY")
        self.assertEqual(ready["Status"], "READY", ready)
        self.assertEqual(ready["AvailableProvisionedConcurrentExecutions"], 3)
        self.assertEqual(ready["AllocatedProvisionedConcurrentExecutions"], 3)
        listed = self.client.list_provisioned_concurrency_configs(FunctionName="pc-fn")
        self.assertEqual([c["FunctionArn"].rsplit(":", 1)[1] for c in
                          listed["ProvisionedConcurrencyConfigs"]], ["live"])
        # A version and an alias pointing at it cannot both have a configuration.
        ServerTestCase.assertAwsError(self, "ResourceConflictException", 409,
                                      self.client.put_provisioned_concurrency_config,
                                      FunctionName="pc-fn", Qualifier="1",
                                      ProvisionedConcurrentExecutions=1)

        # Three concurrent invocations land in the three ready environments: no Init Duration.
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            outs = list(ex.map(lambda _: self.invoke("pc-fn", "live", 1), range(3)))
        streams = {body["stream"] for body, _ in outs}
        self.assertEqual(len(streams), 3)
        for body, log in outs:
            self.assertEqual(body["init"], "provisioned-concurrency")
            self.assertIn("REPORT RequestId:", log)
            self.assertNotIn("Init Duration", log)
        # What they report: ProvisionedConcurrentExecutions (busy at the end of each provisioned
        # invocation) and ProvisionedConcurrencyUtilization (busy / 3), in CloudWatch and /metrics.
        cw = boto3.client("cloudwatch", endpoint_url=self.server.endpoint, region_name=REGION)
        now = datetime.datetime.utcnow()

        def maximum(metric):
            out = cw.get_metric_statistics(
                Namespace="AWS/Lambda", MetricName=metric, Period=3600, Statistics=["Maximum"],
                StartTime=now - datetime.timedelta(minutes=5), EndTime=now + datetime.timedelta(minutes=5),
                Dimensions=[{"Name": "FunctionName", "Value": "pc-fn"},
                            {"Name": "Resource", "Value": "pc-fn:live"}])
            return max(p["Maximum"] for p in out["Datapoints"])
        busy = maximum("ProvisionedConcurrentExecutions")
        self.assertIn(busy, (1, 2, 3))
        self.assertAlmostEqual(maximum("ProvisionedConcurrencyUtilization"), busy / 3)
        text = urllib.request.urlopen(self.server.endpoint + "/metrics").read().decode()
        self.assertRegex(text, r'(?m)^lambent_provisioned_concurrency_utilization\{function="pc-fn",'
                               r'resource="pc-fn:live"\} (0\.[0-9]+|1)$')

        # They survive idle reaping (keep-alive is 1 s here).
        time.sleep(3)
        body, log = self.invoke("pc-fn", "live")
        self.assertIn(body["stream"], streams)
        self.assertNotIn("Init Duration", log)

        # Beyond them, invocations spill over to on-demand environments.
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            outs = list(ex.map(lambda _: self.invoke("pc-fn", "live", 1), range(4)))
        kinds = sorted(body["init"] for body, _ in outs)
        self.assertEqual(kinds, ["on-demand"] + ["provisioned-concurrency"] * 3)
        cold = [log for body, log in outs if body["init"] == "on-demand"][0]
        self.assertIn("Init Duration", cold)

        self.client.delete_provisioned_concurrency_config(FunctionName="pc-fn", Qualifier="live")
        ServerTestCase.assertAwsError(self, "ProvisionedConcurrencyConfigNotFoundException", 404,
                                      self.client.get_provisioned_concurrency_config,
                                      FunctionName="pc-fn", Qualifier="live")

    def test_a_weighted_alias_splits_its_environments_between_its_versions(self):
        self.client.create_function(FunctionName="pc-split", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE,
                                    Code={"ZipFile": sleeper_zip()}, Publish=True)
        self.client.update_function_configuration(FunctionName="pc-split", Timeout=20)
        self.client.get_waiter("function_updated_v2").wait(FunctionName="pc-split")
        self.client.publish_version(FunctionName="pc-split")
        self.client.create_alias(FunctionName="pc-split", Name="live", FunctionVersion="2",
                                 RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
        self.client.put_provisioned_concurrency_config(FunctionName="pc-split", Qualifier="live",
                                                       ProvisionedConcurrentExecutions=4)
        ready = self.wait_status("pc-split", "live", "READY")
        self.assertEqual((ready["Status"], ready["AllocatedProvisionedConcurrentExecutions"],
                          ready["AvailableProvisionedConcurrentExecutions"]), ("READY", 4, 4))
        # Both versions have provisioned environments: sequential invocations of either version
        # never start cold.
        seen = set()
        for _ in range(40):
            r = self.client.invoke(FunctionName="pc-split", Qualifier="live", LogType="Tail",
                                   Payload=b"{}")
            body = json.loads(r["Payload"].read())
            self.assertEqual(body["init"], "provisioned-concurrency")
            self.assertNotIn("Init Duration", base64.b64decode(r["LogResult"]).decode())
            seen.add(r["ExecutedVersion"])
        self.assertEqual(seen, {"1", "2"})

    def test_a_provisioned_environment_that_dies_is_replaced(self):
        self.client.create_function(FunctionName="pc-die", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE, Timeout=30,
                                    Code={"ZipFile": sleeper_zip()}, Publish=True)
        self.client.put_provisioned_concurrency_config(FunctionName="pc-die", Qualifier="1",
                                                       ProvisionedConcurrentExecutions=2)
        self.assertEqual(self.wait_status("pc-die", "1", "READY")["Status"], "READY")
        r = self.client.invoke(FunctionName="pc-die", Qualifier="1", Payload=b'{"exit": true}')
        self.assertEqual(r.get("FunctionError"), "Unhandled")
        # One of the two is gone; the scheduler's maintenance starts a replacement.
        deadline = time.time() + 30
        while time.time() < deadline:
            c = self.client.get_provisioned_concurrency_config(FunctionName="pc-die", Qualifier="1")
            if c["AvailableProvisionedConcurrentExecutions"] == 2 and c["Status"] == "READY":
                break
            time.sleep(0.2)
        self.assertEqual((c["Status"], c["AvailableProvisionedConcurrentExecutions"]), ("READY", 2))
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            outs = list(ex.map(lambda _: self.invoke("pc-die", "1", 1), range(2)))
        for body, log in outs:
            self.assertEqual(body["init"], "provisioned-concurrency")
            self.assertNotIn("Init Duration", log)

    def test_provisioned_concurrency_survives_a_restart_and_reports_failures(self):
        self.client.create_function(FunctionName="pc-rs", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE,
                                    Code={"ZipFile": sleeper_zip()}, Publish=True)
        self.client.put_provisioned_concurrency_config(FunctionName="pc-rs", Qualifier="1",
                                                       ProvisionedConcurrentExecutions=2)
        self.assertEqual(self.wait_status("pc-rs", "1", "READY")["Status"], "READY")
        self.server.restart()
        self.client = self.server.lambda_client(pool=10)
        ready = self.wait_status("pc-rs", "1", "READY")
        self.assertEqual(ready["AvailableProvisionedConcurrentExecutions"], 2)
        body, log = self.invoke("pc-rs", "1")
        self.assertEqual(body["init"], "provisioned-concurrency")

        self.client.create_function(FunctionName="pc-bad", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE, Publish=True,
                                    Code={"ZipFile": make_zip({"app.py": "import nonexistent\n"})})
        self.client.put_provisioned_concurrency_config(FunctionName="pc-bad", Qualifier="1",
                                                       ProvisionedConcurrentExecutions=1)
        failed = self.wait_status("pc-bad", "1", "FAILED")
        self.assertEqual(failed["Status"], "FAILED", failed)
        self.assertTrue(re.match(r"FUNCTION_ERROR_INIT_FAILED", failed["StatusReason"]), failed)


if __name__ == "__main__":
    unittest.main()

"""Scheduler behaviour a user notices: idle environments are reaped after the keep-alive, the
node memory budget evicts idle environments least-recently-used, and throttles (429) when busy
environments leave no room."""

import concurrent.futures
import json
import time
import unittest

from botocore.exceptions import ClientError

from harness import ROLE, Server, make_zip, sandbox_supported

APP = r'''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"stream": context.log_stream_name}
'''


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Scheduling(unittest.TestCase):
    def start(self, *args):
        self.server = Server().start(*args)
        self.client = self.server.lambda_client(pool=4)
        for name in ("sch-a", "sch-b"):
            self.client.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": APP})},
                                        MemorySize=256, Timeout=10)

    def tearDown(self):
        if self.server:
            self.server.close()

    def setUp(self):
        self.server = None

    def stream(self, name, sleep=0):
        r = self.client.invoke(FunctionName=name, Payload=json.dumps({"sleep": sleep}).encode())
        return json.loads(r["Payload"].read())["stream"]

    def test_idle_environments_are_reaped_after_the_keep_alive(self):
        self.start("--keep-alive", "1")
        first = self.stream("sch-a")
        self.assertEqual(self.stream("sch-a"), first)  # warm
        time.sleep(3)  # keep-alive 1 s, reaper ticks every second
        self.assertNotEqual(self.stream("sch-a"), first)

    def test_memory_budget_evicts_least_recently_used_then_throttles(self):
        self.start("--memory-budget-mb", "600")  # default keep-alive: nothing is reaped here
        a1 = self.stream("sch-a")
        b1 = self.stream("sch-b")  # 512 MB live of 600
        # A third 256 MB environment does not fit: the idle sch-a (least recently used) is evicted.
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            busy_b = ex.submit(self.stream, "sch-b", 2)
            time.sleep(0.5)
            b2 = self.stream("sch-b")  # sch-b's warm one is busy: a new one, evicting sch-a
            self.assertNotIn(b2, (b1,))
            busy_b.result()
        self.assertNotEqual(self.stream("sch-a"), a1)  # sch-a was evicted: a cold start
        # Everything busy and no room left: throttled with AWS's error.
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            futures = [ex.submit(self.stream, "sch-b", 2) for _ in range(3)]
            errors = []
            for f in futures:
                try:
                    f.result()
                except ClientError as e:
                    errors.append(e.response)
        self.assertTrue(errors)
        self.assertEqual(errors[0]["Error"]["Code"], "TooManyRequestsException")
        self.assertEqual(errors[0]["ResponseMetadata"]["HTTPStatusCode"], 429)
        self.assertEqual(errors[0]["Reason"], "ConcurrentInvocationLimitExceeded")


if __name__ == "__main__":
    unittest.main()

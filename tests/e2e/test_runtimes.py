"""Runtimes beyond python and node (issue 20). Go: provided.al2023 with a bootstrap built here by
Debian's Go toolchain from tests/e2e/functions/go-runtime-api (it speaks the Runtime API directly;
AWS's aws-lambda-go cannot be fetched here): values, function errors, a panic, a timeout, the
context the API gives, through boto3 and the aws CLI; go1.x refused as AWS refuses it."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ROLE, Server, make_zip, sandbox_supported

HERE = os.path.dirname(os.path.abspath(__file__))


def go_bootstrap():
    """The Go function, built (statically) by Debian's go."""
    work = tempfile.mkdtemp(prefix="lambent-go-")
    try:
        env = dict(os.environ, GOCACHE=os.path.join(work, "cache"), GOPATH=os.path.join(work, "path"),
                   CGO_ENABLED="0", GO111MODULE="off", GOFLAGS="")
        out = os.path.join(work, "bootstrap")
        subprocess.run(["go", "build", "-o", out,
                        os.path.join(HERE, "functions", "go-runtime-api", "main.go")],
                       check=True, env=env, capture_output=True, timeout=300)
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
class GoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.lam = cls.server.lambda_client()
        binary = go_bootstrap()
        cls.lam.create_function(FunctionName="go-fn", Runtime="provided.al2023", Handler="bootstrap",
                                Role=ROLE, Timeout=1, MemorySize=256,
                                Code={"ZipFile": make_zip({"bootstrap": binary},
                                                          executable={"bootstrap"})})

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def invoke(self, event):
        r = self.lam.invoke(FunctionName="go-fn", Payload=json.dumps(event).encode())
        return r, json.loads(r["Payload"].read())

    def test_values_and_the_context_the_api_gives(self):
        r, body = self.invoke({"hello": "go"})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(body["echo"], {"hello": "go"})
        self.assertEqual(body["requestId"], r["ResponseMetadata"]["RequestId"])
        self.assertTrue(body["arn"].endswith(":function:go-fn"))
        self.assertEqual((body["function"], body["memory"], body["handler"]),
                         ("go-fn", "256", "bootstrap"))
        self.assertGreater(int(body["deadline"]), 0)
        # The aws CLI the same way.
        out = os.path.join(self.server.tmp, "go-out.json")
        _, meta, _ = self.server.aws("lambda", "invoke", "--function-name", "go-fn",
                                     "--cli-binary-format", "raw-in-base64-out",
                                     "--payload", '{"cli": true}', out)
        self.assertEqual(meta["StatusCode"], 200)
        with open(out) as f:
            self.assertEqual(json.load(f)["echo"], {"cli": True})

    def test_errors_panics_and_timeouts(self):
        r, body = self.invoke({"fail": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("main.CustomError", "asked to fail"))
        r, body = self.invoke({"panic": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertIn("exit status 2", body["errorMessage"])
        r, body = self.invoke({"sleep_ms": 3000})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 1.00 seconds", body["errorMessage"])
        # And it goes on in a new environment.
        self.assertEqual(self.invoke({"again": 1})[1]["echo"], {"again": 1})

    def test_go1x_is_refused_as_aws_refuses_it(self):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            self.lam.create_function(FunctionName="go1", Runtime="go1.x", Handler="main", Role=ROLE,
                                     Code={"ZipFile": make_zip({"main": "x"})})
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "InvalidParameterValueException")
        self.assertIn("The runtime parameter of go1.x is no longer supported", err["Message"])


if __name__ == "__main__":
    unittest.main()

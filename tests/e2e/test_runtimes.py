"""Runtimes beyond python and node (issue 20). Ruby: ruby3.2 (running on the node's Ruby) through
boto3 and the aws CLI — `file.method` and `file.Module::Class.method` handlers called with
`event:` and `context:`, the context object, errors as Function<Class> with a stack trace, Init
errors, a timeout, code from a layer's ruby/lib. Go: provided.al2023 with a bootstrap built here by
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


RUBY = """
require 'helper'

def lambda_handler(event:, context:)
  raise ArgumentError, 'asked to fail' if event['fail']
  sleep(event['sleep']) if event['sleep']
  { 'echo' => event, 'request_id' => context.aws_request_id, 'function' => context.function_name,
    'memory' => context.memory_limit_in_mb, 'remaining' => context.get_remaining_time_in_millis,
    'arn' => context.invoked_function_arn, 'helper' => Helper.greet, 'ruby' => RUBY_VERSION,
    'trace' => ENV['_X_AMZN_TRACE_ID'] }
end

module Shop
  class Orders
    def self.process(event:, context:)
      { 'class_method' => true, 'n' => event['n'] }
    end
  end
end
"""

HELPER = "module Helper\n  def self.greet\n    'from a layer'\n  end\nend\n"


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
class RubyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.lam = cls.server.lambda_client()
        layer = cls.lam.publish_layer_version(
            LayerName="ruby-helper", Content={"ZipFile": make_zip({"ruby/lib/helper.rb": HELPER})},
            CompatibleRuntimes=["ruby3.2"])["LayerVersionArn"]
        code = make_zip({"lambda_function.rb": RUBY})
        for name, handler in (("rb", "lambda_function.lambda_handler"),
                              ("rb-class", "lambda_function.Shop::Orders.process")):
            cls.lam.create_function(FunctionName=name, Runtime="ruby3.2", Handler=handler,
                                    Role=ROLE, Timeout=2, Layers=[layer],
                                    Code={"ZipFile": code})
        cls.lam.create_function(FunctionName="rb-missing", Runtime="ruby3.2",
                                Handler="nothing_here.handler", Role=ROLE,
                                Code={"ZipFile": code})

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def invoke(self, name, event):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        return r, json.loads(r["Payload"].read())

    def test_values_context_and_layers(self):
        r, body = self.invoke("rb", {"hello": "ruby"})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(body["echo"], {"hello": "ruby"})
        self.assertEqual(body["request_id"], r["ResponseMetadata"]["RequestId"])
        self.assertEqual((body["function"], body["memory"]), ("rb", "128"))
        self.assertTrue(0 < body["remaining"] <= 2000)
        self.assertTrue(body["arn"].endswith(":function:rb"))
        self.assertEqual(body["helper"], "from a layer")
        self.assertTrue(body["ruby"].startswith("3."))
        self.assertTrue(body["trace"].startswith("Root=1-"))
        self.assertEqual(self.invoke("rb-class", {"n": 3})[1], {"class_method": True, "n": 3})
        out = os.path.join(self.server.tmp, "rb-out.json")
        _, meta, _ = self.server.aws("lambda", "invoke", "--function-name", "rb",
                                     "--cli-binary-format", "raw-in-base64-out",
                                     "--payload", '{"cli": 1}', out)
        self.assertEqual(meta["StatusCode"], 200)
        with open(out) as f:
            self.assertEqual(json.load(f)["echo"], {"cli": 1})

    def test_errors_init_errors_and_timeouts(self):
        r, body = self.invoke("rb", {"fail": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("Function<ArgumentError>", "asked to fail"))
        self.assertTrue(any("lambda_function.rb" in line for line in body["stackTrace"]))
        r, body = self.invoke("rb-missing", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Init<LoadError>")
        self.assertIn("nothing_here", body["errorMessage"])
        r, body = self.invoke("rb", {"sleep": 3})
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertEqual(self.invoke("rb", {"again": 1})[1]["echo"], {"again": 1})


if __name__ == "__main__":
    unittest.main()

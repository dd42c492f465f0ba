"""Runtimes beyond python and node (issue 20). Ruby: ruby3.2 (running on the node's Ruby) through
boto3 and the aws CLI — `file.method` and `file.Module::Class.method` handlers called with
`event:` and `context:`, the context object, errors as Function<Class> with a stack trace, Init
errors, a timeout, code from a layer's ruby/lib. Go: provided.al2023 with a bootstrap built here by
Debian's Go toolchain from tests/e2e/functions/go-runtime-api (it speaks the Runtime API directly;
AWS's aws-lambda-go cannot be fetched here): values, function errors, a panic, a timeout, the
context the API gives, through boto3 and the aws CLI; go1.x refused as AWS refuses it. Java: java17
functions compiled here with javac against Lambent's aws-lambda-java-core and events jars —
RequestHandler and method handlers with maps, POJOs, strings, numbers, streams and void; the
context; a layer's java/lib jar, the package's lib/*.jar and a fat jar; JAVA_TOOL_OPTIONS;
exceptions, JSON errors and Init errors in AWS's shape; a timeout; and the event classes fed by
Lambent's SQS, SNS, S3, EventBridge and function URLs."""

import base64
import glob
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request
import zipfile

from harness import (ACCOUNT, REGION, ROLE, Server, log_lines, make_zip, sandbox_supported)

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


class RuntimeCalls:
    """Invoking through boto3 and the aws CLI, for the runtimes' test cases (self.lam, self.server)."""

    def invoke(self, name, payload, **kw):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        r = self.lam.invoke(FunctionName=name, Payload=raw, **kw)
        data = r["Payload"].read()
        return r, json.loads(data) if data else None

    def assert_cli_echo(self, name):
        """The aws CLI's invoke of a function that echoes its event under "echo"."""
        out = os.path.join(self.server.tmp, name + "-out.json")
        _, meta, _ = self.server.aws("lambda", "invoke", "--function-name", name,
                                     "--cli-binary-format", "raw-in-base64-out",
                                     "--payload", '{"cli": 1}', out)
        self.assertEqual(meta["StatusCode"], 200)
        with open(out) as f:
            self.assertEqual(json.load(f)["echo"], {"cli": 1})


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
class GoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.lam = cls.server.lambda_client()
        binary = go_bootstrap()
        layer = cls.lam.publish_layer_version(
            LayerName="go-config", Content={"ZipFile": make_zip({"config/greeting.txt": "from a layer"})},
            CompatibleRuntimes=["provided.al2023"])["LayerVersionArn"]
        cls.lam.create_function(FunctionName="go-fn", Runtime="provided.al2023", Handler="bootstrap",
                                Role=ROLE, Timeout=1, MemorySize=256, Layers=[layer],
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
        self.assertEqual((body["function"], body["memory"], body["handler"], body["layer"]),
                         ("go-fn", "256", "bootstrap", "from a layer"))
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
        # The measured time, as AWS prints it: 1.00 s, or a little more on a loaded machine.
        self.assertRegex(body["errorMessage"], r"Task timed out after 1\.\d\d seconds")
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
class RubyTest(RuntimeCalls, unittest.TestCase):
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
        self.assert_cli_echo("rb")

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


JAVA_LIB = os.path.join(HERE, "..", "..", "runtimes", "java", "lib")
JAVA_SRC = os.path.join(HERE, "functions", "java")


def javac(out, sources, classpath):
    subprocess.run(["javac", "--release", "17", "-d", out, "-cp", ":".join(classpath), *sources],
                   check=True, capture_output=True, timeout=300)


def jar_bytes(classes_dirs):
    """A jar (a zip with a manifest) of these class folders, as bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
        for d in classes_dirs:
            for path in glob.glob(os.path.join(d, "**", "*.class"), recursive=True):
                z.write(path, os.path.relpath(path, d))
    return buf.getvalue()


def java_packages():
    """The test functions compiled with javac against Lambent's interfaces and events jars:
    (classes + lib/util.jar zip, fat jar, layer zip with java/lib/greeter.jar)."""
    work = tempfile.mkdtemp(prefix="lambent-java-")
    try:
        core = os.path.join(JAVA_LIB, "aws-lambda-java-core.jar")
        events = os.path.join(JAVA_LIB, "aws-lambda-java-events.jar")
        dirs = {n: os.path.join(work, n) for n in ("layer", "util", "app")}
        javac(dirs["layer"], [os.path.join(JAVA_SRC, "layer", "lib", "Greeter.java")], [core])
        javac(dirs["util"], [os.path.join(JAVA_SRC, "util", "util", "Strings.java")], [core])
        javac(dirs["app"], glob.glob(os.path.join(JAVA_SRC, "example", "*.java")),
              [core, events, "/usr/share/java/joda-time.jar", dirs["layer"], dirs["util"]])
        files = {os.path.relpath(p, dirs["app"]): open(p, "rb").read()
                 for p in glob.glob(os.path.join(dirs["app"], "**", "*.class"), recursive=True)}
        files["lib/util.jar"] = jar_bytes([dirs["util"]])
        layer = make_zip({"java/lib/greeter.jar": jar_bytes([dirs["layer"]])})
        return make_zip(files), jar_bytes([dirs["app"], dirs["util"]]), layer
    finally:
        shutil.rmtree(work, ignore_errors=True)


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
@unittest.skipUnless(os.path.exists(os.path.join(JAVA_LIB, "lambent-java-runtime.jar")),
                     "the Java runtime is not built (no JDK on this machine)")
class JavaTest(RuntimeCalls, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.lam = cls.server.lambda_client()
        code, fat, layer_zip = java_packages()
        layer = cls.lam.publish_layer_version(
            LayerName="java-greeter", Content={"ZipFile": layer_zip},
            CompatibleRuntimes=["java17"])["LayerVersionArn"]
        functions = {
            "java-hello": ("example.Hello", code, 10),
            "java-timeout": ("example.Hello::handleRequest", code, 2),
            "java-fat": ("example.Hello::handleRequest", fat, 10),
            "java-order": ("example.Pojos::order", code, 10),
            "java-shout": ("example.Pojos::shout", code, 10),
            "java-twice": ("example.Pojos::twice", code, 10),
            "java-nothing": ("example.Pojos::nothing", code, 10),
            "java-boom": ("example.Pojos::boom", code, 10),
            "java-stream": ("example.Streams", code, 10),
            "java-missing": ("example.Nope::handleRequest", code, 10),
            "java-no-method": ("example.Pojos::absent", code, 10),
            "java-broken": ("example.Broken::handle", code, 10),
        }
        for name, (handler, package, timeout) in functions.items():
            cls.lam.create_function(
                FunctionName=name, Runtime="java17", Handler=handler, Role=ROLE,
                Timeout=timeout, MemorySize=1024, Layers=[layer], Code={"ZipFile": package},
                Environment={"Variables": {"JAVA_TOOL_OPTIONS": "-Dlambent.option=yes"}})
        # Debian's botocore model predates LoggingConfig: this one is created with raw JSON.
        status, _, data = cls.server.raw("POST", "/2015-03-31/functions", json.dumps({
            "FunctionName": "java-json-logs", "Runtime": "java17", "Handler": "example.Hello",
            "Role": ROLE, "Timeout": 10, "MemorySize": 1024, "Layers": [layer],
            "Code": {"ZipFile": base64.b64encode(code).decode()},
            "LoggingConfig": {"LogFormat": "JSON"}}).encode())
        assert status == 201, data
        for name in ("sqs", "sns", "s3", "bus", "url"):
            cls.lam.create_function(FunctionName="java-" + name, Runtime="java17",
                                    Handler="example.Events::" + name, Role=ROLE, Timeout=10,
                                    MemorySize=1024, Code={"ZipFile": code})

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_request_handler_context_layers_and_jars(self):
        r, body = self.invoke("java-hello", {"hello": "java", "n": [1, 2.5, None]}, LogType="Tail")
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(body["echo"], {"hello": "java", "n": [1, 2.5, None]})
        self.assertEqual(body["requestId"], r["ResponseMetadata"]["RequestId"])
        self.assertEqual((body["function"], body["version"], body["memory"]),
                         ("java-hello", "$LATEST", 1024))
        self.assertTrue(0 < body["remaining"] <= 10000)
        self.assertTrue(body["arn"].endswith(":function:java-hello"))
        self.assertEqual(body["logGroup"], "/aws/lambda/java-hello")
        self.assertEqual(body["java"], "17")
        self.assertTrue(body["trace"].startswith("Root=1-"))
        self.assertEqual(body["toolOption"], "yes")  # JAVA_TOOL_OPTIONS
        self.assertEqual((body["greeting"], body["util"]), ("from a layer", "HI!"))
        self.assertEqual(body["cwd"], "/var/task")
        tail = base64.b64decode(r["LogResult"]).decode()
        self.assertIn("HELLO " + body["requestId"], tail)
        # A fat jar uploaded as the package.
        r, body = self.invoke("java-fat", {"fat": True})
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual((body["echo"], body["util"], body["greeting"]),
                         ({"fat": True}, "HI!", "from a layer"))
        # The aws CLI.
        self.assert_cli_echo("java-hello")

    def test_json_log_format(self):
        r, body = self.invoke("java-json-logs", {"n": 1}, LogType="Tail")
        self.assertNotIn("FunctionError", r, body)
        lines = [json.loads(line) for line in base64.b64decode(r["LogResult"]).decode().splitlines()
                 if line.startswith("{")]
        hello = [e for e in lines if e.get("message", "").startswith("HELLO ")]
        self.assertEqual(len(hello), 1, lines)
        self.assertEqual((hello[0]["level"], hello[0]["AWSRequestId"]),
                         ("INFO", body["requestId"]))
        self.assertIn("timestamp", hello[0])

    def test_pojos_strings_numbers_streams_and_void(self):
        r, body = self.invoke("java-order", {"Id": "o-1", "quantity": 3, "items": ["a", "b"],
                                             "extra": "ignored"})
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(body, {"orderId": "o-1", "lines": 6})  # nulls are left out
        self.assertEqual(self.invoke("java-shout", "abc")[1], "ABC")
        self.assertEqual(self.invoke("java-twice", 21)[1], 42)
        self.assertIsNone(self.invoke("java-nothing", {"x": 1})[1])
        self.assertEqual(self.invoke("java-stream", b'{"raw": true}')[1],
                         "13 bytes from java-stream")

    def test_errors_init_errors_and_timeouts(self):
        r, body = self.invoke("java-boom", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("java.lang.IllegalArgumentException", "asked to fail"))
        self.assertTrue(body["stackTrace"][0].startswith("example.Pojos.boom(Pojos.java:"),
                        body["stackTrace"])
        self.assertEqual((body["cause"]["errorType"], body["cause"]["errorMessage"]),
                         ("java.lang.IllegalStateException", "the cause"))
        # A payload that does not fit the handler's type: AWS's JSON parsing error.
        r, body = self.invoke("java-order", "just a string")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("java.lang.RuntimeException", "An error occurred during JSON parsing"))
        self.assertEqual(body["cause"]["errorType"], "java.io.UncheckedIOException")
        self.assertIn("Pojos$Order", body["cause"]["errorMessage"])
        # Init errors.
        r, body = self.invoke("java-missing", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("java.lang.ClassNotFoundException", "Class not found: example.Nope"))
        r, body = self.invoke("java-no-method", {})
        self.assertEqual(body["errorType"], "java.lang.NoSuchMethodException")
        self.assertIn("No public method named absent", body["errorMessage"])
        r, body = self.invoke("java-broken", {})
        self.assertEqual(body["errorType"], "java.lang.ExceptionInInitializerError")
        self.assertEqual(body["cause"]["errorMessage"], "broken at init")
        # A timeout, and the next invocation runs in a fresh environment.
        r, body = self.invoke("java-timeout", {"sleep": 4000})
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertEqual(self.invoke("java-timeout", {"again": 1})[1]["echo"], {"again": 1})

    def wait_logs(self, name, prefix, count, timeout=60):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            seen = log_lines(self.server.logs_client(), name, prefix)
            if len(seen) >= count:
                break
            time.sleep(0.5)
        return seen

    def test_event_classes_from_lambents_event_sources(self):
        fn_arn = "arn:aws:lambda:%s:%s:function:%%s" % (REGION, ACCOUNT)
        # SQS, with partial batch failures.
        sqs = self.server.sqs_client()
        q = sqs.create_queue(QueueName="java-q", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        self.lam.create_event_source_mapping(
            FunctionName="java-sqs", EventSourceArn="arn:aws:sqs:%s:%s:java-q" % (REGION, ACCOUNT),
            BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
        sqs.send_message(QueueUrl=q, MessageBody="ok", MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"}})
        sqs.send_message(QueueUrl=q, MessageBody="fail")
        seen = self.wait_logs("java-sqs", "SQS", 3)
        ok = [m for m in seen if m["body"] == "ok"][0]
        self.assertEqual((ok["arn"], ok["source"], ok["color"], ok["receives"]),
                         ("arn:aws:sqs:%s:%s:java-q" % (REGION, ACCOUNT), "aws:sqs", "red", "1"))
        self.assertEqual(len(ok["md5"]), 32)
        # The failed item came back once more; the other was deleted.
        self.assertEqual(sorted(m["receives"] for m in seen if m["body"] == "fail")[:2], ["1", "2"])
        self.assertEqual(len([m for m in seen if m["body"] == "ok"]), 1)
        # SNS.
        sns = self.server.sns_client()
        topic = sns.create_topic(Name="java-topic")["TopicArn"]
        self.lam.add_permission(FunctionName="java-sns", StatementId="sns",
                                Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                                SourceArn=topic)
        sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn % "java-sns",
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        before = time.time()
        sns.publish(TopicArn=topic, Message="hello", Subject="greeting", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "test"}})
        got = self.wait_logs("java-sns", "SNS", 1)[0]
        self.assertEqual((got["subject"], got["message"], got["topic"], got["type"], got["attr"],
                          got["subscription"]),
                         ("greeting", "hello", topic, "Notification", "test", sub))
        self.assertLess(abs(got["millis"] / 1000 - before), 30)
        # S3.
        s3 = self.server.s3_client()
        s3.create_bucket(Bucket="java-bucket")
        self.lam.add_permission(FunctionName="java-s3", StatementId="s3",
                                Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                                SourceArn="arn:aws:s3:::java-bucket")
        s3.put_bucket_notification_configuration(Bucket="java-bucket", NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn_arn % "java-s3",
                                              "Events": ["s3:ObjectCreated:*"]}]})
        put = s3.put_object(Bucket="java-bucket", Key="photos/a b.txt", Body=b"12345")
        got = self.wait_logs("java-s3", "S3", 1)[0]
        self.assertEqual((got["event"], got["bucket"], got["key"], got["size"], got["etag"]),
                         ("ObjectCreated:Put", "java-bucket", "photos/a b.txt", 5,
                          put["ETag"].strip('"')))
        self.assertTrue(got["requestId"])
        self.assertGreater(got["millis"], 0)
        # EventBridge (a scheduled event has the same class and shape).
        events = self.server.client("events")
        rule = events.put_rule(Name="java-rule", EventPattern=json.dumps({"source": ["java.test"]}))
        self.lam.add_permission(FunctionName="java-bus", StatementId="events",
                                Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                                SourceArn=rule["RuleArn"])
        events.put_targets(Rule="java-rule", Targets=[{"Id": "fn", "Arn": fn_arn % "java-bus"}])
        events.put_events(Entries=[{"Source": "java.test", "DetailType": "Thing Happened",
                                    "Detail": json.dumps({"k": "v"}), "Resources": ["r1"]}])
        got = self.wait_logs("java-bus", "BUS", 1)[0]
        self.assertEqual((got["detailType"], got["source"], got["k"], got["resources"]),
                         ("Thing Happened", "java.test", "v", 1))
        self.assertGreater(got["millis"], 0)
        # A function URL: APIGatewayV2HTTPEvent in, APIGatewayV2HTTPResponse out.
        url = self.lam.create_function_url_config(FunctionName="java-url",
                                                  AuthType="NONE")["FunctionUrl"]
        self.server.aws("lambda", "add-permission", "--function-name", "java-url",
                        "--statement-id", "url", "--action", "lambda:InvokeFunctionUrl",
                        "--principal", "*", "--function-url-auth-type", "NONE")
        status, _, data = self.server.raw(
            "POST", "/2015-03-31/functions/java-url/policy",
            json.dumps({"StatementId": "invoke", "Action": "lambda:InvokeFunction", "Principal": "*",
                        "InvokedViaFunctionUrl": True}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)
        req = urllib.request.Request(url + "items/7?q=find", data=b"payload", method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            self.assertEqual(resp.status, 201)
            self.assertEqual(resp.headers["x-path"], "/items/7")
            self.assertEqual(json.loads(resp.read()),
                             {"method": "POST", "q": "find", "body": "payload"})


DOTNET_LIB = os.path.join(HERE, "..", "..", "runtimes", "dotnet", "lib")
CSHARP_SRC = os.path.join(HERE, "functions", "csharp")


def mcs(out, sources, references=(), library=True):
    subprocess.run(["mcs", "-nologo", "-target:library" if library else "-target:exe",
                    "-out:" + out, *["-r:" + r for r in references], *sources],
                   check=True, capture_output=True, timeout=300)


def csharp_packages():
    """The C# test functions compiled with mcs against Lambent's Amazon.Lambda.Core:
    (package zip, layer zip with lib/Greeter.dll, package without a serializer)."""
    work = tempfile.mkdtemp(prefix="lambent-cs-")
    try:
        core = os.path.join(DOTNET_LIB, "Amazon.Lambda.Core.dll")
        json_ser = os.path.join(DOTNET_LIB, "Amazon.Lambda.Serialization.Json.dll")
        greeter = os.path.join(work, "Greeter.dll")
        mcs(greeter, [os.path.join(CSHARP_SRC, "Greeter.cs")])
        example = os.path.join(work, "Example.dll")
        mcs(example, [os.path.join(CSHARP_SRC, "Function.cs")], [core, json_ser, greeter])
        plain = os.path.join(work, "Plain.dll")
        mcs(plain, [os.path.join(CSHARP_SRC, "NoSerializer.cs")], [core])
        read = lambda p: open(p, "rb").read()  # noqa: E731
        return (make_zip({"Example.dll": read(example), "Plain.dll": read(plain)}),
                make_zip({"lib/Greeter.dll": read(greeter)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def csharp_bench_package():
    """For bench/run_runtimes_bench.py: a trivial C# handler (echo, JSON serializer)."""
    return {"dotnet8 (Mono)": dict(Runtime="dotnet8", Handler="Example::Example.Function::Echo",
                                   Code=csharp_packages()[0])}


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
@unittest.skipUnless(os.path.exists(os.path.join(DOTNET_LIB, "LambentBootstrap.exe")),
                     "the C# runtime is not built (no Mono on this machine)")
class CSharpTest(RuntimeCalls, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.lam = cls.server.lambda_client()
        code, layer_zip = csharp_packages()
        layer = cls.lam.publish_layer_version(
            LayerName="cs-greeter", Content={"ZipFile": layer_zip},
            CompatibleRuntimes=["dotnet8"])["LayerVersionArn"]
        functions = {
            "cs-hello": ("Example::Example.Function::Hello", 10),
            "cs-timeout": ("Example::Example.Function::Hello", 2),
            "cs-order": ("Example::Example.Function::PlaceOrder", 10),
            "cs-later": ("Example::Example.Function::Later", 10),
            "cs-raw": ("Example::Example.Function::Raw", 10),
            "cs-boom": ("Example::Example.Function::Boom", 10),
            "cs-no-assembly": ("Nope::Example.Function::Hello", 10),
            "cs-no-method": ("Example::Example.Function::Absent", 10),
            "cs-no-serializer": ("Plain::Plain.Function::Handle", 10),
            "cs-bad-handler": ("Example.Function.Hello", 10),
        }
        for name, (handler, timeout) in functions.items():
            cls.lam.create_function(FunctionName=name, Runtime="dotnet8", Handler=handler,
                                    Role=ROLE, Timeout=timeout, MemorySize=512,
                                    Layers=[layer], Code={"ZipFile": code})

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_values_context_layers_and_serialization(self):
        r, body = self.invoke("cs-hello", {"hello": "csharp", "n": [1, 2.5]}, LogType="Tail")
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(body["echo"], {"hello": "csharp", "n": [1, 2.5]})
        self.assertEqual(body["requestId"], r["ResponseMetadata"]["RequestId"])
        self.assertEqual((body["function"], body["version"], body["memory"]),
                         ("cs-hello", "$LATEST", 512))
        self.assertTrue(0 < body["remaining"] <= 10000)
        self.assertTrue(body["arn"].endswith(":function:cs-hello"))
        self.assertEqual(body["logGroup"], "/aws/lambda/cs-hello")
        self.assertTrue(body["trace"].startswith("Root=1-"))
        self.assertEqual((body["greeting"], body["cwd"]), ("from a layer", "/var/task"))
        self.assertIn("HELLO " + body["requestId"], base64.b64decode(r["LogResult"]).decode())
        # POJOs (PascalCase out, any case in; nulls left out), async Task<T>, streams.
        r, body = self.invoke("cs-order", {"id": "o-1", "quantity": 3, "items": ["a", "b"]})
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(body, {"OrderId": "o-1", "Lines": 6})
        self.assertEqual(self.invoke("cs-later", "abc")[1], "ABC")
        self.assertEqual(self.invoke("cs-raw", b'{"raw": true}')[1], "13 bytes from cs-raw")
        # The aws CLI.
        self.assert_cli_echo("cs-hello")

    def test_errors_init_errors_and_timeouts(self):
        r, body = self.invoke("cs-boom", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("InvalidOperationException", "asked to fail"))
        self.assertTrue(any("Example.Function.Boom" in line for line in body["stackTrace"]),
                        body["stackTrace"])
        self.assertEqual((body["cause"]["errorType"], body["cause"]["errorMessage"]),
                         ("ArgumentException", "the cause"))
        # A payload that does not fit the handler's type: AWS's serializer error.
        r, body = self.invoke("cs-order", "just a string")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "JsonSerializerException")
        self.assertIn("Error converting the Lambda event JSON payload to a Example.Order",
                      body["errorMessage"])
        for name, message in (
                ("cs-no-assembly", "Could not find the specified handler assembly with the file "
                                   "name 'Nope.dll'"),
                ("cs-no-method", "Unable to find method 'Absent' in type 'Example.Function'"),
                ("cs-no-serializer", "should be annotated with "
                                     "Amazon.Lambda.LambdaSerializerAttribute"),
                ("cs-bad-handler", "The handler string should be of the format "
                                   "ASSEMBLY::TYPE::METHOD")):
            r, body = self.invoke(name, {})
            self.assertEqual(r["FunctionError"], "Unhandled", name)
            self.assertEqual(body["errorType"], "LambdaValidationException", body)
            self.assertIn(message, body["errorMessage"])
        r, body = self.invoke("cs-timeout", {"sleep": 4000})
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertEqual(self.invoke("cs-timeout", {"again": 1})[1]["echo"], {"again": 1})


if __name__ == "__main__":
    unittest.main()

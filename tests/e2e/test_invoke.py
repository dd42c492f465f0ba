"""Running functions: python, node (CommonJS, ES modules) and provided (shell, C++) through boto3
and the aws CLI; errors, timeouts, init failures, payload limits, the environment contract, warm
reuse, logs."""

import base64
import concurrent.futures
import json
import os
import re
import sqlite3
import time
import unittest

from botocore.exceptions import ClientError

from harness import (ROLE, Server, ServerTestCase, cpp_bootstrap, make_zip, sandbox_supported)

PY_APP = r'''
import json, os, logging, time
logger = logging.getLogger()
logger.setLevel(logging.INFO)
COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    print("print line")
    logger.info("logged %d", COUNT)
    with open("/tmp/counter", "a") as f:
        f.write("x")
    with open("/tmp/counter") as f:
        tmp = f.read()
    cc = context.client_context
    return {
        "count": COUNT, "tmp": tmp, "event": event,
        "function_name": context.function_name, "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb, "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name, "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if cc is None else {"custom": cc.custom, "env": cc.env,
                                                   "installation_id": cc.client.installation_id if cc.client else None},
        "env": dict(os.environ),
    }

def fail(event, context):
    raise ValueError("bad things " + str(event.get("n")))

def sleep(event, context):
    time.sleep(event.get("seconds", 1))
    return {"stream": context.log_stream_name}

def big(event, context):
    return "x" * event["size"]

def echo(event, context):
    return event

def sdk(event, context):
    import boto3
    return {"boto3": boto3.__version__}
'''

NODE_CJS = r'''
let count = 0;
exports.handler = async (event, context) => {
  count++;
  console.log("node says", count);
  return { count, event, functionName: context.functionName, arn: context.invokedFunctionArn,
           requestId: context.awsRequestId, memory: context.memoryLimitInMB,
           remaining: context.getRemainingTimeInMillis(), stream: context.logStreamName,
           group: context.logGroupName, version: context.functionVersion,
           clientContext: context.clientContext, env: process.env.AWS_EXECUTION_ENV };
};
exports.callback = (event, context, callback) => {
  setTimeout(() => console.log("timer ran before the response"), 20);
  callback(null, { style: "callback" });
};
exports.fails = async () => { throw new TypeError("node failure"); };
'''

NODE_ESM = "export const handler = async (event) => ({ esm: true, event });\n"

SHELL_BOOTSTRAP = r'''#!/bin/sh
set -e
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "shell handling $ID with $_HANDLER"
  curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\"shell\": $EVENT}"
done
'''

INIT_ERROR_BOOTSTRAP = r'''#!/bin/sh
curl -sS -o /dev/null -X POST -H "Lambda-Runtime-Function-Error-Type: Runtime.ConfigError" \
  "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/init/error" \
  -d '{"errorMessage":"missing configuration","errorType":"Runtime.ConfigError"}'
exit 1
'''


def payload_of(resp):
    return json.loads(resp["Payload"].read())


def log_of(resp):
    return base64.b64decode(resp["LogResult"]).decode()


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Invoke(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client = cls.server.lambda_client(pool=20)
        cls.py_zip = make_zip({"app.py": PY_APP})

    def create(self, name, code=None, **kw):
        args = dict(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                    Code={"ZipFile": code or self.py_zip}, MemorySize=1769)
        args.update(kw)
        return self.client.create_function(**args)

    def invoke(self, name, payload=None, **kw):
        args = dict(FunctionName=name)
        if payload is not None:
            args["Payload"] = json.dumps(payload).encode()
        args.update(kw)
        return self.client.invoke(**args)

    # --- python ---------------------------------------------------------------------------
    def test_python_result_context_environment_and_warm_reuse(self):
        self.create("py-ctx", Environment={"Variables": {"STAGE": "test", "TZ": "Europe/Paris"}},
                    Timeout=7)
        cc = base64.b64encode(json.dumps({"custom": {"k": "v"}, "env": {"e": "1"},
                                          "client": {"installation_id": "inst-1"}}).encode()).decode()
        r = self.invoke("py-ctx", {"hello": "world"}, LogType="Tail", ClientContext=cc)
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", r)
        out = payload_of(r)
        rid = r["ResponseMetadata"]["RequestId"]
        self.assertEqual(out["event"], {"hello": "world"})
        self.assertEqual(out["aws_request_id"], rid)
        self.assertEqual(out["function_name"], "py-ctx")
        self.assertEqual(out["function_version"], "$LATEST")
        self.assertEqual(out["invoked_function_arn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:py-ctx")
        self.assertEqual(out["memory_limit_in_mb"], "1769")
        self.assertEqual(out["log_group_name"], "/aws/lambda/py-ctx")
        self.assertRegex(out["log_stream_name"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        self.assertTrue(0 < out["remaining"] <= 7000)
        self.assertEqual(out["identity"], [None, None])
        self.assertEqual(out["client_context"],
                         {"custom": {"k": "v"}, "env": {"e": "1"}, "installation_id": "inst-1"})
        env = out["env"]
        expected = {
            "_HANDLER": "app.handler", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "AWS_LAMBDA_FUNCTION_NAME": "py-ctx",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/py-ctx",
            "AWS_LAMBDA_LOG_STREAM_NAME": out["log_stream_name"],
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime", "STAGE": "test", "TZ": "Europe/Paris",
            "LANG": "en_US.UTF-8",
        }
        for k, v in expected.items():
            self.assertEqual(env.get(k), v, k)
        self.assertIn("/opt/bin", env["PATH"])
        self.assertIn("/opt/lib", env["LD_LIBRARY_PATH"])
        self.assertTrue(env["_X_AMZN_TRACE_ID"].startswith("Root=1-"))
        log = log_of(r)
        self.assertIn("START RequestId: %s Version: $LATEST" % rid, log)
        self.assertIn("print line", log)
        self.assertRegex(log, r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tlogged 1" % rid)
        self.assertIn("END RequestId: %s" % rid, log)
        self.assertRegex(log, r"REPORT RequestId: %s\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                              r"Memory Size: 1769 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t" % rid)
        # Warm: the same environment keeps globals and /tmp; no Init Duration.
        r2 = self.invoke("py-ctx", {"n": 2}, LogType="Tail")
        out2 = payload_of(r2)
        self.assertEqual(out2["count"], 2)
        self.assertEqual(out2["tmp"], "xx")
        self.assertEqual(out2["log_stream_name"], out["log_stream_name"])
        self.assertNotIn("Init Duration", log_of(r2))
        # Qualified invoke shows the qualified ARN to the function.
        r3 = self.invoke("py-ctx:$LATEST", {})
        self.assertEqual(payload_of(r3)["invoked_function_arn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:py-ctx:$LATEST")

    def test_python_error(self):
        self.create("py-err", Handler="app.fail")
        r = self.invoke("py-err", {"n": 7}, LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = payload_of(r)
        self.assertEqual(body["errorType"], "ValueError")
        self.assertEqual(body["errorMessage"], "bad things 7")
        self.assertEqual(body["requestId"], r["ResponseMetadata"]["RequestId"])
        self.assertTrue(any("app.py" in line for line in body["stackTrace"]))
        self.assertIn("[ERROR] ValueError: bad things 7", log_of(r))

    def test_the_aws_sdk_is_importable(self):
        self.create("py-sdk", Handler="app.sdk")
        r = self.invoke("py-sdk", {})
        out = payload_of(r)
        self.assertNotIn("FunctionError", r, out)
        self.assertTrue(out["boto3"])

    def test_logging_imported_late_by_the_handler_gets_aws_format(self):
        # The runtime sets up `logging` when something imports it, here only during an invocation.
        code = make_zip({"late.py": "def handler(event, context):\n"
                                    "    import logging.handlers\n"
                                    "    logging.getLogger('x').warning('late %s', 1)\n"
                                    "    return {}\n"})
        self.create("py-late-log", code=code, Handler="late.handler")
        r = self.invoke("py-late-log", {}, LogType="Tail")
        rid = r["ResponseMetadata"]["RequestId"]
        self.assertRegex(log_of(r), r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tlate 1"
                         % rid)

    def test_empty_payload_is_an_empty_object(self):
        self.create("py-echo", Handler="app.echo")
        self.assertEqual(payload_of(self.client.invoke(FunctionName="py-echo")), {})
        self.assertEqual(payload_of(self.invoke("py-echo", [1, "two", None])), [1, "two", None])

    def test_update_retires_environments(self):
        self.create("py-upd")
        self.assertEqual(payload_of(self.invoke("py-upd", {}))["count"], 1)
        self.assertEqual(payload_of(self.invoke("py-upd", {}))["count"], 2)
        self.client.update_function_configuration(FunctionName="py-upd",
                                                  Environment={"Variables": {"NEW": "1"}})
        out = payload_of(self.invoke("py-upd", {}))
        self.assertEqual(out["count"], 1)
        self.assertEqual(out["env"]["NEW"], "1")
        self.client.update_function_code(FunctionName="py-upd", ZipFile=make_zip(
            {"app.py": "def handler(e, c):\n    return 'new code'\n"}))
        self.assertEqual(payload_of(self.invoke("py-upd", {})), "new code")

    # --- node -----------------------------------------------------------------------------
    def test_node_commonjs_esm_callback_and_errors(self):
        code = make_zip({"index.js": NODE_CJS, "esm/app.mjs": NODE_ESM,
                         "mod/package.json": '{"type": "module"}',
                         "mod/handler.js": "export const go = async () => 'module by package.json';\n"})
        for name, handler in [("node-cjs", "index.handler"), ("node-esm", "esm/app.handler"),
                              ("node-cb", "index.callback"), ("node-err", "index.fails"),
                              ("node-pkg", "mod/handler.go")]:
            self.create(name, code, Runtime="nodejs20.x", Handler=handler)
        r = self.invoke("node-cjs", {"a": 1}, LogType="Tail")
        out = payload_of(r)
        rid = r["ResponseMetadata"]["RequestId"]
        self.assertEqual((out["count"], out["event"], out["functionName"]), (1, {"a": 1}, "node-cjs"))
        self.assertEqual(out["requestId"], rid)
        self.assertEqual(out["memory"], "1769")
        self.assertEqual(out["version"], "$LATEST")
        self.assertEqual(out["group"], "/aws/lambda/node-cjs")
        self.assertEqual(out["env"], "AWS_Lambda_nodejs20.x")
        self.assertTrue(0 < out["remaining"] <= 3000)
        self.assertRegex(log_of(r), r"\d{4}-\d\d-\d\dT[\d:.]+Z\t%s\tINFO\tnode says 1" % rid)
        self.assertEqual(payload_of(self.invoke("node-cjs", {}))["count"], 2)
        self.assertEqual(payload_of(self.invoke("node-esm", {"b": 2})), {"esm": True, "event": {"b": 2}})
        self.assertEqual(payload_of(self.invoke("node-pkg", {})), "module by package.json")
        r = self.invoke("node-cb", {}, LogType="Tail")
        self.assertEqual(payload_of(r), {"style": "callback"})
        log = log_of(r)
        # callbackWaitsForEmptyEventLoop: the timer ran before the invocation ended.
        self.assertLess(log.index("timer ran before the response"), log.index("END RequestId"))
        r = self.invoke("node-err", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = payload_of(r)
        self.assertEqual((body["errorType"], body["errorMessage"]), ("TypeError", "node failure"))
        self.assertTrue(body["trace"][0].startswith("TypeError: node failure"))

    # --- provided -------------------------------------------------------------------------
    def test_provided_shell_and_cpp_bootstraps(self):
        self.create("prov-sh", make_zip({"bootstrap": SHELL_BOOTSTRAP}, executable={"bootstrap"}),
                    Runtime="provided.al2023", Handler="my.handler")
        r = self.invoke("prov-sh", {"q": 1}, LogType="Tail")
        self.assertEqual(payload_of(r), {"shell": {"q": 1}})
        self.assertIn("shell handling %s with my.handler" % r["ResponseMetadata"]["RequestId"], log_of(r))
        self.create("prov-cpp", make_zip({"bootstrap": cpp_bootstrap()}, executable={"bootstrap"}),
                    Runtime="provided.al2", Handler="unused")
        for i in range(3):
            self.assertEqual(payload_of(self.invoke("prov-cpp", {"i": i})), {"echo": {"i": i}})

    def test_provided_without_bootstrap(self):
        self.create("prov-none", make_zip({"readme.txt": "no bootstrap"}), Runtime="provided.al2023",
                    Handler="x")
        r = self.invoke("prov-none", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = payload_of(r)
        self.assertEqual(body["errorType"], "Runtime.InvalidEntrypoint")
        self.assertIn("Couldn't find valid bootstrap(s)", body["errorMessage"])

    def test_provided_bootstrap_that_cannot_be_executed(self):
        # Executable, but neither a binary nor a script: exec fails inside the sandbox, which AWS
        # reports as the function's Runtime.InvalidEntrypoint, not as a service error.
        self.create("prov-garbage", make_zip({"bootstrap": "\x00\x01 not a program\n"},
                                             executable={"bootstrap"}),
                    Runtime="provided.al2023", Handler="x")
        for _ in range(2):  # and again in a new environment
            r = self.invoke("prov-garbage", {}, LogType="Tail")
            self.assertEqual(r["StatusCode"], 200)
            self.assertEqual(r["FunctionError"], "Unhandled")
            body = payload_of(r)
            rid = r["ResponseMetadata"]["RequestId"]
            self.assertEqual(body, {"errorType": "Runtime.InvalidEntrypoint",
                                    "errorMessage": "RequestId: %s Error: fork/exec "
                                                    "/var/task/bootstrap: exec format error" % rid})
            self.assertIn("REPORT RequestId: " + rid, log_of(r))

    def test_provided_bootstrap_without_the_exec_bit(self):
        # The classic zip made on Windows: the file is there, its mode has no x bit. AWS names
        # the cause (not "Couldn't find valid bootstrap(s)").
        self.create("prov-noexec", make_zip({"bootstrap": SHELL_BOOTSTRAP}),
                    Runtime="provided.al2023", Handler="x")
        r = self.invoke("prov-noexec", {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        rid = r["ResponseMetadata"]["RequestId"]
        self.assertEqual(payload_of(r), {
            "errorType": "Runtime.InvalidEntrypoint",
            "errorMessage": "RequestId: %s Error: fork/exec /var/task/bootstrap: permission denied"
                            % rid})

    def test_exec_wrapper(self):
        # AWS_LAMBDA_EXEC_WRAPPER: the runtime starts through the user's script, which receives
        # the runtime's command line as its arguments.
        wrapper = "#!/bin/sh\nexport WRAPPED_BY=\"$0\"\nexport WRAPPED_ARGS=\"$#\"\nexec \"$@\"\n"
        code = "import os\ndef handler(event, context):\n" \
               "    return {'by': os.environ.get('WRAPPED_BY'), 'n': os.environ.get('WRAPPED_ARGS')}\n"
        self.create("wrapped", make_zip({"app.py": code, "wrapper.sh": wrapper},
                                        executable={"wrapper.sh"}),
                    Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}})
        body = payload_of(self.invoke("wrapped", {}))
        self.assertEqual(body["by"], "/var/task/wrapper.sh")
        self.assertGreater(int(body["n"]), 0)

    # --- init failures --------------------------------------------------------------------
    def test_init_failures(self):
        self.create("init-import", Handler="missing_module.handler")
        body = payload_of(self.invoke("init-import", {}))
        self.assertEqual(body["errorType"], "Runtime.ImportModuleError")
        self.assertIn("Unable to import module 'missing_module'", body["errorMessage"])
        self.create("init-nohandler", Handler="app.not_there")
        body = payload_of(self.invoke("init-nohandler", {}))
        self.assertEqual(body["errorType"], "Runtime.HandlerNotFound")
        self.create("init-api", make_zip({"bootstrap": INIT_ERROR_BOOTSTRAP}, executable={"bootstrap"}),
                    Runtime="provided.al2023", Handler="x")
        r = self.invoke("init-api", {}, LogType="Tail")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(payload_of(r), {"errorMessage": "missing configuration",
                                         "errorType": "Runtime.ConfigError"})
        self.create("init-exit", make_zip({"bootstrap": "#!/bin/sh\necho dying\nexit 3\n"},
                                          executable={"bootstrap"}),
                    Runtime="provided.al2023", Handler="x")
        r = self.invoke("init-exit", {}, LogType="Tail")
        body = payload_of(r)
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertIn("Runtime exited with error: exit status 3", body["errorMessage"])
        self.assertIn("dying", log_of(r))
        # Init is retried on the next invoke (a fixed function then works).
        self.client.update_function_configuration(FunctionName="init-nohandler", Handler="app.echo")
        self.assertEqual(payload_of(self.invoke("init-nohandler", {"ok": 1})), {"ok": 1})

    def test_init_over_ten_seconds_is_retried_then_times_out(self):
        slow = make_zip({"app.py": "import time\ntime.sleep(30)\ndef handler(e, c):\n    return 1\n"})
        self.create("init-slow", slow, Timeout=2)
        r = self.invoke("init-slow", {}, LogType="Tail")
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = payload_of(r)
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 2.00 seconds", body["errorMessage"])

    # --- timeouts, crashes, limits --------------------------------------------------------
    def test_timeout_replaces_the_environment(self):
        self.create("py-timeout", Handler="app.sleep", Timeout=1)
        first = payload_of(self.invoke("py-timeout", {"seconds": 0}))
        r = self.invoke("py-timeout", {"seconds": 5}, LogType="Tail")
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = payload_of(r)
        rid = r["ResponseMetadata"]["RequestId"]
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertRegex(body["errorMessage"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z %s Task timed out after 1\.\d\d seconds$" % rid)
        self.assertIn("Task timed out after", log_of(r))
        after = payload_of(self.invoke("py-timeout", {"seconds": 0}))
        self.assertNotEqual(after["stream"], first["stream"])

    def test_payload_limits_and_invalid_json(self):
        self.create("py-big", Handler="app.big")
        r = self.invoke("py-big", {"size": 5 * 1024 * 1024})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(len(payload_of(r)), 5 * 1024 * 1024)
        r = self.invoke("py-big", {"size": 7 * 1024 * 1024})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(payload_of(r)["errorType"], "Function.ResponseSizeTooLarge")
        self.create("py-echo2", Handler="app.echo")
        ok = "y" * (6 * 1024 * 1024 - 100)
        self.assertEqual(payload_of(self.invoke("py-echo2", ok)), ok)
        with self.assertRaises(ClientError) as cm:
            self.invoke("py-echo2", "z" * (6 * 1024 * 1024 + 10))
        self.assertEqual(cm.exception.response["Error"]["Code"], "RequestEntityTooLargeException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)
        with self.assertRaises(ClientError) as cm:
            self.client.invoke(FunctionName="py-echo2", Payload=b"{not json")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestContentException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_invocation_types_and_missing_functions(self):
        self.create("py-types", Handler="app.echo")
        r = self.client.invoke(FunctionName="py-types", InvocationType="DryRun")
        self.assertEqual(r["StatusCode"], 204)
        # Event: accepted for later (test_async covers what happens next).
        r = self.client.invoke(FunctionName="py-types", InvocationType="Event", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 202)
        with self.assertRaises(ClientError) as cm:
            self.client.invoke(FunctionName="nope-fn", Payload=b"{}")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            self.client.invoke(FunctionName="py-types", Qualifier="9", Payload=b"{}")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_sixteen_concurrent_invocations_use_sixteen_environments(self):
        self.create("py-conc", Handler="app.sleep", MemorySize=256)
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            results = list(ex.map(lambda i: self.invoke("py-conc", {"seconds": 1}), range(16)))
        self.assertTrue(all("FunctionError" not in r for r in results))
        streams = {payload_of(r)["stream"] for r in results}
        self.assertEqual(len(streams), 16)

    def test_logs_are_stored_durably(self):
        self.create("py-logs", Handler="app.handler")
        r = self.invoke("py-logs", {"x": 1})
        rid = r["ResponseMetadata"]["RequestId"]
        stream = payload_of(r)["log_stream_name"]
        db = os.path.join(self.server.data_dir, "logs.db")
        deadline = time.time() + 10
        messages = []
        while time.time() < deadline:
            con = sqlite3.connect(db)
            messages = [m for (m,) in con.execute(
                "SELECT e.message FROM log_events e JOIN log_streams s ON s.id = e.stream_id "
                "JOIN log_groups g ON g.id = s.group_id WHERE g.name = ? AND s.name = ? "
                "ORDER BY e.id",
                ("/aws/lambda/py-logs", stream))]
            con.close()
            if any(m.startswith("REPORT") for m in messages):
                break
            time.sleep(0.1)
        self.assertEqual(messages[0], "START RequestId: %s Version: $LATEST" % rid)
        self.assertIn("print line", messages)
        self.assertEqual(messages[-2], "END RequestId: %s" % rid)
        self.assertTrue(messages[-1].startswith("REPORT RequestId: %s\tDuration: " % rid))

    def test_aws_cli_invoke(self):
        self.create("cli-inv", Handler="app.echo")
        out = os.path.join(self.server.tmp, "cli-out.json")
        rc, meta, err = self.server.aws("lambda", "invoke", "--function-name", "cli-inv",
                                        "--cli-binary-format", "raw-in-base64-out",
                                        "--payload", '{"from": "cli"}', "--log-type", "Tail", out)
        self.assertEqual(meta["StatusCode"], 200)
        self.assertEqual(meta["ExecutedVersion"], "$LATEST")
        self.assertIn("REPORT RequestId:", base64.b64decode(meta["LogResult"]).decode())
        with open(out) as f:
            self.assertEqual(json.load(f), {"from": "cli"})


if __name__ == "__main__":
    unittest.main()

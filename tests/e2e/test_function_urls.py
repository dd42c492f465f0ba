"""Function URLs end to end: their configurations with the aws CLI v2 and boto3, and requests
with curl (public and AWS_IAM-signed URLs, the path and host forms, binary bodies, cookies, CORS
preflight, AWS's response mapping and error pages, RESPONSE_STREAM with the HTTP prelude and a
5 MB response that arrives in pieces before the function ends)."""

import base64
import http.client
import json
import os
import subprocess
import time
import unittest

from harness import (ACCOUNT, REGION, ROOT_KEY_ID, ROOT_SECRET, Server, ServerTestCase, make_zip,
                     sandbox_supported, sign_request)

ECHO = """
import base64, json
def handler(event, context):
    path = event["rawPath"]
    if path == "/plain":
        return {"plain": True, "q": event.get("queryStringParameters")}
    if path == "/string":
        return "just a string"
    if path == "/bad":
        return {"statusCode": "teapot"}
    if path == "/fail":
        raise ValueError("no")
    if path == "/binary":
        return {"statusCode": 201, "headers": {"Content-Type": "image/png", "X-N": 7},
                "cookies": ["a=1", "b=2; Path=/; HttpOnly"],
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/cors":
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://evil.example"},
                "body": "ok"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"event": event, "rid": context.aws_request_id})}
"""

STREAMER = """
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.rawPath === "/raw") {
    responseStream.write("raw bytes");
    responseStream.end();
    return;
  }
  responseStream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 207, headers: { "content-type": "text/plain", "x-streamed": "yes" }, cookies: ["s=1"] });
  const mib = Buffer.alloc(1024 * 1024, "y");
  responseStream.write(mib);
  await new Promise((r) => setTimeout(r, 1500));
  if (event.rawPath === "/fail") throw new Error("broken stream");
  for (let i = 1; i < 5; i++) responseStream.write(mib);
  responseStream.end();
});
"""


def curl(*args, body=None):
    """curl's status line, headers (lower-cased names; repeated ones as lists) and body."""
    p = subprocess.run(["curl", "-sS", "-i", "--max-time", "60", *args], input=body,
                       capture_output=True, timeout=90)
    raw = p.stdout
    head, _, content = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k, v = k.strip().lower(), v.strip()
        if k in headers:
            headers[k] = headers[k] if isinstance(headers[k], list) else [headers[k]]
            headers[k].append(v)
        else:
            headers[k] = v
    return status, headers, content, p.returncode


class FunctionUrlConfigTest(ServerTestCase):
    """The configuration API (no sandbox needed)."""

    def test_cli_create_get_update_list_delete(self):
        self.create("cfg-fn")
        self.client.create_alias(FunctionName="cfg-fn", Name="live", FunctionVersion="$LATEST")
        _, made, _ = self.server.aws("lambda", "create-function-url-config", "--function-name",
                                     "cfg-fn", "--auth-type", "NONE", "--cors",
                                     json.dumps({"AllowOrigins": ["https://a.example"],
                                                 "AllowMethods": ["GET"], "MaxAge": 30}))
        self.assertRegex(made["FunctionUrl"],
                         r"^http://127\.0\.0\.1:\d+/_lambent/url/[a-z0-9]{32}/$")
        self.assertEqual(made["FunctionArn"],
                         "arn:aws:lambda:%s:%s:function:cfg-fn" % (REGION, ACCOUNT))
        self.assertEqual(made["AuthType"], "NONE")
        self.assertEqual(made["Cors"]["MaxAge"], 30)
        self.assertRegex(made["CreationTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        self.assertNotIn("LastModifiedTime", made)
        got = self.client.get_function_url_config(FunctionName="cfg-fn")
        self.assertEqual(got["FunctionUrl"], made["FunctionUrl"])
        self.assertIn("LastModifiedTime", got)
        # One URL per function or alias.
        self.assertAwsError("ResourceConflictException", 409,
                            self.client.create_function_url_config, FunctionName="cfg-fn",
                            AuthType="NONE")
        alias = self.client.create_function_url_config(FunctionName="cfg-fn", Qualifier="live",
                                                        AuthType="AWS_IAM")
        self.assertTrue(alias["FunctionArn"].endswith(":function:cfg-fn:live"))
        self.assertNotEqual(alias["FunctionUrl"], made["FunctionUrl"])
        up = self.client.update_function_url_config(FunctionName="cfg-fn", AuthType="AWS_IAM",
                                                    Cors={"AllowOrigins": ["*"]})
        self.assertEqual(up["AuthType"], "AWS_IAM")
        self.assertEqual(up["Cors"], {"AllowOrigins": ["*"]})
        self.assertEqual(up["FunctionUrl"], made["FunctionUrl"])
        listed = self.client.list_function_url_configs(FunctionName="cfg-fn")["FunctionUrlConfigs"]
        self.assertEqual([u["FunctionArn"].split(":")[-1] for u in listed], ["cfg-fn", "live"])
        page = self.client.list_function_url_configs(FunctionName="cfg-fn", MaxItems=1)
        self.assertEqual(len(page["FunctionUrlConfigs"]), 1)
        rest = self.client.list_function_url_configs(FunctionName="cfg-fn",
                                                     Marker=page["NextMarker"])
        self.assertEqual(rest["FunctionUrlConfigs"][0]["FunctionArn"], alias["FunctionArn"])
        self.assertNotIn("NextMarker", rest)
        # The alias's URL goes with the alias; the function's with the function.
        self.client.delete_alias(FunctionName="cfg-fn", Name="live")
        self.assertEqual(
            len(self.client.list_function_url_configs(FunctionName="cfg-fn")["FunctionUrlConfigs"]),
            1)
        self.client.delete_function_url_config(FunctionName="cfg-fn")
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_function_url_config,
                            FunctionName="cfg-fn")
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.delete_function_url_config, FunctionName="cfg-fn")

    def test_refusals(self):
        self.create("cfg-bad")
        err = self.assertAwsError("ValidationException", 400,
                                  self.client.create_function_url_config, FunctionName="cfg-bad",
                                  Qualifier="1", AuthType="NONE")
        self.assertIn("at 'qualifier' failed to satisfy constraint", err["Error"]["Message"])
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.create_function_url_config, FunctionName="cfg-bad",
                            Qualifier="nosuch", AuthType="NONE")
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.create_function_url_config, FunctionName="cfg-missing",
                            AuthType="NONE")
        raw = self.server.lambda_client(validate=False)
        err = self.assertAwsError("ValidationException", 400, raw.create_function_url_config,
                                  FunctionName="cfg-bad", AuthType="OPEN")
        self.assertIn("[NONE, AWS_IAM]", err["Error"]["Message"])
        self.assertAwsError("ValidationException", 400, raw.create_function_url_config,
                            FunctionName="cfg-bad", AuthType="NONE", Cors={"MaxAge": 86401})
        self.assertAwsError("ValidationException", 400, raw.create_function_url_config,
                            FunctionName="cfg-bad", AuthType="NONE",
                            Cors={"AllowMethods": ["GET"] * 7})
        self.assertAwsError("InvalidParameterValueException", 400,
                            raw.create_function_url_config, FunctionName="cfg-bad",
                            AuthType="NONE", Cors={"AllowMethods": ["FETCH"]})
        status, _, data = self.server.raw(
            "POST", "/2021-10-31/functions/cfg-bad/url",
            json.dumps({"AuthType": "NONE", "Cors": {"Nope": 1}}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 400, data)
        self.assertEqual(json.loads(data)["Type"], "User")
        # Nothing was stored by the refusals.
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_function_url_config,
                            FunctionName="cfg-bad")

    def test_invoke_mode_and_restart(self):
        self.create("cfg-mode")
        body = json.dumps({"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}).encode()
        status, _, data = self.server.raw("POST", "/2021-10-31/functions/cfg-mode/url", body,
                                          {"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)
        self.assertEqual(json.loads(data)["InvokeMode"], "RESPONSE_STREAM")
        status, _, data = self.server.raw(
            "PUT", "/2021-10-31/functions/cfg-mode/url",
            json.dumps({"InvokeMode": "STREAMING"}).encode(), {"Content-Type": "application/json"})
        self.assertEqual(status, 400, data)
        self.assertIn("[BUFFERED, RESPONSE_STREAM]", json.loads(data)["message"])
        url = self.client.get_function_url_config(FunctionName="cfg-mode")["FunctionUrl"]
        self.server.kill9()
        self.server.start()
        self.client = self.server.lambda_client()
        status, _, data = self.server.raw("GET", "/2021-10-31/functions/cfg-mode/url")
        got = json.loads(data)
        self.assertEqual(got["InvokeMode"], "RESPONSE_STREAM")
        self.assertEqual(got["FunctionUrl"].split("/url/")[1], url.split("/url/")[1])
        type(self).client = self.client


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups for sandboxes")
class FunctionUrlServingTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client.create_function(FunctionName="web", Runtime="python3.11", Handler="app.handler",
                                   Role="arn:aws:iam::%s:role/lambda-role" % ACCOUNT,
                                   Code={"ZipFile": make_zip({"app.py": ECHO})})
        cls.url = cls.client.create_function_url_config(
            FunctionName="web", AuthType="NONE",
            Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
                  "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-n"], "MaxAge": 600,
                  "AllowCredentials": True})["FunctionUrl"]

    def grant_public(self, fn):
        """What AWS asks of a public URL since 2025: both statements."""
        self.server.aws("lambda", "add-permission", "--function-name", fn, "--statement-id",
                        "url", "--action", "lambda:InvokeFunctionUrl", "--principal", "*",
                        "--function-url-auth-type", "NONE")
        body = json.dumps({"StatementId": "invoke", "Action": "lambda:InvokeFunction",
                           "Principal": "*", "InvokedViaFunctionUrl": True}).encode()
        status, _, data = self.server.raw("POST", "/2015-03-31/functions/%s/policy" % fn, body,
                                          {"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)

    def test_a_public_url_needs_its_resource_policy(self):
        status, headers, body, _ = curl(self.url + "x")
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body), {"Message": "Forbidden"})
        self.server.aws("lambda", "add-permission", "--function-name", "web", "--statement-id",
                        "url", "--action", "lambda:InvokeFunctionUrl", "--principal", "*",
                        "--function-url-auth-type", "NONE")
        # lambda:InvokeFunction (via the URL) is needed too.
        self.assertEqual(curl(self.url + "x")[0], 403)
        body = json.dumps({"StatementId": "invoke", "Action": "lambda:InvokeFunction",
                           "Principal": "*", "InvokedViaFunctionUrl": True}).encode()
        self.server.raw("POST", "/2015-03-31/functions/web/policy", body,
                        {"Content-Type": "application/json"})
        status, _, body, _ = curl(self.url + "plain")
        self.assertEqual(status, 200, body)
        # Requests for URLs that do not exist.
        self.assertEqual(curl(self.url.replace("/url/", "/url/x"))[0], 403)

    def event(self, path="", *args, body=None):
        status, headers, data, _ = curl(self.url + path, *args, body=body)
        self.assertEqual(status, 200, data)
        return json.loads(data), headers

    def test_requests_become_payload_format_2_events(self):
        self.ensure_public()
        out, headers = self.event(
            "some/path%20x?b=2&a=1&a=%20two", "-X", "POST", "-H", "Cookie: c1=v1; c2=v2",
            "-H", "X-Multi: 1", "-H", "X-Multi: 2", "-H", "Content-Type: application/json",
            "--data-binary", '{"k":"v"}')
        e = out["event"]
        self.assertEqual(e["version"], "2.0")
        self.assertEqual(e["routeKey"], "$default")
        self.assertEqual(e["rawPath"], "/some/path%20x")
        self.assertEqual(e["rawQueryString"], "b=2&a=1&a=%20two")
        self.assertEqual(e["queryStringParameters"], {"a": "1, two", "b": "2"})
        self.assertEqual(e["cookies"], ["c1=v1", "c2=v2"])
        self.assertNotIn("cookie", e["headers"])
        self.assertEqual(e["headers"]["x-multi"], "1,2")
        self.assertEqual(e["headers"]["content-type"], "application/json")
        self.assertEqual(e["headers"]["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(e["body"], '{"k":"v"}')
        self.assertFalse(e["isBase64Encoded"])
        ctx = e["requestContext"]
        self.assertEqual(ctx["http"]["method"], "POST")
        self.assertEqual(ctx["http"]["path"], "/some/path%20x")
        self.assertEqual(ctx["http"]["sourceIp"], "127.0.0.1")
        self.assertEqual(ctx["accountId"], "anonymous")
        self.assertEqual(ctx["apiId"], self.url.split("/url/")[1].strip("/"))
        self.assertEqual(ctx["requestId"], out["rid"])
        self.assertEqual(headers["x-amzn-requestid"], out["rid"])
        self.assertRegex(ctx["time"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")
        self.assertNotIn("authorizer", ctx)
        # A binary body arrives base64-encoded; no body, no body member; no query, no parameters.
        out, _ = self.event("bin", "-H", "Content-Type: application/octet-stream",
                            "--data-binary", "@-", body=bytes(range(256)))
        self.assertTrue(out["event"]["isBase64Encoded"])
        self.assertEqual(base64.b64decode(out["event"]["body"]), bytes(range(256)))
        out, _ = self.event("")
        self.assertEqual(out["event"]["rawPath"], "/")
        self.assertEqual(out["event"]["rawQueryString"], "")
        self.assertNotIn("body", out["event"])
        self.assertNotIn("queryStringParameters", out["event"])

    def ensure_public(self):
        status, _, data = self.server.raw("GET", "/2015-03-31/functions/web/policy")
        if status == 200 and "InvokedViaFunctionUrl" in data.decode():
            return
        if status == 200:
            for sid in ("url", "invoke"):
                self.server.raw("DELETE", "/2015-03-31/functions/web/policy/" + sid)
        self.grant_public("web")

    def test_responses_are_mapped_as_aws_does(self):
        self.ensure_public()
        status, headers, body, _ = curl(self.url + "plain?x=1")
        self.assertEqual((status, headers["content-type"]), (200, "application/json"))
        self.assertEqual(json.loads(body), {"plain": True, "q": {"x": "1"}})
        status, headers, body, _ = curl(self.url + "string")
        self.assertEqual((status, body), (200, b'"just a string"'))
        status, headers, body, _ = curl(self.url + "binary")
        self.assertEqual(status, 201)
        self.assertEqual(headers["content-type"], "image/png")
        self.assertEqual(headers["x-n"], "7")
        self.assertEqual(headers["set-cookie"], ["a=1", "b=2; Path=/; HttpOnly"])
        self.assertEqual(body, bytes(range(256)))
        for path in ("bad", "fail"):
            status, headers, body, _ = curl(self.url + path)
            self.assertEqual(status, 502, path)
            self.assertEqual(json.loads(body), {"Message": "Internal Server Error"})
        # HEAD: the status and headers, no body.
        status, _, body, _ = curl("-I", self.url + "plain")
        self.assertEqual((status, body), (200, b""))

    def test_cors_is_answered_by_lambent(self):
        self.ensure_public()
        status, headers, body, _ = curl(
            "-X", "OPTIONS", self.url + "anything", "-H", "Origin: https://app.example",
            "-H", "Access-Control-Request-Method: POST",
            "-H", "Access-Control-Request-Headers: x-custom")
        self.assertEqual(status, 200)
        self.assertEqual(headers["access-control-allow-origin"], "https://app.example")
        self.assertEqual(headers["access-control-allow-methods"], "GET,POST")
        self.assertEqual(headers["access-control-allow-headers"], "x-custom")
        self.assertEqual(headers["access-control-max-age"], "600")
        self.assertEqual(headers["access-control-allow-credentials"], "true")
        # An origin not allowed gets no CORS headers (the browser refuses).
        status, headers, _, _ = curl(
            "-X", "OPTIONS", self.url, "-H", "Origin: https://other.example",
            "-H", "Access-Control-Request-Method: GET")
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", headers)
        # The actual request: Lambent's CORS headers, the function's own replaced.
        status, headers, body, _ = curl(self.url + "cors", "-H", "Origin: https://app.example")
        self.assertEqual((status, body), (200, b"ok"))
        self.assertEqual(headers["access-control-allow-origin"], "https://app.example")
        self.assertEqual(headers["access-control-expose-headers"], "x-n")

    def test_the_host_form(self):
        self.ensure_public()
        url_id = self.url.split("/url/")[1].strip("/")
        host = "%s.lambda-url.%s.localhost:%d" % (url_id, REGION, self.server.port)
        status, _, body, _ = curl("http://127.0.0.1:%d/deep/path?q=1" % self.server.port,
                                  "-H", "Host: " + host)
        self.assertEqual(status, 200, body)
        e = json.loads(body)["event"]
        self.assertEqual(e["rawPath"], "/deep/path")
        self.assertEqual(e["requestContext"]["domainName"], host)
        # With url_domain set, the server hands out host-form URLs.
        other = Server().start("--url-domain", "lambent.test")
        try:
            c = other.lambda_client()
            c.create_function(FunctionName="h", Runtime="python3.11", Handler="app.handler",
                              Role="arn:aws:iam::%s:role/lambda-role" % ACCOUNT,
                              Code={"ZipFile": make_zip({"app.py": ECHO})})
            u = c.create_function_url_config(FunctionName="h", AuthType="NONE")["FunctionUrl"]
            self.assertRegex(u, r"^http://[a-z0-9]{32}\.lambda-url\.%s\.lambent\.test:%d/$"
                             % (REGION, other.port))
        finally:
            other.close()

    def test_aws_iam_urls_need_a_signature_and_permission(self):
        self.client.create_function(FunctionName="private", Runtime="python3.11",
                                    Handler="app.handler",
                                    Role="arn:aws:iam::%s:role/lambda-role" % ACCOUNT,
                                    Code={"ZipFile": make_zip({"app.py": ECHO})})
        url = self.client.create_function_url_config(FunctionName="private",
                                                     AuthType="AWS_IAM")["FunctionUrl"]
        self.assertEqual(curl(url)[0], 403)
        sig = ["--aws-sigv4", "aws:amz:%s:lambda" % REGION]
        status, _, body, _ = curl(url + "p", *sig, "--user", "%s:%s" % (ROOT_KEY_ID, ROOT_SECRET))
        self.assertEqual(status, 200, body)
        iam = json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]
        self.assertEqual(iam["accessKey"], ROOT_KEY_ID)
        self.assertEqual(iam["userArn"], "arn:aws:iam::%s:root" % ACCOUNT)
        self.assertEqual(curl(url, *sig, "--user", ROOT_KEY_ID + ":" + "x" * 40)[0], 403)
        # A user may call it once a policy allows both actions on the function.
        iam_client = self.server.iam_client()
        iam_client.create_user(UserName="url-caller")
        key = iam_client.create_access_key(UserName="url-caller")["AccessKey"]
        user = "%s:%s" % (key["AccessKeyId"], key["SecretAccessKey"])
        self.assertEqual(curl(url, *sig, "--user", user)[0], 403)
        arn = "arn:aws:lambda:%s:%s:function:private" % (REGION, ACCOUNT)
        iam_client.put_user_policy(UserName="url-caller", PolicyName="url", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
                "Resource": arn, "Condition": {"StringEquals": {
                    "lambda:FunctionUrlAuthType": "AWS_IAM"}}}]}))
        # The condition key only exists on the URL's action: InvokeFunction needs its own grant.
        self.assertEqual(curl(url, *sig, "--user", user)[0], 403)
        iam_client.put_user_policy(UserName="url-caller", PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]}))
        status, _, body, _ = curl(url, *sig, "--user", user)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]["userArn"],
                         "arn:aws:iam::%s:user/url-caller" % ACCOUNT)

    def test_response_stream_urls(self):
        self.client.create_function(FunctionName="streamer", Runtime="nodejs20.x",
                                    Handler="index.handler", Timeout=30, MemorySize=512,
                                    Role="arn:aws:iam::%s:role/lambda-role" % ACCOUNT,
                                    Code={"ZipFile": make_zip({"index.mjs": STREAMER})})
        body = json.dumps({"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}).encode()
        status, _, data = self.server.raw("POST", "/2021-10-31/functions/streamer/url", body,
                                          {"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)
        url = json.loads(data)["FunctionUrl"]
        self.grant_public("streamer")
        # Read with http.client to see when the bytes arrive.
        path = url.split(str(self.server.port), 1)[1]
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        conn.request("GET", path)
        r = conn.getresponse()
        self.assertEqual(r.status, 207)
        self.assertEqual(r.getheader("content-type"), "text/plain")
        self.assertEqual(r.getheader("x-streamed"), "yes")
        self.assertEqual(r.getheader("set-cookie"), "s=1")
        self.assertEqual(r.getheader("transfer-encoding"), "chunked")
        first = r.read1(1024 * 1024)
        got_first = time.monotonic()
        received = len(first)
        while received < 1024 * 1024:  # the rest of the first MiB
            received += len(r.read1(1024 * 1024))
        first_mib = time.monotonic()
        rest = r.read()
        done = time.monotonic()
        self.assertEqual(received + len(rest), 5 * 1024 * 1024)
        self.assertEqual(first[:1], b"y")
        # The function pauses 1.5 s after its first MiB: that MiB came before the pause ended
        # (an ordering through a deliberate pause, not a speed measurement).
        self.assertGreater(done - first_mib, 1.0, (got_first, first_mib, done))
        conn.close()
        # Without an HTTP prelude: 200 with the runtime's content type.
        status, headers, body, _ = curl(url + "raw")
        self.assertEqual((status, body), (200, b"raw bytes"))
        self.assertEqual(headers["content-type"], "application/octet-stream")
        # A failure after the first byte cuts the response short (curl: partial transfer).
        status, _, body, rc = curl(url + "fail")
        self.assertEqual(status, 207)
        self.assertEqual(rc, 18, body[:100])
        self.assertEqual(len(body), 1024 * 1024)


if __name__ == "__main__":
    unittest.main()

"""Lambda@Edge end to end: distributions through the aws CLI v2 and boto3 (CloudFront's rest-xml
API: ETag/If-Match, caller references, invalidations, tags, Lambda@Edge's association rules), and
the edge with curl-like requests: the cache (hits, Age, TTLs, revalidation, ranges, conditional
requests, collapsed misses, invalidation), an HTTP origin and a bucket origin, and functions at
the four trigger points — a redirect and a 401 on viewer request without touching the origin, a
header added on origin response and cached, a viewer-response header on every response, a body
read with IncludeBody, CloudFront's 502/503 pages for refused or failing functions, and logs in
/aws/lambda/us-east-1.<function>."""

import http.client
import http.server
import json
import re
import subprocess
import threading
import time
import unittest
import uuid

from harness import (ACCOUNT, REGION, Server, log_lines, make_zip, sandbox_supported)

EDGE_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}}]})
LAMBDA_ONLY_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": "lambda.amazonaws.com"}}]})

VIEWER_REQUEST = """
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  console.log("VIEWER " + JSON.stringify({uri: request.uri, type: event.Records[0].cf.config.eventType}));
  if (request.uri.startsWith("/old/")) {
    return {status: "301", statusDescription: "Moved Permanently",
            headers: {location: [{key: "Location", value: "/new/" + request.uri.slice(5)}]}};
  }
  if (request.uri.startsWith("/private")) {
    const auth = request.headers["authorization"];
    if (!auth || auth[0].value !== "Bearer open-sesame") {
      return {status: "401", headers: {"www-authenticate": [{key: "WWW-Authenticate", value: "Bearer"}]},
              body: "unauthorized"};
    }
  }
  if (request.uri.startsWith("/body/")) {
    const data = Buffer.from(request.body.data, "base64").toString();
    return {status: "200", headers: {"content-type": [{key: "Content-Type", value: "application/json"}]},
            body: JSON.stringify({got: data, truncated: request.body.inputTruncated, method: request.method})};
  }
  request.headers["x-viewer-saw"] = [{key: "X-Viewer-Saw", value: "yes"}];
  return request;
};
"""

ORIGIN_RESPONSE = """
import json
import re
def handler(event, context):
    cf = event["Records"][0]["cf"]
    response = cf["response"]
    print("ORIGIN " + json.dumps({"uri": cf["request"]["uri"], "status": response["status"],
                                  "fn": context.function_name}))
    response["headers"]["x-origin-fn"] = [{"key": "X-Origin-Fn", "value": "added"}]
    return response
"""

VIEWER_RESPONSE = """
exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers["x-viewer-response"] = [{key: "X-Viewer-Response", value: "every time"}];
  return response;
};
"""

BAD_HEADER = """
def handler(event, context):
    response = event["Records"][0]["cf"]["response"]
    response["headers"]["x-cache"] = [{"key": "X-Cache", "value": "forged"}]
    return response
"""

ORIGIN_REQUEST = """
def handler(event, context):
    cf = event["Records"][0]["cf"]
    request = cf["request"]
    assert request["origin"]["custom"]["domainName"] == "127.0.0.1", request["origin"]
    request["uri"] = "/rewritten" + request["uri"]
    request["headers"]["x-from-origin-request"] = [{"key": "X-From-Origin-Request",
                                                    "value": cf["config"]["eventType"]}]
    return request
"""

FAILING = """
def handler(event, context):
    raise RuntimeError("edge function broke")
"""


class Origin:
    """An HTTP origin on loopback that counts requests per path."""

    def __init__(self):
        self.counts = {}
        self.last_headers = {}
        self.conditional = {}
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                origin.counts[path] = origin.counts.get(path, 0) + 1
                origin.last_headers[path] = dict(self.headers)
                if path.startswith("/slow"):
                    time.sleep(0.7)
                status, headers, body = 200, {"Content-Type": "text/plain"}, ("origin says %s" % self.path).encode()
                if path.startswith("/large"):
                    body = bytes(range(256)) * 1200  # 300 KiB: kept on disk by the edge
                if path.startswith("/short"):
                    headers["Cache-Control"] = "max-age=2"
                    headers["ETag"] = '"v1"'
                if path.startswith("/etag"):
                    headers["ETag"] = '"abc"'
                    headers["Cache-Control"] = "max-age=2"
                    origin.conditional[path] = self.headers.get("If-None-Match")
                    if self.headers.get("If-None-Match") == '"abc"':
                        status, body = 304, b""
                if path.startswith("/nostore"):
                    headers["Cache-Control"] = "no-store"
                if path.startswith("/missing"):
                    status, body = 404, b"not here"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def get(base, path, headers=None, method="GET", body=None, host=None):
    """(status, headers with lower-cased names, body) of one request to the edge."""
    u = base.replace("http://", "")
    h, p = u.split(":")
    conn = http.client.HTTPConnection(h, int(p), timeout=30)
    hdrs = dict(headers or {})
    if host:
        hdrs["Host"] = host
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    out = {}
    for k, v in r.getheaders():
        out[k.lower()] = v
    conn.close()
    return r.status, out, data


def curl(url, *args):
    """(status, headers with lower-cased names, body) from curl."""
    p = subprocess.run(["curl", "-s", "-i", *args, url], capture_output=True, timeout=30, check=True)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def behavior(origin_id, associations=(), path=None, methods=("GET", "HEAD"), ttl=None):
    b = {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "allow-all",
         "AllowedMethods": {"Quantity": len(methods), "Items": list(methods),
                            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
         "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
         "MinTTL": 0,
         "LambdaFunctionAssociations": {"Quantity": len(associations), "Items": [
             {"LambdaFunctionARN": arn, "EventType": event, "IncludeBody": body}
             for arn, event, body in associations]}}
    if ttl is not None:
        b["DefaultTTL"] = ttl
        b["MaxTTL"] = max(ttl, 31536000)
    if path:
        b["PathPattern"] = path
    return b


@unittest.skipUnless(sandbox_supported(), "needs root, namespaces and cgroups")
class EdgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A small memory cache: objects over 128 KiB are kept on disk.
        cls.server = Server().start("--edge-cache-memory-mb", "1")
        cls.origin = Origin()
        cls.lam = cls.server.lambda_client()
        cls.cf = cls.server.client("cloudfront")
        cls.logs = cls.server.logs_client()
        iam = cls.server.iam_client()
        cls.role = iam.create_role(RoleName="edge-role", AssumeRolePolicyDocument=EDGE_TRUST)["Role"]["Arn"]
        iam.attach_role_policy(RoleName="edge-role",
                               PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        cls.lambda_only_role = iam.create_role(RoleName="lambda-only",
                                               AssumeRolePolicyDocument=LAMBDA_ONLY_TRUST)["Role"]["Arn"]
        cls.arns = {}
        for name, runtime, handler, code in [
                ("viewer-req", "nodejs20.x", "index.handler", {"index.js": VIEWER_REQUEST}),
                ("origin-resp", "python3.11", "app.handler", {"app.py": ORIGIN_RESPONSE}),
                ("viewer-resp", "nodejs20.x", "index.handler", {"index.js": VIEWER_RESPONSE}),
                ("bad-header", "python3.11", "app.handler", {"app.py": BAD_HEADER}),
                ("failing", "python3.11", "app.handler", {"app.py": FAILING}),
                ("origin-req", "python3.11", "app.handler", {"app.py": ORIGIN_REQUEST})]:
            cls.lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler,
                                    Role=cls.role, Code={"ZipFile": make_zip(code)}, Timeout=5,
                                    MemorySize=128)
            cls.arns[name] = cls.lam.publish_version(FunctionName=name)["FunctionArn"]
        s3 = cls.server.s3_client()
        s3.create_bucket(Bucket="edge-assets")
        s3.put_bucket_policy(Bucket="edge-assets", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::edge-assets/*"}]}))
        s3.put_object(Bucket="edge-assets", Key="assets/logo.txt", Body=b"0123456789" * 10,
                      ContentType="text/plain")
        a = cls.arns
        config = {
            "CallerReference": "edge-test-1", "Comment": "edge test", "Enabled": True,
            "Origins": {"Quantity": 2, "Items": [
                {"Id": "web", "DomainName": "127.0.0.1",
                 "CustomOriginConfig": {"HTTPPort": cls.origin.port, "HTTPSPort": 443,
                                        "OriginProtocolPolicy": "http-only"}},
                {"Id": "bucket", "DomainName": "edge-assets.s3.us-east-1.amazonaws.com",
                 "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": behavior("web", [
                (a["viewer-req"], "viewer-request", False),
                (a["origin-resp"], "origin-response", False),
                (a["viewer-resp"], "viewer-response", False)]),
            "CacheBehaviors": {"Quantity": 5, "Items": [
                behavior("web", [(a["origin-req"], "origin-request", False)], path="/rewrite/*"),
                behavior("web", [(a["bad-header"], "origin-response", False)], path="/bad/*"),
                behavior("web", [(a["failing"], "origin-request", False)], path="/failing/*"),
                behavior("web", [(a["viewer-req"], "viewer-request", True)], path="/body/*",
                         methods=("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")),
                behavior("bucket", [], path="/assets/*")]},
        }
        created = cls.cf.create_distribution(DistributionConfig=config)
        cls.dist = created["Distribution"]
        cls.etag = created["ETag"]
        cls.host = cls.dist["DomainName"]

    @classmethod
    def tearDownClass(cls):
        cls.origin.close()
        cls.server.close()

    def edge(self, path, **kw):
        return get(self.server.edge, path, host=self.host, **kw)

    # --- the control plane -------------------------------------------------------------------

    def test_distribution_reads_back_with_its_etag_and_domain(self):
        got = self.cf.get_distribution(Id=self.dist["Id"])
        self.assertEqual(got["Distribution"]["Status"], "Deployed")
        self.assertRegex(got["Distribution"]["Id"], r"^E[A-Z0-9]{13}$")
        self.assertRegex(got["Distribution"]["DomainName"], r"^d[a-z0-9]{13}\.cloudfront\.net$")
        self.assertEqual(got["Distribution"]["ARN"],
                         "arn:aws:cloudfront::%s:distribution/%s" % (ACCOUNT, self.dist["Id"]))
        cfg = self.cf.get_distribution_config(Id=self.dist["Id"])
        self.assertEqual(cfg["DistributionConfig"]["CacheBehaviors"]["Quantity"], 5)
        assoc = cfg["DistributionConfig"]["DefaultCacheBehavior"]["LambdaFunctionAssociations"]
        self.assertEqual(assoc["Quantity"], 3)
        listed = self.cf.list_distributions()["DistributionList"]
        self.assertIn(self.dist["Id"], [d["Id"] for d in listed["Items"]])
        # Paged one at a time, every distribution comes exactly once.
        for i in range(2):
            self.cf.create_distribution(DistributionConfig=minimal_config(
                "page-%d-%s" % (i, uuid.uuid4().hex), self.origin.port))
        everything = [d["Id"] for d in self.cf.list_distributions()["DistributionList"]["Items"]]
        paged, marker = [], ""
        while True:
            page = self.cf.list_distributions(Marker=marker, MaxItems="1")["DistributionList"]
            paged += [d["Id"] for d in page.get("Items", [])]
            if not page["IsTruncated"]:
                break
            marker = page["NextMarker"]
        self.assertEqual(paged, everything)
        # The aws CLI reads the same.
        _, out, _ = self.server.aws("cloudfront", "get-distribution", "--id", self.dist["Id"])
        self.assertEqual(out["Distribution"]["DomainName"], self.host)

    def test_updates_and_deletes_need_the_current_etag_and_a_disabled_distribution(self):
        config = minimal_config("etag-test", self.origin.port)
        d = self.cf.create_distribution(DistributionConfig=config)
        dist_id, etag = d["Distribution"]["Id"], d["ETag"]
        # The same request again answers the same distribution; another config conflicts.
        again = self.cf.create_distribution(DistributionConfig=config)
        self.assertEqual(again["Distribution"]["Id"], dist_id)
        other = dict(config, Comment="different")
        err = self.aws_error(self.cf.create_distribution, DistributionConfig=other)
        self.assertEqual(err, ("DistributionAlreadyExists", 409))
        config["Comment"] = "changed"
        self.assertEqual(self.aws_error(self.cf.update_distribution, Id=dist_id, IfMatch="EWRONG",
                                        DistributionConfig=config), ("PreconditionFailed", 412))
        updated = self.cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=config)
        self.assertNotEqual(updated["ETag"], etag)
        self.assertEqual(updated["Distribution"]["DistributionConfig"]["Comment"], "changed")
        self.assertEqual(self.aws_error(self.cf.delete_distribution, Id=dist_id,
                                        IfMatch=updated["ETag"]), ("DistributionNotDisabled", 409))
        config["Enabled"] = False
        disabled = self.cf.update_distribution(Id=dist_id, IfMatch=updated["ETag"],
                                               DistributionConfig=config)
        self.cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
        self.assertEqual(self.aws_error(self.cf.get_distribution, Id=dist_id),
                         ("NoSuchDistribution", 404))
        # Tags.
        arn = self.dist["ARN"]
        self.cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "team", "Value": "web"}]})
        self.assertEqual(self.cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"],
                         [{"Key": "team", "Value": "web"}])
        self.cf.untag_resource(Resource=arn, TagKeys={"Items": ["team"]})
        self.assertEqual(self.cf.list_tags_for_resource(Resource=arn)["Tags"].get("Items", []), [])

    def test_lambda_edge_rules_are_checked_as_aws_does(self):
        name = "rules-fn"
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                 Role=self.role, Code={"ZipFile": make_zip({"app.py": FAILING})},
                                 Timeout=5)
        v1 = self.lam.publish_version(FunctionName=name)["FunctionArn"]
        latest = v1.rsplit(":", 1)[0] + ":$LATEST"

        def refused(arn, event="viewer-request"):
            config = minimal_config("rules-" + uuid.uuid4().hex, self.origin.port)
            config["DefaultCacheBehavior"]["LambdaFunctionAssociations"] = {
                "Quantity": 1, "Items": [{"LambdaFunctionARN": arn, "EventType": event}]}
            from botocore.exceptions import ClientError
            try:
                self.cf.create_distribution(DistributionConfig=config)
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "InvalidLambdaFunctionAssociation")
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
                return e.response["Error"]["Message"]
            self.fail("accepted %s" % arn)

        self.assertIn("must reference a specific function version", refused(latest))
        self.assertIn("must reference a specific function version", refused(v1.rsplit(":", 1)[0]))
        self.lam.update_function_configuration(FunctionName=name,
                                               Environment={"Variables": {"AB": "1"}})
        wait_updated(self.lam, name)
        v2 = self.lam.publish_version(FunctionName=name)["FunctionArn"]
        self.assertIn("cannot have environment variables", refused(v2))
        self.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {}},
                                               Timeout=10)
        wait_updated(self.lam, name)
        v3 = self.lam.publish_version(FunctionName=name)["FunctionArn"]
        self.assertIn("Max allowed: 5", refused(v3, "viewer-request"))
        self.lam.update_function_configuration(FunctionName=name, Timeout=5,
                                               Role=self.lambda_only_role)
        wait_updated(self.lam, name)
        v4 = self.lam.publish_version(FunctionName=name)["FunctionArn"]
        self.assertIn("edgelambda.amazonaws.com", refused(v4, "origin-request"))
        self.assertIn("cannot retrieve", refused(v1.rsplit(":", 1)[0] + ":99"))
        # A caller who may manage distributions but not read the function is refused too.
        iam = self.server.iam_client()
        iam.create_user(UserName="cf-only")
        iam.put_user_policy(UserName="cf-only", PolicyName="cf", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudfront:*",
                                                    "Resource": "*"}]}))
        key = iam.create_access_key(UserName="cf-only")["AccessKey"]
        import boto3
        cf_only = boto3.client("cloudfront", endpoint_url=self.server.endpoint, region_name=REGION,
                               aws_access_key_id=key["AccessKeyId"],
                               aws_secret_access_key=key["SecretAccessKey"])
        config = minimal_config("cf-only", self.origin.port)
        config["DefaultCacheBehavior"]["LambdaFunctionAssociations"] = {
            "Quantity": 1, "Items": [{"LambdaFunctionARN": self.arns["viewer-req"],
                                      "EventType": "viewer-request"}]}
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            cf_only.create_distribution(DistributionConfig=config)
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidLambdaFunctionAssociation")
        self.assertIn("lambda:GetFunction", cm.exception.response["Error"]["Message"])
        # Without any CloudFront permission: AccessDenied.
        iam.delete_user_policy(UserName="cf-only", PolicyName="cf")
        with self.assertRaises(ClientError) as cm:
            cf_only.list_distributions()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")

    # --- the edge ----------------------------------------------------------------------------

    def test_viewer_request_redirects_without_touching_the_origin(self):
        status, headers, _ = curl(self.server.edge + "/old/page.html", "-H", "Host: " + self.host)
        self.assertEqual(status, 301)
        self.assertEqual(headers["location"], "/new/page.html")
        self.assertEqual(headers["x-cache"], "LambdaGeneratedResponse from cloudfront")
        self.assertNotIn("x-viewer-response", headers)  # not run after a viewer-request answer
        self.assertEqual(self.origin.counts.get("/old/page.html", 0), 0)
        # The function ran as the us-east-1 replica, logging where AWS logs edge replicas.
        want = {"uri": "/old/page.html", "type": "viewer-request"}
        seen = poll(lambda: want in log_lines(self.logs, "us-east-1.viewer-req", "VIEWER"))
        self.assertTrue(seen, "the replica's log group has no record of the request")

    def test_auth_check_on_viewer_request(self):
        status, headers, body = curl(self.server.edge + "/private/doc", "-H", "Host: " + self.host)
        self.assertEqual((status, body), (401, b"unauthorized"))
        self.assertEqual(headers["www-authenticate"], "Bearer")
        self.assertEqual(self.origin.counts.get("/private/doc", 0), 0)
        status, headers, body = self.edge("/private/doc",
                                          headers={"Authorization": "Bearer open-sesame"})
        self.assertEqual(status, 200)
        self.assertEqual(body, b"origin says /private/doc")
        # The request the function changed is what the origin saw.
        self.assertEqual(self.origin.last_headers["/private/doc"].get("X-Viewer-Saw"), "yes")

    def test_origin_response_header_is_cached_and_viewer_response_runs_every_time(self):
        path = "/cached-" + uuid.uuid4().hex
        status, first, body = self.edge(path)
        self.assertEqual(status, 200)
        self.assertEqual(first["x-cache"], "Miss from cloudfront")
        self.assertEqual(first["x-origin-fn"], "added")
        self.assertEqual(first["x-viewer-response"], "every time")
        status, second, body2 = self.edge(path)
        self.assertEqual(second["x-cache"], "Hit from cloudfront")
        self.assertEqual(second["x-origin-fn"], "added")
        self.assertEqual(second["x-viewer-response"], "every time")
        self.assertIn("age", second)
        self.assertEqual(body, body2)
        self.assertEqual(self.origin.counts[path], 1)
        # The origin-response function ran once (the hit did not invoke it).
        poll(lambda: [e for e in log_lines(self.logs, "us-east-1.origin-resp", "ORIGIN")
                      if e["uri"] == path])
        time.sleep(1)  # a second invocation's record would be there by now
        seen = [e for e in log_lines(self.logs, "us-east-1.origin-resp", "ORIGIN") if e["uri"] == path]
        self.assertEqual(seen, [{"uri": path, "status": "200", "fn": "us-east-1.origin-resp"}])

    def test_invalidation_makes_the_next_request_a_miss(self):
        path = "/inv-" + uuid.uuid4().hex
        self.assertEqual(self.edge(path)[1]["x-cache"], "Miss from cloudfront")
        self.assertEqual(self.edge(path)[1]["x-cache"], "Hit from cloudfront")
        _, out, _ = self.server.aws("cloudfront", "create-invalidation", "--distribution-id",
                                    self.dist["Id"], "--paths", path)
        inv = out["Invalidation"]
        self.assertRegex(inv["Id"], r"^I[A-Z0-9]{13}$")
        self.server.aws("cloudfront", "wait", "invalidation-completed", "--distribution-id",
                        self.dist["Id"], "--id", inv["Id"])
        self.assertEqual(self.edge(path)[1]["x-cache"], "Miss from cloudfront")
        self.assertEqual(self.origin.counts[path], 2)
        got = self.cf.get_invalidation(DistributionId=self.dist["Id"], Id=inv["Id"])
        self.assertEqual(got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"], [path])
        listed = self.cf.list_invalidations(DistributionId=self.dist["Id"])["InvalidationList"]
        self.assertIn(inv["Id"], [i["Id"] for i in listed["Items"]])
        # A wildcard.
        self.edge(path + "/a")
        self.cf.create_invalidation(DistributionId=self.dist["Id"], InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": [path + "*"]}, "CallerReference": uuid.uuid4().hex})
        self.assertEqual(self.edge(path + "/a")[1]["x-cache"], "Miss from cloudfront")

    def test_origin_request_changes_what_the_origin_gets(self):
        path = "/rewrite/" + uuid.uuid4().hex
        status, headers, body = self.edge(path)
        self.assertEqual((status, body), (200, ("origin says /rewritten" + path).encode()))
        self.assertEqual(self.origin.counts.get(path, 0), 0)
        self.assertEqual(self.origin.last_headers["/rewritten" + path]["X-From-Origin-Request"],
                         "origin-request")
        # Cached under the viewer's path: the next request neither runs the function nor
        # reaches the origin.
        self.assertEqual(self.edge(path)[1]["x-cache"], "Hit from cloudfront")
        self.assertEqual(self.origin.counts["/rewritten" + path], 1)
        # Invalidated by the viewer's path too.
        self.cf.create_invalidation(DistributionId=self.dist["Id"], InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": [path]}, "CallerReference": uuid.uuid4().hex})
        self.assertEqual(self.edge(path)[1]["x-cache"], "Miss from cloudfront")

    def test_forbidden_header_from_a_function_is_a_502(self):
        status, headers, body = self.edge("/bad/thing")
        self.assertEqual(status, 502)
        self.assertEqual(headers["x-cache"], "LambdaValidationError from cloudfront")
        self.assertIn(b"The Lambda function result failed validation", body)
        self.assertIn(b"x-cache", body)

    def test_failing_function_is_a_503(self):
        status, headers, body = self.edge("/failing/x")
        self.assertEqual(status, 503)
        self.assertEqual(headers["x-cache"], "LambdaExecutionError from cloudfront")
        self.assertEqual(self.origin.counts.get("/failing/x", 0), 0)

    def test_include_body_shows_the_request_body(self):
        status, headers, body = self.edge("/body/echo", method="POST", body=b"hello edge")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"got": "hello edge", "truncated": False, "method": "POST"})

    def test_bucket_origin_ranges_and_conditions(self):
        status, headers, body = self.edge("/assets/logo.txt")
        self.assertEqual((status, body), (200, b"0123456789" * 10))
        etag = headers["etag"]
        status, headers, body = self.edge("/assets/logo.txt", headers={"Range": "bytes=5-9"})
        self.assertEqual((status, body), (206, b"56789"))
        self.assertEqual(headers["content-range"], "bytes 5-9/100")
        self.assertEqual(headers["x-cache"], "Hit from cloudfront")
        status, _, body = self.edge("/assets/logo.txt", headers={"Range": "bytes=200-"})
        self.assertEqual(status, 416)
        status, _, body = self.edge("/assets/logo.txt", headers={"If-None-Match": etag})
        self.assertEqual((status, body), (304, b""))
        status, _, _ = self.edge("/assets/missing.txt")
        self.assertEqual(status, 404)  # the bucket's answer (public read, no such key)

    def test_stale_objects_are_revalidated_and_no_store_is_not_cached(self):
        path = "/short-" + uuid.uuid4().hex
        self.edge(path)
        self.assertEqual(self.edge(path)[1]["x-cache"], "Hit from cloudfront")
        time.sleep(2.2)
        # max-age=2 has passed: the origin is asked again (it has no 304 for this path).
        self.assertEqual(self.edge(path)[1]["x-cache"], "Miss from cloudfront")
        # With a validator, a stale object is revalidated: the origin's 304 refreshes it.
        etag_path = "/etag-" + uuid.uuid4().hex
        self.edge(etag_path)
        time.sleep(2.2)
        status, headers, body = self.edge(etag_path)
        self.assertEqual((status, headers["x-cache"]), (200, "RefreshHit from cloudfront"))
        self.assertEqual(body, ("origin says %s" % etag_path).encode())
        self.assertEqual(self.origin.counts[etag_path], 2)
        self.assertEqual(self.origin.conditional[etag_path], '"abc"')
        self.assertEqual(self.edge(etag_path)[1]["x-cache"], "Hit from cloudfront")
        nostore = "/nostore-" + uuid.uuid4().hex
        self.edge(nostore)
        self.assertEqual(self.edge(nostore)[1]["x-cache"], "Miss from cloudfront")
        self.assertEqual(self.origin.counts[nostore], 2)
        # Errors are cached for 10 s.
        missing = "/missing-" + uuid.uuid4().hex
        self.assertEqual(self.edge(missing)[0], 404)
        status, headers, _ = self.edge(missing)
        self.assertEqual((status, headers["x-cache"]), (404, "Hit from cloudfront"))

    def test_large_objects_are_served_from_the_disk_cache(self):
        path = "/large-" + uuid.uuid4().hex
        status, headers, first = self.edge(path)
        self.assertEqual((status, len(first)), (200, 300 * 1024))
        status, headers, again = self.edge(path)
        self.assertEqual(headers["x-cache"], "Hit from cloudfront")
        self.assertEqual(again, first)
        status, _, part = self.edge(path, headers={"Range": "bytes=-10"})
        self.assertEqual((status, part), (206, first[-10:]))
        self.assertEqual(self.origin.counts[path], 1)
        disk = re.search(r"lambent_edge_cache_disk_bytes (\d+)", self.metrics())
        self.assertGreaterEqual(int(disk.group(1)), 300 * 1024)

    def test_alternate_domain_names(self):
        config = minimal_config("alias-" + uuid.uuid4().hex, self.origin.port)
        config["Aliases"] = {"Quantity": 1, "Items": ["www.example.test"]}
        d = self.cf.create_distribution(DistributionConfig=config)["Distribution"]
        status, headers, body = get(self.server.edge, "/via-alias", host="WWW.example.test:8080")
        self.assertEqual((status, body), (200, b"origin says /via-alias"))
        # Another distribution cannot take the name.
        config2 = minimal_config("alias-" + uuid.uuid4().hex, self.origin.port)
        config2["Aliases"] = {"Quantity": 1, "Items": ["www.example.test"]}
        self.assertEqual(self.aws_error(self.cf.create_distribution, DistributionConfig=config2),
                         ("CNAMEAlreadyExists", 409))
        # By the distribution's id as its host label too.
        status, _, _ = get(self.server.edge, "/x", host=d["Id"].lower() + ".cloudfront.net")
        self.assertEqual(status, 200)

    def test_concurrent_misses_share_one_origin_request(self):
        path = "/slow-" + uuid.uuid4().hex
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.edge(path)))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r[0] for r in results], [200] * 6)
        self.assertEqual(self.origin.counts[path], 1)

    def test_hosts_paths_and_metrics(self):
        # The path form, and an unknown host.
        status, headers, _ = get(self.server.edge, "/_lambent/edge/%s/plain" % self.dist["Id"])
        self.assertEqual(status, 200)
        status, headers, body = get(self.server.edge, "/plain", host="dnope.cloudfront.net")
        self.assertEqual(status, 403)
        self.assertIn(b"The request could not be satisfied", body)
        text = self.metrics()
        self.assertRegex(text, r"lambent_edge_requests_total [1-9]")
        self.assertRegex(text, r"lambent_edge_lambda_invocations_total [1-9]")

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        return text

    def aws_error(self, fn, **kw):
        from botocore.exceptions import ClientError
        try:
            fn(**kw)
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        self.fail("no error")


def minimal_config(ref, port):
    return {"CallerReference": ref, "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [
                {"Id": "web", "DomainName": "127.0.0.1",
                 "CustomOriginConfig": {"HTTPPort": port, "HTTPSPort": 443,
                                        "OriginProtocolPolicy": "http-only"}}]},
            "DefaultCacheBehavior": behavior("web")}


def wait_updated(lam, name):
    for _ in range(100):
        if lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") != "InProgress":
            return
        time.sleep(0.1)


def poll(fn, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.3)
    return fn()


if __name__ == "__main__":
    unittest.main()

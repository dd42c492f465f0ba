"""The environments' network (issue: functions reach their downstream resources), checked from
inside functions against a real server: unmodified boto3 code (no endpoint_url, no keys) reaches
Lambent's queues, functions and STS over HTTPS with certificate verification, as its execution
role; egress policies (none, platform, internet, allow/deny lists) toward a test host in a
network namespace this test creates; what must stay unreachable (the host, other environments,
their Runtime APIs, the server's listener); Init with a whole CPU; and nothing left behind after
environments come and go and after a kill -9 of the server.

Traffic goes only to loopback, to the server's own network and to the test host in the namespace
made here."""

import json
import os
import re
import subprocess
import threading
import time
import unittest

import boto3

from harness import REGION, Server, make_zip, sandbox_supported

IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "ip"


def kernel_has_nftables():
    try:
        return subprocess.run(["nft", "list", "tables"], capture_output=True).returncode == 0
    except OSError:
        return False


NETWORK_SUPPORTED = sandbox_supported() and kernel_has_nftables()
WHY_NOT = "needs root, namespaces, cgroups and nf_tables in the kernel (`nft list tables` fails)"

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})

# Unmodified AWS code: no endpoint_url, no keys, as it would run on AWS.
AWS_CODE = r'''
import boto3, json, os

def handler(event, context):
    out = {"env": {k: os.environ.get(k) for k in
                   ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")}}
    try:
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
        out["url"] = url
        sqs.send_message(QueueUrl=url, MessageBody=event["body"])
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
        out["received"] = [m["Body"] for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        sqs.send_message(QueueUrl=url, MessageBody=event["body"] + " again")
        out["sts"] = boto3.client("sts").get_caller_identity()["Arn"]
        r = boto3.client("lambda").invoke(FunctionName=event["callee"], Payload=b'{"ping": 1}')
        out["invoked"] = json.loads(r["Payload"].read())
        out["endpoint"] = sqs.meta.endpoint_url
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    return out
'''

# The same from Node.js with the SDK v3 the runtime carries (an ES module: bare imports resolve
# to /var/runtime/node_modules as on AWS), no endpoint and no keys in the code.
NODE_CODE = r'''
import { SQSClient, GetQueueUrlCommand, SendMessageCommand, ReceiveMessageCommand,
         DeleteMessageCommand } from "@aws-sdk/client-sqs";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { LambdaClient, InvokeCommand } from "@aws-sdk/client-lambda";

export const handler = async (event) => {
  const out = {};
  try {
    const sqs = new SQSClient({});
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: event.queue }));
    out.url = QueueUrl;
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: event.body }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));
    out.received = (got.Messages || []).map((m) => m.Body);
    for (const m of got.Messages || []) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    out.sts = (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn;
    const r = await new LambdaClient({}).send(
      new InvokeCommand({ FunctionName: event.callee, Payload: Buffer.from('{"ping": 2}') }));
    out.invoked = JSON.parse(Buffer.from(r.Payload).toString());
  } catch (e) {
    out.error = `${e.name}: ${e.message}`;
  }
  return out;
};
'''

SEND_ONLY = r'''
import boto3

def handler(event, context):
    try:
        boto3.client("sqs").send_message(QueueUrl=event["url"], MessageBody="x")
        return {"sent": True}
    except Exception as e:
        return {"error": e.response["Error"]["Code"] if hasattr(e, "response") else repr(e),
                "message": str(e)}
'''

# Connects where the event says and reports how it went: ok, or the errno (a refusal must come
# at once: a timeout is reported as such and fails the tests).
PROBE = r'''
import errno, json, socket, time, urllib.request

def own_address():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.213.0.1", 53))
        return s.getsockname()[0]
    except OSError as e:
        return None
    finally:
        s.close()

def connect(host, port):
    t = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=5).close()
        return {"ok": True}
    except socket.timeout:
        return {"ok": False, "error": "timeout", "seconds": time.monotonic() - t}
    except OSError as e:
        return {"ok": False, "error": errno.errorcode.get(e.errno, str(e.errno)),
                "seconds": time.monotonic() - t}

def handler(event, context):
    out = {"address": own_address()}
    for name, (host, port) in event.get("connect", {}).items():
        out[name] = connect(host, port)
    if "get" in event:
        try:
            out["get"] = urllib.request.urlopen(event["get"], timeout=5).read().decode()
        except Exception as e:
            out["get"] = "%s: %s" % (type(e).__name__, e)
    if "resolve" in event:
        try:
            out["resolve"] = socket.gethostbyname(event["resolve"])
        except Exception as e:
            out["resolve"] = "%s: %s" % (type(e).__name__, e)
    return out
'''

# Opens `n` connections to the platform endpoint and holds them: how many the server closed at
# once (its share is 64 per environment), then keeps the rest open for `hold` seconds.
HOG = r'''
import socket, time

def handler(event, context):
    socks = [socket.create_connection(("10.213.0.1", 80), timeout=5) for _ in range(event["n"])]
    for s in socks:
        s.setblocking(False)  # (with a timeout, Python waits for data before each recv)
    # The server closes what is over the share as it accepts: wait (up to 5 s, for a busy
    # machine) until no more than the share is open.
    open_socks = list(socks)
    deadline = time.time() + 5
    while time.time() < deadline:
        still = []
        for s in open_socks:
            try:
                if s.recv(1, socket.MSG_PEEK) != b"":
                    still.append(s)
            except BlockingIOError:
                still.append(s)
            except OSError:
                pass
        open_socks = still
        if len(open_socks) <= event["share"]:
            break
        time.sleep(0.2)
    time.sleep(event["hold"])
    return {"open": len(open_socks), "closed": len(socks) - len(open_socks)}
'''

REFUSALS = {"ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EACCES", "EPERM"}


DNS_RESPONDER = r'''
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 53))
while True:
    q, peer = s.recvfrom(512)
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    answer = b""
    if qtype == 1:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("198.51.100.2")
    s.sendto(q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if answer else 0, 0, 0) + question + answer,
             peer)
'''


def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


class TestHost:
    """An HTTP server in a network namespace of its own, reached from the host over a veth pair
    (198.51.100.0/30, TEST-NET-2: documentation addresses, nothing real)."""

    def __init__(self):
        # The addresses are fixed, so a test host left by a run that was killed (SIGKILL leaves
        # no chance to clean up) would take the route and fail every egress test: those whose
        # creator is gone are removed first. Names carry the creator's pid for that.
        self.sweep()
        self.ns = "lbtest-%d" % os.getpid()
        self.link = "lbth%d" % os.getpid()
        self.address = "198.51.100.2"
        self.web = self.dns = None
        run(IP, "netns", "add", self.ns)
        run(IP, "link", "add", self.link, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
        run(IP, "addr", "add", "198.51.100.1/30", "dev", self.link)
        run(IP, "link", "set", self.link, "up")
        run(IP, "-n", self.ns, "addr", "add", "198.51.100.2/30", "dev", "eth0")
        run(IP, "-n", self.ns, "link", "set", "eth0", "up")
        run(IP, "-n", self.ns, "link", "set", "lo", "up")
        run(IP, "-n", self.ns, "route", "add", "default", "via", "198.51.100.1")
        self.web = subprocess.Popen(
            [IP, "netns", "exec", self.ns, "/usr/bin/python3", "-c",
             "import http.server, socketserver\n"
             "class H(http.server.BaseHTTPRequestHandler):\n"
             "    def do_GET(self):\n"
             "        b = b'hello from the test host'\n"
             "        self.send_response(200); self.send_header('Content-Length', str(len(b)))\n"
             "        self.end_headers(); self.wfile.write(b)\n"
             "    def log_message(self, *a): pass\n"
             # Not http.server.HTTPServer: its bind asks the resolver for the address's name
             # (getfqdn), and from this namespace the machine's resolver is unreachable (a
             # 10 s wait, and a query that must not leave the test's own hosts).
             "socketserver.TCPServer(('198.51.100.2', 8080), H).serve_forever()\n"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # A resolver that answers every A question with the test host's address (the server's
        # DNS forwards names beyond the platform here: --dns-upstream).
        self.dns = subprocess.Popen(
            [IP, "netns", "exec", self.ns, "/usr/bin/python3", "-c", DNS_RESPONDER],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Both servers answer before any test runs (a test host that is not up would fail the
        # egress tests for the wrong reason).
        deadline = time.time() + 30
        probe = ("import socket; socket.create_connection(('198.51.100.2', 8080), 1).close()\n"
                 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)\n"
                 "s.sendto(bytes.fromhex('00010100000100000000000004686f7374000001'\n"
                 "                       '0001'), ('198.51.100.2', 53)); s.recv(512)\n")
        while True:
            r = run(IP, "netns", "exec", self.ns, "/usr/bin/python3", "-c", probe, check=False)
            if r.returncode == 0:
                break
            if time.time() > deadline:
                self.close()
                raise RuntimeError("the test host's servers did not start: " + r.stderr)
            time.sleep(0.1)

    @staticmethod
    def sweep():
        for ns in re.findall(r"^lbtest-(\S+)", run(IP, "netns", "list").stdout, re.M):
            pids = run(IP, "netns", "pids", "lbtest-" + ns, check=False).stdout.split()
            if ns.isdigit() and os.path.exists("/proc/" + ns) and pids:
                raise RuntimeError("another run's test host (lbtest-%s) is up: the address "
                                   "198.51.100.2 cannot be shared" % ns)
            for pid in pids:
                run("kill", "-9", pid, check=False)
            run(IP, "link", "del", "lbth" + ns, check=False)
            run(IP, "netns", "del", "lbtest-" + ns, check=False)

    def close(self):
        for p in (self.web, self.dns):
            if p:
                p.kill()
                p.wait()
        run(IP, "link", "del", self.link, check=False)
        run(IP, "netns", "del", self.ns, check=False)


def host_addresses():
    out = run(IP, "-4", "-o", "addr", "show").stdout
    return [a for a in re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out) if not a.startswith("127.")]


def host_leftovers(uplink):
    """What one server's uplink `lbu<N>` puts on the host: the link, its address, its table (other
    servers may run meanwhile: only this one's are looked at)."""
    n = int(uplink[3:])
    links = re.findall(r"^\d+: (%s)[:@]" % uplink, run(IP, "-o", "link").stdout, re.M)
    addrs = re.findall(r"inet (100\.127\.\d+\.\d+)/31 .* %s" % uplink,
                       run(IP, "-4", "-o", "addr").stdout)
    tables = re.findall(r"table ip (lambent_uplink_%d)$" % n, run("nft", "list", "tables").stdout,
                        re.M)
    return links + addrs + tables


# The canonical Lambda example: an upload to a bucket runs a function, which reads the object
# and writes a derived one, with unmodified boto3 (no endpoint, no keys: its role's).
THUMB_CODE = '''
import boto3, urllib.parse
def handler(event, context):
    s3 = boto3.client("s3")
    for r in event["Records"]:
        bucket = r["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(r["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key="thumbs/" + key.split("/", 1)[1] + ".txt",
                      Body=("%d bytes via %s" % (len(body), s3.meta.endpoint_url)).encode())
    return {}
'''


@unittest.skipUnless(NETWORK_SUPPORTED, WHY_NOT)
class NetworkTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.host = TestHost()
        cls.addClassCleanup(cls.host.close)
        # On all addresses, so that the host's other addresses do serve the main listener.
        cls.server = Server().start("--dns-upstream", cls.host.address, listen="0.0.0.0:0")
        cls.client = cls.server.lambda_client()
        cls.iam = cls.server.iam_client()
        cls.sqs = boto3.client("sqs", endpoint_url=cls.server.endpoint, region_name=REGION)
        cls.queue = cls.sqs.create_queue(QueueName="net-queue")["QueueUrl"]
        cls.queue_arn = "arn:aws:sqs:%s:000000000000:net-queue" % REGION
        cls.role = cls.make_role("net-full", [
            {"Effect": "Allow", "Action": ["sqs:GetQueueUrl", "sqs:SendMessage",
                                           "sqs:ReceiveMessage", "sqs:DeleteMessage"],
             "Resource": cls.queue_arn},
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}])
        cls.limited = cls.make_role("net-receive-only", [
            {"Effect": "Allow", "Action": ["sqs:ReceiveMessage"], "Resource": cls.queue_arn}])
        cls.make("net-callee", "def handler(event, context):\n    return {'pong': event}\n")

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    @classmethod
    def make_role(cls, name, statements):
        arn = cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        cls.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        return arn

    @classmethod
    def make(cls, name, code, role=None, tags=None, memory=256, runtime="python3.11",
             handler="app.handler"):
        files = {"app.py": code} if runtime.startswith("python") else {"index.mjs": code}
        args = dict(FunctionName=name, Runtime=runtime, Handler=handler, Role=role or cls.role,
                    Code={"ZipFile": make_zip(files)}, Timeout=30, MemorySize=memory)
        if tags:
            args["Tags"] = tags
        cls.client.create_function(**args)

    def invoke(self, name, event):
        r = self.client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        body = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, body)
        return body

    def test_unmodified_boto3_reaches_queues_functions_and_sts_over_https(self):
        self.make("net-aws", AWS_CODE)
        out = self.invoke("net-aws", {"queue": "net-queue", "body": "from inside",
                                      "callee": "net-callee"})
        self.assertNotIn("error", out, out)
        # Over HTTPS, by the service's own name, with the certificate verified (boto3's default).
        self.assertTrue(out["url"].startswith("https://sqs.%s.amazonaws.com/" % REGION), out)
        self.assertEqual(out["endpoint"], "https://sqs.%s.amazonaws.com" % REGION)
        self.assertEqual(out["received"], ["from inside"])
        self.assertEqual(out["sts"],
                         "arn:aws:sts::000000000000:assumed-role/net-full/net-aws")
        self.assertEqual(out["invoked"], {"pong": {"ping": 1}})
        self.assertEqual(out["env"]["AWS_ENDPOINT_URL"], "https://10.213.0.1")
        self.assertEqual(out["env"]["AWS_CA_BUNDLE"], "/etc/ssl/certs/ca-certificates.crt")
        self.assertEqual(out["env"]["NODE_EXTRA_CA_CERTS"], "/etc/ssl/certs/lambent-ca.pem")
        # What the function sent is in the queue outside.
        got = self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=2)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["from inside again"])
        self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=got[0]["ReceiptHandle"])

    def test_an_upload_runs_a_function_that_reads_and_writes_the_bucket_from_inside(self):
        s3 = self.server.s3_client()
        s3.create_bucket(Bucket="net-images")
        role = self.make_role("net-thumbs", [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": "arn:aws:s3:::net-images/*"},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": "*"}])
        self.make("net-thumbs", THUMB_CODE, role=role)
        self.client.add_permission(FunctionName="net-thumbs", StatementId="s3",
                                   Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                                   SourceArn="arn:aws:s3:::net-images")
        fn_arn = "arn:aws:lambda:%s:000000000000:function:net-thumbs" % REGION
        s3.put_bucket_notification_configuration(Bucket="net-images", NotificationConfiguration={
            "LambdaFunctionConfigurations": [{
                "LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}}}]})
        s3.put_object(Bucket="net-images", Key="images/a cat.jpg", Body=b"x" * 1234)
        deadline = time.time() + 60
        body = None
        while time.time() < deadline and body is None:
            try:
                body = s3.get_object(Bucket="net-images", Key="thumbs/a cat.jpg.txt")["Body"].read()
            except s3.exceptions.NoSuchKey:
                time.sleep(0.2)
        # Virtual-hosted style over HTTPS by S3's own name, as boto3 does on AWS.
        self.assertEqual(body, b"1234 bytes via https://s3.amazonaws.com")

    def test_unmodified_node_sdk_v3(self):
        self.make("net-node", NODE_CODE, runtime="nodejs20.x", handler="index.handler")
        out = self.invoke("net-node", {"queue": "net-queue", "body": "from node",
                                       "callee": "net-callee"})
        self.assertNotIn("error", out, out)
        self.assertTrue(out["url"].startswith("https://"), out)
        self.assertEqual(out["received"], ["from node"])
        self.assertEqual(out["sts"], "arn:aws:sts::000000000000:assumed-role/net-full/net-node")
        self.assertEqual(out["invoked"], {"pong": {"ping": 2}})

    def test_role_without_send_is_denied_inside(self):
        self.make("net-denied", SEND_ONLY, role=self.limited)
        url = "https://sqs.%s.amazonaws.com/000000000000/net-queue" % REGION
        out = self.invoke("net-denied", {"url": url})
        self.assertEqual(out.get("error"), "AccessDenied", out)
        self.assertIn("assumed-role/net-receive-only/net-denied is not authorized to perform: "
                      "sqs:SendMessage", out["message"])

    def test_egress_internet_platform_and_none(self):
        target = {"connect": {"web": [self.host.address, 8080]},
                  "get": "http://%s:8080/" % self.host.address}
        self.make("net-internet", PROBE, tags={"lambent:egress": "internet"})
        self.make("net-platform", PROBE)  # the node's default
        self.make("net-none", PROBE, tags={"lambent:egress": "none"})
        out = self.invoke("net-internet", target)
        self.assertEqual(out["web"], {"ok": True}, out)
        self.assertEqual(out["get"], "hello from the test host")
        for name in ("net-platform", "net-none"):
            out = self.invoke(name, target)
            self.assertFalse(out["web"]["ok"], out)
            self.assertIn(out["web"]["error"], REFUSALS, out)  # refused at once, not a timeout
        # none: no interface at all, so not even the platform endpoint or its DNS.
        out = self.invoke("net-none", {"connect": {"api": ["10.213.0.1", 443]},
                                       "resolve": "sqs.%s.amazonaws.com" % REGION})
        self.assertIsNone(out["address"])
        self.assertIn(out["api"]["error"], REFUSALS, out)
        self.assertIn("gaierror", out["resolve"])
        # platform: the endpoint and its names, nothing else; other names are refused at once.
        out = self.invoke("net-platform", {"connect": {"api": ["10.213.0.1", 443]},
                                           "resolve": "example.com"})
        self.assertTrue(out["api"]["ok"], out)
        self.assertIn("gaierror", out["resolve"])

    def test_names_beyond_the_platform_resolve_only_with_egress_beyond_it(self):
        self.make("net-dns-internet", PROBE, tags={"lambent:egress": "internet"})
        self.make("net-dns-platform", PROBE)
        event = {"resolve": "web.example.test", "get": "http://web.example.test:8080/"}
        out = self.invoke("net-dns-internet", event)
        self.assertEqual(out["resolve"], self.host.address, out)
        self.assertEqual(out["get"], "hello from the test host")
        # The service names stay the platform's, whatever the upstream would say.
        out = self.invoke("net-dns-internet", {"resolve": "lambda.%s.amazonaws.com" % REGION})
        self.assertEqual(out["resolve"], "10.213.0.1")
        out = self.invoke("net-dns-platform", event)
        self.assertIn("gaierror", out["resolve"])

    def test_allow_and_deny_lists(self):
        target = {"connect": {"web": [self.host.address, 8080]}}
        self.make("net-allowed", PROBE, tags={"lambent:egress-allow": "198.51.100.0/30"})
        self.make("net-denied-cidr", PROBE, tags={"lambent:egress": "internet",
                                                   "lambent:egress-deny": "198.51.100.2"})
        self.assertEqual(self.invoke("net-allowed", target)["web"], {"ok": True})
        out = self.invoke("net-denied-cidr", target)
        self.assertIn(out["web"]["error"], REFUSALS, out)
        # A malformed policy is refused when set, not when an environment starts.
        from botocore.exceptions import ClientError
        arn = self.client.get_function(FunctionName="net-allowed")["Configuration"]["FunctionArn"]
        with self.assertRaises(ClientError) as cm:
            self.client.tag_resource(Resource=arn, Tags={"lambent:egress": "everywhere"})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")
        with self.assertRaises(ClientError) as cm:
            self.client.tag_resource(Resource=arn, Tags={"lambent:egress-deny": "10.0.0.0/33"})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")

    def test_host_other_environments_and_listener_unreachable(self):
        self.make("net-peer", PROBE, tags={"lambent:egress": "internet"})
        self.make("net-attacker", PROBE, tags={"lambent:egress": "internet"})
        peer = self.invoke("net-peer", {})["address"]
        self.assertTrue(peer and peer.startswith("10.213."), peer)
        port = self.server.port
        targets = {"peer_runtime_api": [peer, 9001], "peer_other": [peer, 22],
                   "listener_via_gateway": ["10.213.0.1", port],
                   "gateway_other": ["10.213.0.1", 22]}
        for i, a in enumerate(host_addresses()):
            targets["host_%d_listener" % i] = [a, port]
        out = self.invoke("net-attacker", {"connect": targets})
        self.assertNotEqual(out["address"], peer)
        for name in targets:
            self.assertFalse(out[name]["ok"], (name, out))
            self.assertIn(out[name]["error"], REFUSALS, (name, out))
        # The peer's environment is still there (warm): the refusal was not for lack of it.
        self.assertEqual(self.invoke("net-peer", {})["address"], peer)

    def test_one_environment_cannot_take_the_platform_endpoint(self):
        self.make("net-hog", HOG)
        self.make("net-neighbour", AWS_CODE)
        result = {}
        hog = threading.Thread(target=lambda: result.update(
            hog=self.invoke("net-hog", {"n": 200, "share": 64, "hold": 6})))
        hog.start()
        time.sleep(3)  # the hog holds its connections now
        out = self.invoke("net-neighbour", {"queue": "net-queue", "body": "beside a hog",
                                            "callee": "net-callee"})
        hog.join()
        self.assertEqual(result["hog"], {"open": 64, "closed": 136})
        self.assertNotIn("error", out, out)
        self.assertEqual(out["received"], ["beside a hog"])
        got = self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=2)["Messages"]
        for m in got:
            self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])

    def test_init_has_a_whole_cpu(self):
        code = "import boto3, botocore.session\nboto3.client('sqs')\n" \
               "def handler(event, context):\n    return 'ok'\n"
        inits = {}
        for memory in (128, 1769):
            name = "net-init-%d" % memory
            self.make(name, code, memory=memory)
            r = self.client.invoke(FunctionName=name, LogType="Tail")
            import base64
            log = base64.b64decode(r["LogResult"]).decode()
            inits[memory] = float(re.search(r"Init Duration: ([\d.]+) ms", log).group(1))
        # Without a whole CPU for Init, 128 MB (7 % of a CPU) took ~14x as long.
        self.assertLess(inits[128], 2 * inits[1769] + 100, inits)


@unittest.skipUnless(NETWORK_SUPPORTED, WHY_NOT)
class NetworkCleanupTest(unittest.TestCase):
    """Environments come and go by the hundred; nothing of theirs stays, in the router or on
    the host, also after a kill -9 of the server."""

    def router_state(self, pid):
        # The router's namespace is held by a descriptor of the server's (not its own namespace).
        own = os.readlink("/proc/%d/ns/net" % pid)
        ns = None
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("net:[") and target != own:
                ns = "/proc/%d/fd/%s" % (pid, fd)
        self.assertIsNotNone(ns, "no router namespace among the server's descriptors")
        links = run("nsenter", "--net=" + ns, IP, "-o", "link").stdout
        rules = run("nsenter", "--net=" + ns, "nft", "list", "table", "inet", "lambent").stdout
        veths = re.findall(r"^\d+: (lbv\d+)", links, re.M)
        chains_with_rules = re.findall(r"chain (e\d+) \{\s*[^}\s]", rules)
        elements = re.search(r"map egress \{[^}]*elements = \{([^}]*)\}", rules)
        return veths, chains_with_rules, elements.group(1).strip() if elements else ""

    def test_many_environments_leave_nothing(self):
        # Environments go by the configuration changes below, not by idling: a loaded machine
        # must not retire some of a round's before their veths are counted.
        server = Server().start("--keep-alive", "300")
        try:
            uplink = re.search(r"uplink (lbu\d+)", server.log()).group(1)
            self.assertEqual(len(host_leftovers(uplink)), 3, host_leftovers(uplink))
            client = server.lambda_client(pool=20)
            from harness import ROLE
            for name, tags in (("churn-a", {}), ("churn-b", {"lambent:egress": "internet"})):
                client.create_function(FunctionName=name, Runtime="python3.11",
                                       Handler="app.handler", Role=ROLE, Tags=tags,
                                       Code={"ZipFile": make_zip({"app.py": PROBE})})
            made = 0
            rounds = 0
            while made < 1000:
                rounds += 1
                addresses = []
                def call(name):
                    r = client.invoke(FunctionName=name, Payload=b"{}")
                    addresses.append(json.loads(r["Payload"].read())["address"])
                threads = [threading.Thread(target=call, args=("churn-a" if i % 2 else "churn-b",))
                           for i in range(20)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertTrue(all(a and a.startswith("10.213.") for a in addresses), addresses)
                if rounds == 1:
                    # While they live: a veth each, and churn-b's own egress chains and entries
                    # (what must be gone at the end is seen here first).
                    veths, chains, elements = self.router_state(server.proc.pid)
                    self.assertGreaterEqual(len(veths), len(set(addresses)))
                    self.assertTrue(chains, chains)
                    self.assertIn("jump e", elements)
                # A changed configuration retires every environment of the functions.
                for name in ("churn-a", "churn-b"):
                    client.update_function_configuration(
                        FunctionName=name, Environment={"Variables": {"ROUND": str(rounds)}})
                made += len(set(addresses))
            # Once they have all gone: no chain with rules, no map entry in the router, and no
            # veth but those of the (at most two) blanks the spawner keeps made ahead.
            deadline = time.time() + 30
            while time.time() < deadline:
                veths, chains, elements = self.router_state(server.proc.pid)
                if len(veths) <= 2 and not chains and not elements:
                    break
                time.sleep(0.5)
            self.assertLessEqual(len(veths), 2, veths)
            self.assertEqual((chains, elements), ([], ""))
            # And a kill -9 with environments alive leaves nothing on the host either.
            self.assertEqual(len(client.invoke(FunctionName="churn-b", Payload=b"{}")
                                 ["Payload"].read()) > 0, True)
            server.kill9()
            # The janitor removes them as soon as the server is gone, retrying while the kernel
            # is busy (a loaded machine tears namespaces down slowly): generous, not a timing.
            deadline = time.time() + 90
            while time.time() < deadline and host_leftovers(uplink):
                time.sleep(0.2)
            alive = [l for l in run("ps", "-eo", "pid,ppid,stat,wchan:24,comm").stdout.splitlines()
                     if "lambent" in l]
            self.assertEqual(host_leftovers(uplink), [],
                             "\n".join(alive) + "\n" + server.log()[-3000:])
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()

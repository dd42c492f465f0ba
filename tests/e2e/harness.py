"""Starts a real `lambent serve` on port 0 with a temporary data dir and drives it with real
clients: boto3 and the aws CLI v2 from Debian (called by their Debian paths, since PATH may put
other versions first)."""

import base64
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import tempfile
import time
import unittest
import urllib.request
import zipfile

import boto3
import botocore.config

LAMBENT = os.environ.get("LAMBENT_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin", "lambent")
AWS_CLI = "/usr/bin/aws"
ACCOUNT = "000000000000"
REGION = "us-east-1"
# Every server of a test run starts with this root key (LAMBENT_ROOT_* at first start), and every
# client signs with it: the whole suite runs authenticated, as a user would.
ROOT_KEY_ID = "AKIA" + "".join(random.choice(string.ascii_uppercase + "234567") for _ in range(16))
ROOT_SECRET = "".join(random.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
# The execution role the tests' functions use; each server gets it at first start (ensure_role).
ROLE_NAME = "lambda-role"
ROLE = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE_NAME)
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})

os.environ.update({
    "AWS_ACCESS_KEY_ID": ROOT_KEY_ID, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
    "LAMBENT_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "LAMBENT_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET,
    "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true",
})
os.environ.pop("AWS_SESSION_TOKEN", None)
for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)


def rmtree(path):
    """Extracted code is read-only; make it writable again before removing."""
    if not os.path.exists(path):
        return
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            p = os.path.join(root, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    os.chmod(path, 0o755)
    shutil.rmtree(path, ignore_errors=True)


class Server:
    def __init__(self, data_dir=None, cache_dir=None):
        self.tmp = tempfile.mkdtemp(prefix="lambent-e2e-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.cache_dir = cache_dir or tempfile.mkdtemp(prefix="lambent-e2e-cache-", dir="/dev/shm")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "server.log")

    def start(self, *extra, listen="127.0.0.1:0"):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [LAMBENT, "serve", "--listen", listen, "--data", self.data_dir,
             "--code-cache", self.cache_dir, *extra],
            stdout=subprocess.PIPE, stderr=log)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on http://[0-9.]+:(\d+)", line)
        if not m:
            raise RuntimeError("server did not start: %r\n%s" % (line, self.log()))
        self.port = int(m.group(1))
        self.edge_port = None
        if "off" not in [e for i, e in enumerate(extra) if i and extra[i - 1] == "--edge-listen"]:
            line = self.proc.stdout.readline().decode()
            m = re.search(r"edge listening on http://[0-9.]+:(\d+)", line)
            if not m:
                raise RuntimeError("the edge did not start: %r\n%s" % (line, self.log()))
            self.edge_port = int(m.group(1))
        if "--auth" not in extra:
            self.ensure_role()
        return self

    def ensure_role(self):
        """The tests' execution role (ROLE): trusts Lambda; may write logs, consume queues and
        send to the destinations the tests use."""
        iam = self.iam_client()
        try:
            iam.get_role(RoleName=ROLE_NAME)
            return
        except iam.exceptions.NoSuchEntityException:
            pass
        iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=LAMBDA_TRUST)
        for arn in ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"):
            iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=arn)
        iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="destinations", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["sqs:SendMessage", "lambda:InvokeFunction"],
                "Resource": "*"}]}))

    def iam_client(self, **kw):
        return boto3.client("iam", endpoint_url=self.endpoint, region_name=REGION, **kw)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def edge(self):
        """The edge listener's base URL (CloudFront distributions)."""
        return "http://127.0.0.1:%d" % self.edge_port

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)

    def restart(self):
        if self.proc and self.proc.poll() is None:
            self.terminate()
        return self.start()

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        # A graceful stop kills the server's environments (frozen ones included, which a SIGKILL
        # of the server would leave frozen until the next start on this data dir).
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._remove_cgroups()
        rmtree(self.cache_dir)
        rmtree(self.tmp)

    @property
    def cgroup_tag(self):
        """This server's cgroup subtree under each hierarchy: lambent/<12 hex of its data dir>."""
        return "lambent/" + hashlib.sha256(os.path.realpath(self.data_dir).encode()).hexdigest()[:12]

    def cgroup_parents(self):
        """The server's parent group in every mounted hierarchy that has one (v1 or v2)."""
        import glob
        try:
            with open("/proc/self/mounts") as f:
                mounts = [line.split()[1] for line in f if line.split()[2] in ("cgroup", "cgroup2")]
        except OSError:
            return []
        return [g for m in mounts for depth in ("", "*/", "*/*/")
                for g in glob.glob(os.path.join(m, depth + self.cgroup_tag))]

    def _remove_cgroups(self):
        """A server killed with -9 whose data dir is then thrown away leaves its cgroups (a restart
        on the same data dir would clear them): remove them, so test runs do not pile them up."""
        import glob
        for parent in self.cgroup_parents():
            for group in sorted(glob.glob(os.path.join(parent, "*", "")), reverse=True) + [parent]:
                try:
                    with open(os.path.join(group, "freezer.state"), "w") as f:
                        f.write("THAWED")  # frozen tasks only die once thawed
                except OSError:
                    pass
                for _ in range(50):
                    try:
                        os.rmdir(group)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.02)

    # Clients -----------------------------------------------------------------------------
    def lambda_client(self, validate=True, retries=1, pool=10):
        cfg = botocore.config.Config(parameter_validation=validate,
                                     retries={"max_attempts": retries, "mode": "standard"},
                                     read_timeout=120, max_pool_connections=pool)
        return boto3.client("lambda", endpoint_url=self.endpoint, region_name=REGION,
                            config=cfg)

    def client(self, service):
        """A boto3 client of `service` for this server (one attempt, no retries)."""
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                                     read_timeout=120)
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, config=cfg)

    def sns_client(self):
        return self.client("sns")

    def sqs_client(self):
        return self.client("sqs")

    def logs_client(self):
        return self.client("logs")

    def s3_client(self, key=None, secret=None, **kw):
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                                     read_timeout=120, **kw)
        extra = {"aws_access_key_id": key, "aws_secret_access_key": secret} if key else {}
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, config=cfg,
                            **extra)

    def aws(self, *args, check=True):
        """Runs the aws CLI v2; returns (returncode, parsed JSON or stdout text, stderr)."""
        p = subprocess.run([AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json", *args],
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        out = p.stdout
        try:
            out = json.loads(out) if out.strip() else None
        except ValueError:
            pass
        return p.returncode, out, p.stderr

    def raw(self, method, path, body=b"", headers=None, sign=True):
        """A plain HTTP request, signed with the root key unless `sign` is False; returns
        (status, headers dict lower-cased, body bytes)."""
        import http.client
        headers = dict(headers or {})
        if sign:
            headers = sign_request(self.endpoint, method, path, body, headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, hdrs, data


def signing_service(path, body, headers):
    """The signing name of a request, from how it addresses its service."""
    target = {k.lower(): v for k, v in headers.items()}.get("x-amz-target", "")
    if target.startswith("Logs_"):
        return "logs"
    if target.startswith("AmazonSQS"):
        return "sqs"
    if target.startswith("GraniteServiceVersion20100801"):
        return "monitoring"
    if path.split("?")[0] == "/" or path.startswith("/%s/" % ACCOUNT):
        text = body if isinstance(body, bytes) else str(body).encode()
        for version, service in ((b"2010-08-01", "monitoring"), (b"2010-05-08", "iam"),
                                 (b"2011-06-15", "sts"), (b"2012-11-05", "sqs")):
            if b"Version=" + version in text:
                return service
        return "sqs"
    return "lambda"


def sign_request(endpoint, method, path, body=b"", headers=None, key=None, secret=None,
                 service=None):
    """`headers` plus SigV4 (botocore's signer) for the root key, or the key given."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    headers = dict(headers or {})
    req = botocore.awsrequest.AWSRequest(method=method, url=endpoint + path, data=body,
                                         headers=headers)
    creds = botocore.credentials.Credentials(key or ROOT_KEY_ID, secret or ROOT_SECRET)
    botocore.auth.SigV4Auth(creds, service or signing_service(path, body, headers),
                            REGION).add_auth(req)
    return dict(req.headers.items())


def drain_queue(sqs, url, expect, timeout=15):
    """The messages of a queue (deleted as they come) once `expect` arrived, with whatever came
    alongside (one more short look), or what there was at the deadline."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                MessageAttributeNames=["All"])
        for m in r.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= expect:
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            got += r.get("Messages", [])
            break
    return got


def queue_for_service(sqs, name, service, source_arn=None):
    """A queue whose policy lets `service` (sns.amazonaws.com, events.amazonaws.com) send to it,
    for `source_arn` when given; its URL."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)
    statement = {"Effect": "Allow", "Principal": {"Service": service},
                 "Action": "sqs:SendMessage", "Resource": arn}
    if source_arn:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]})})
    return url


def log_lines(logs, name, prefix):
    """The JSON that a function printed after `prefix ` (e.g. `print("SAW " + json.dumps(x))`),
    read back through FilterLogEvents (every page) of its log group; [] before the group exists."""
    from botocore.exceptions import ClientError
    events, token = [], None
    try:
        while True:
            kw = {"nextToken": token} if token else {}
            r = logs.filter_log_events(logGroupName="/aws/lambda/" + name,
                                       filterPattern='"%s"' % prefix, **kw)
            events += r["events"]
            token = r.get("nextToken")
            if not token:
                break
    except ClientError:
        return []
    return [json.loads(e["message"].split(prefix + " ", 1)[1]) for e in events
            if prefix + " " in e["message"]]


def make_zip(files, executable=()):
    """files: {name: str|bytes}; names in `executable` get mode 0755. Returns zip bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            z.writestr(info, content)
    return buf.getvalue()


def process_rss_mb(pid):
    """A process's resident memory (VmRSS), in MB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def process_descriptors(pid):
    """How many descriptors a process has open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def sandbox_supported():
    """Execution environments need root (namespaces, cgroups); CI runs as root."""
    return os.geteuid() == 0


_cpp_bootstrap = None


def cpp_bootstrap():
    """Compiles tests/e2e/functions/cpp_bootstrap.cc once; returns the binary's bytes."""
    global _cpp_bootstrap
    if _cpp_bootstrap is None:
        src = os.path.join(os.path.dirname(__file__), "functions", "cpp_bootstrap.cc")
        out = os.path.join(tempfile.mkdtemp(prefix="lambent-cpp-"), "bootstrap")
        subprocess.run(["g++", "-O2", "-std=c++17", "-o", out, src], check=True)
        with open(out, "rb") as f:
            _cpp_bootstrap = f.read()
        rmtree(os.path.dirname(out))
    return _cpp_bootstrap


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def download(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


class ServerTestCase(unittest.TestCase):
    """One server per test class; tests use distinct function names."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.client = cls.server.lambda_client()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def create(self, name, code=None, client=None, **kw):
        code = code or make_zip({"app.py": "def handler(event, context):\n    return event\n"})
        args = dict(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                    Code={"ZipFile": code})
        args.update(kw)
        return (client or self.client).create_function(**args)

    def assertAwsError(self, code, status, fn, *args, **kw):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kw)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        return err

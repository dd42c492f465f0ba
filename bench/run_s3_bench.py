#!/usr/bin/env python3
"""Object storage (issue 17), medians of --runs rounds, base and new alternating in each round:

- GET of a 64 MB object: Lambent (a presigned URL, curl) against nginx serving the same bytes
  from a file on the same disk (sendfile on), as throughput ratio;
- PUT of 64 MB: Lambent (curl -T to a presigned URL: streamed, sealed, fsynced, committed)
  against writing and fsyncing the file directly (dd conv=fsync);
- 1 KB PUTs and GETs at c=16 (bench_load, signed requests; each PUT a durable commit), next to
  the loopback floor at the same concurrency;
- from the 200 of a PUT to the start of the subscribed (warm) function's invocation: p50/p99,
  the 200 taken as its status line and headers are read off the socket (PUTs to presigned URLs
  over one keep-alive connection), boto3's put_object beside it.

Needs nginx (Debian's nginx-light) for the GET baseline.

    sudo /usr/bin/python3 bench/run_s3_bench.py [--runs 5] [--seconds 3]
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import LOAD, start_nginx  # noqa: E402
from harness import ACCOUNT, REGION, ROLE, Server, make_zip, sign_request, log_lines  # noqa: E402

import boto3  # noqa: E402

MB = 1024 * 1024


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def s3_load(port, method, path, body, concurrency, seconds):
    headers = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
               "Content-Type": "application/json"}
    signed = sign_request("http://127.0.0.1:%d" % port, method, path, body, headers, service="s3")
    cmd = [LOAD, "--target", "127.0.0.1:%d" % port, "--path", path, "--method", method,
           "--body", body.decode(), "--concurrency", str(concurrency), "--seconds", str(seconds)]
    for k in ("X-Amz-Date", "Authorization", "x-amz-content-sha256"):
        cmd += ["--header", "%s: %s" % (k, signed[k])]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    if out["errors"]:
        raise RuntimeError("%d errors: %s" % (out["errors"], out))
    return out


def floor(concurrency, seconds):
    cmd = [LOAD, "--baseline", "--concurrency", str(concurrency), "--seconds", str(seconds)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--latency-samples", type=int, default=40)
    args = ap.parse_args()

    server = Server().start()
    work = tempfile.mkdtemp(prefix="lambent-s3-bench-", dir=os.path.dirname(server.data_dir))
    nginx = None
    try:
        s3 = server.s3_client(signature_version="s3v4")
        s3.create_bucket(Bucket="bench")
        src = os.path.join(work, "obj64")
        with open(src, "wb") as f:
            f.write(os.urandom(64 * MB))
        s3.upload_file(src, "bench", "obj64")
        # nginx serving the same bytes from the same disk.
        root = os.path.join(work, "www")
        os.makedirs(root)
        shutil.copy(src, os.path.join(root, "obj64"))
        nginx = start_nginx(work, root, 18971, workers=1)
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "obj64"},
                                            ExpiresIn=3600)
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "put64"},
                                            ExpiresIn=3600)
        out = os.path.join(work, "out")
        direct = os.path.join(work, "direct")
        gets, nginx_gets, puts, direct_puts, md5s = [], [], [], [], []
        with open(src, "rb") as f:
            payload = f.read()
        for _ in range(args.runs):
            nginx_gets.append(timed(["curl", "-sS", "-f", "-o", "/dev/null",
                                     "http://127.0.0.1:18971/obj64"]))
            gets.append(timed(["curl", "-sS", "-f", "-o", "/dev/null", get_url]))
            direct_puts.append(timed(["dd", "if=" + src, "of=" + direct, "bs=1M", "conv=fsync",
                                      "status=none"]))
            puts.append(timed(["curl", "-sS", "-f", "-T", src, put_url]))
            # The ETag is the body's MD5 (S3's rule): one sequential pass no PUT can avoid.
            t0 = time.perf_counter()
            hashlib.md5(payload).digest()
            md5s.append(time.perf_counter() - t0)
        head = s3.head_object(Bucket="bench", Key="put64")
        assert head["ContentLength"] == 64 * MB

        small = b"x" * 1024
        s3.put_object(Bucket="bench", Key="small", Body=small)
        put1k, get1k, floors = [], [], []
        for _ in range(args.runs):
            floors.append(floor(16, args.seconds)["throughput"])
            put1k.append(s3_load(server.port, "PUT", "/bench/small", small, 16, args.seconds))
            get1k.append(s3_load(server.port, "GET", "/bench/small", b"", 16, args.seconds))

        # PUT → invocation start, with a warm environment.
        lam = server.lambda_client()
        code = ("import time\n"
                "def handler(event, context):\n"
                "    print('START_AT %.6f' % time.time())\n"
                "    return {}\n")
        lam.create_function(FunctionName="on-put", Runtime="python3.11", Handler="app.handler",
                            Role=ROLE, MemorySize=1769, Code={"ZipFile": make_zip({"app.py": code})})
        lam.get_waiter("function_active_v2").wait(FunctionName="on-put")
        lam.add_permission(FunctionName="on-put", StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bench")
        s3.put_bucket_notification_configuration(Bucket="bench", NotificationConfiguration={
            "LambdaFunctionConfigurations": [{
                "LambdaFunctionArn": "arn:aws:lambda:%s:%s:function:on-put" % (REGION, ACCOUNT),
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "trigger/"}]}}}]})
        lam.invoke(FunctionName="on-put")  # warm
        # The PUTs go over one keep-alive connection to presigned URLs (signed beforehand), so
        # that the moment the 200's status line and headers arrive is taken at the socket: the
        # function's start minus it is the delay from the 200 less one loopback trip (~50 µs).
        # boto3's put_object before and after frames it (its return also waits for botocore's
        # parsing).
        import http.client
        import urllib.parse
        conn = http.client.HTTPConnection("127.0.0.1", server.port)
        sent, acked, answered = [], [], []
        for i in range(args.latency_samples):
            url = urllib.parse.urlsplit(s3.generate_presigned_url(
                "put_object", Params={"Bucket": "bench", "Key": "trigger/raw%d" % i}, ExpiresIn=600))
            sent.append(time.time())
            conn.request("PUT", url.path + "?" + url.query, body=b"x")
            resp = conn.getresponse()
            answered.append(time.time())
            resp.read()
            if resp.status != 200:
                raise SystemExit("trigger PUT: HTTP %d" % resp.status)
            time.sleep(0.1)
        conn.close()
        for i in range(args.latency_samples):
            boto_sent = time.time()
            s3.put_object(Bucket="bench", Key="trigger/%d" % i, Body=b"x")
            acked.append((boto_sent, time.time()))
            time.sleep(0.1)
        logs = boto3.client("logs", endpoint_url=server.endpoint, region_name=REGION)
        starts = []
        deadline = time.time() + 30
        while len(starts) < 2 * args.latency_samples and time.time() < deadline:
            time.sleep(0.5)
            starts = sorted(float(v) for v in log_lines(logs, "on-put", "START_AT"))
        starts = starts[-2 * args.latency_samples:]
        raw_starts, boto_starts = starts[:args.latency_samples], starts[args.latency_samples:]
        # From the 200 received (the first lines of the answer read off the socket).
        after_200 = sorted((st - a) * 1000 for st, a in zip(raw_starts, answered))
        # From sending the PUT (an upper bound: the whole PUT, its durable commit included).
        delays = sorted((st - a) * 1000 for st, a in zip(raw_starts, sent))
        # boto3: from its call and from its return.
        boto_up = sorted((st - a[0]) * 1000 for st, a in zip(boto_starts, acked))
        after_ack = sorted((st - a[1]) * 1000 for st, a in zip(boto_starts, acked))

        med = statistics.median
        g, ng = med(gets), med(nginx_gets)
        p, dp = med(puts), med(direct_puts)
        print("| measurement | Lambent | baseline | ratio | target |")
        print("|---|---|---|---|---|")
        print("| GET 64 MB (MB/s) | %.0f | nginx %.0f | %.2f | ≥ 0.7 |" % (64 / g, 64 / ng, ng / g))
        print("| PUT 64 MB (MB/s) | %.0f | write+fsync %.0f | %.2f | ≥ 0.5 |" % (64 / p, 64 / dp, dp / p))
        m5 = med(md5s)
        print("| MD5 of 64 MB alone (MB/s) | %.0f | write+fsync %.0f | %.2f (the PUT ratio's ceiling) | |" % (
            64 / m5, 64 / dp, dp / m5))
        for name, runs in (("PUT 1 KB c=16", put1k), ("GET 1 KB c=16", get1k)):
            t = med(r["throughput"] for r in runs)
            print("| %s (req/s) | %.0f (p50 %.0f µs, p99 %.0f µs) | floor %.0f | %.3f | %s |" % (
                name, t, med(r["p50_us"] for r in runs), med(r["p99_us"] for r in runs),
                med(floors), t / med(floors), "≥ 5,000/s" if "PUT" in name else "≥ 20,000/s"))
        if after_200:
            def p(xs, q):
                return xs[min(len(xs) - 1, int(len(xs) * q))]
            print("| 200 of a PUT received → invocation start (ms, %d samples) | p50 %.2f, p99 %.2f "
                  "(from sending the PUT: p50 %.2f; boto3 put_object, from its call %.2f, from its "
                  "return %.2f) | | | p50 < 5 |" % (
                      len(after_200), p(after_200, 0.5), p(after_200, 0.99), p(delays, 0.5),
                      p(boto_up, 0.5), p(after_ack, 0.5)))
        print("\nraw: gets %s nginx %s puts %s direct %s" % (
            [round(x, 3) for x in gets], [round(x, 3) for x in nginx_gets],
            [round(x, 3) for x in puts], [round(x, 3) for x in direct_puts]))
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        server.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

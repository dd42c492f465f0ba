"""Object storage (S3) end to end with the aws CLI v2, boto3 (plain calls and managed transfers)
and curl with presigned URLs: buckets, objects, listings, ranges and conditions, checksums,
multipart uploads and their rules, tagging, policies, authentication and authorization errors,
and durability across kill -9."""

import base64
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from harness import (ACCOUNT, AWS_CLI, REGION, ROLE, Server, ServerTestCase, log_lines, make_zip,
                     process_rss_mb, sandbox_supported, sign_request)

MiB = 1024 * 1024


def blob(n, seed=0):
    """n pseudo-random bytes (cheap to make, not compressible)."""
    out = bytearray()
    h = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h * 64
    return bytes(out[:n])


class S3Test(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.server.s3_client()
        cls.tmp = tempfile.mkdtemp(prefix="lambent-s3-")

    def aws(self, *args, check=True):
        return self.server.aws(*args, check=check)

    def raw_s3(self, method, path, body=b"", headers=None):
        """A request signed for s3 with the body's SHA-256 (as botocore does over http)."""
        headers = dict(headers or {})
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        signed = sign_request(self.server.endpoint, method, path, body, headers, service="s3")
        return self.server.raw(method, path, body, signed, sign=False)

    def error(self, code, status, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        return err

    # --- the aws CLI ---------------------------------------------------------------------------

    def test_cli_round_trip_small_and_multipart(self):
        self.aws("s3", "mb", "s3://cli-bucket")
        small = os.path.join(self.tmp, "small.txt")
        with open(small, "w") as f:
            f.write("hello s3\n")
        big = os.path.join(self.tmp, "big.bin")
        data = blob(20 * MiB + 123, 1)
        with open(big, "wb") as f:
            f.write(data)
        self.aws("s3", "cp", small, "s3://cli-bucket/docs/small.txt", "--no-progress")
        self.aws("s3", "cp", big, "s3://cli-bucket/data/big.bin", "--no-progress")
        _, out, _ = self.aws("s3", "ls", "s3://cli-bucket/")
        self.assertIn("PRE docs/", out)
        self.assertIn("PRE data/", out)
        _, out, _ = self.aws("s3", "ls", "--recursive", "s3://cli-bucket/")
        self.assertIn("data/big.bin", out)
        self.assertIn(str(len(data)), out)
        # Multipart (8 MiB parts): the ETag is the MD5 of the parts' MD5s with the count.
        head = self.s3.head_object(Bucket="cli-bucket", Key="data/big.bin")
        parts = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
        want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
        self.assertEqual(head["ETag"], '"%s-%d"' % (want, len(parts)))
        self.assertEqual(head["ServerSideEncryption"], "AES256")
        self.assertEqual(head["ContentType"], "application/octet-stream")  # guessed by the CLI
        self.assertEqual(self.s3.head_object(Bucket="cli-bucket", Key="docs/small.txt")["ContentType"],
                         "text/plain")
        # Download (ranged GETs in parallel for the big one).
        out_path = os.path.join(self.tmp, "big.out")
        self.aws("s3", "cp", "s3://cli-bucket/data/big.bin", out_path, "--no-progress")
        with open(out_path, "rb") as f:
            self.assertEqual(f.read(), data)
        # sync: only what changed goes up; --delete removes what is gone locally.
        src = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(src, "a"))
        for name in ("a/1.txt", "a/2.txt", "3.txt"):
            with open(os.path.join(src, name), "w") as f:
                f.write(name)
        self.aws("s3", "sync", src, "s3://cli-bucket/tree", "--no-progress")
        os.remove(os.path.join(src, "3.txt"))
        self.aws("s3", "sync", src, "s3://cli-bucket/tree", "--delete", "--no-progress")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket="cli-bucket", Prefix="tree/")["Contents"]]
        self.assertEqual(keys, ["tree/a/1.txt", "tree/a/2.txt"])
        # A bucket with objects is not removed; rm --recursive then rb is.
        rc, _, err = self.aws("s3", "rb", "s3://cli-bucket", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("BucketNotEmpty", err)
        self.aws("s3", "rm", "--recursive", "s3://cli-bucket")
        self.aws("s3", "rb", "s3://cli-bucket")
        self.error("NoSuchBucket", 404, self.s3.list_objects_v2, Bucket="cli-bucket")

    def test_presigned_urls_with_curl(self):
        self.s3.create_bucket(Bucket="presign")
        self.s3.put_object(Bucket="presign", Key="a b/c+d.txt", Body=b"presigned body")
        _, url, _ = self.aws("s3", "presign", "s3://presign/a b/c+d.txt", "--expires-in", "60")
        url = url.strip() if isinstance(url, str) else url
        out = subprocess.run(["curl", "-sS", "-f", url], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, b"presigned body")
        # A presigned PUT. (botocore 1.29 presigns with SigV2 unless told s3v4; S3 refuses SigV2 for
        # buckets made since 2020, and so does Lambent.)
        v2 = boto3.client("s3", endpoint_url=self.server.endpoint, region_name=REGION)
        v2_url = v2.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "a b/c+d.txt"})
        out = subprocess.run(["curl", "-sS", v2_url], capture_output=True, timeout=30)
        self.assertIn(b"Please use AWS4-HMAC-SHA256.", out.stdout)
        v4 = self.server.s3_client(signature_version="s3v4")
        put_url = v4.generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "up.txt"},
                                                 ExpiresIn=60)
        out = subprocess.run(["curl", "-sS", "-f", "-X", "PUT", "--data-binary", "uploaded", put_url],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.s3.get_object(Bucket="presign", Key="up.txt")["Body"].read(), b"uploaded")
        # Tampered and expired URLs are refused.
        out = subprocess.run(["curl", "-sS", url.replace("c%2Bd", "c%2Be")], capture_output=True, timeout=30)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", out.stdout)
        old = v4.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "up.txt"},
                                             ExpiresIn=1)
        time.sleep(2.1)
        out = subprocess.run(["curl", "-sS", old], capture_output=True, timeout=30)
        self.assertIn(b"<Code>AccessDenied</Code>", out.stdout)
        self.assertIn(b"Request has expired", out.stdout)

    def test_an_upload_cut_off_midway_leaves_the_old_object_and_no_data(self):
        """A large PUT whose client goes away after some pieces were already hashed and written:
        no object, the key's previous version intact, the temporary data removed, and the next
        upload of the key whole."""
        import socket
        import urllib.parse
        self.s3.create_bucket(Bucket="cutoff")
        self.s3.put_object(Bucket="cutoff", Key="big", Body=b"the old version")
        v4 = self.server.s3_client(signature_version="s3v4")
        url = urllib.parse.urlsplit(v4.generate_presigned_url(
            "put_object", Params={"Bucket": "cutoff", "Key": "big"}, ExpiresIn=300))
        body = blob(24 * MiB, 77)
        for sent in (7 * MiB + 123, 16 * MiB):
            with socket.create_connection((url.hostname, url.port)) as sock:
                sock.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" % (
                    url.path, url.query, url.netloc, len(body))).encode() + body[:sent])
            tmp = os.path.join(self.server.data_dir, "objects", "tmp")
            deadline = time.time() + 30
            while time.time() < deadline and os.listdir(tmp):
                time.sleep(0.1)
            self.assertEqual(os.listdir(tmp), [])
            self.assertEqual(self.s3.get_object(Bucket="cutoff", Key="big")["Body"].read(),
                             b"the old version")
        with open(os.path.join(self.tmp, "cutoff-body"), "wb") as f:
            f.write(body)
        out = subprocess.run(["curl", "-sS", "-f", "-T", f.name, url.geturl()], capture_output=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        head = self.s3.head_object(Bucket="cutoff", Key="big")
        self.assertEqual(head["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        got = self.s3.get_object(Bucket="cutoff", Key="big")["Body"].read()
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(body).hexdigest())

    # --- boto3 ---------------------------------------------------------------------------------

    def test_buckets(self):
        s3 = self.s3
        self.error("InvalidBucketName", 400, s3.create_bucket, Bucket="Bad_Name")
        s3.create_bucket(Bucket="bkt-one")
        s3.create_bucket(Bucket="bkt-one")  # us-east-1: creating your own bucket again is fine
        self.error("IllegalLocationConstraintException", 400, s3.create_bucket, Bucket="bkt-two",
                   CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        self.assertIn("bkt-one", names)
        self.assertEqual(s3.head_bucket(Bucket="bkt-one")["ResponseMetadata"]["HTTPHeaders"]
                         ["x-amz-bucket-region"], REGION)
        self.error("404", 404, s3.head_bucket, Bucket="no-such-bucket-here")
        self.assertIsNone(s3.get_bucket_location(Bucket="bkt-one")["LocationConstraint"])
        # Policy
        self.error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket="bkt-one")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::bkt-one/protected/*"}]})
        s3.put_bucket_policy(Bucket="bkt-one", Policy=policy)
        self.assertEqual(json.loads(s3.get_bucket_policy(Bucket="bkt-one")["Policy"]), json.loads(policy))
        self.error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket="bkt-one", Policy="{nope")
        # ... and it is enforced, even for the account's root.
        s3.put_object(Bucket="bkt-one", Key="protected/x", Body=b"x")
        self.error("AccessDenied", 403, s3.delete_object, Bucket="bkt-one", Key="protected/x")
        s3.delete_bucket_policy(Bucket="bkt-one")
        s3.delete_object(Bucket="bkt-one", Key="protected/x")
        # Tagging, CORS, versioning, encryption
        self.error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket="bkt-one")
        s3.put_bucket_tagging(Bucket="bkt-one", Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
        self.assertEqual(s3.get_bucket_tagging(Bucket="bkt-one")["TagSet"], [{"Key": "team", "Value": "a"}])
        s3.delete_bucket_tagging(Bucket="bkt-one")
        self.error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket="bkt-one")
        self.error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket="bkt-one")
        rules = [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://example.com"],
                  "AllowedHeaders": ["*"], "MaxAgeSeconds": 300}]
        s3.put_bucket_cors(Bucket="bkt-one", CORSConfiguration={"CORSRules": rules})
        got = s3.get_bucket_cors(Bucket="bkt-one")["CORSRules"]
        self.assertEqual(got[0]["AllowedMethods"], ["GET", "PUT"])
        self.assertEqual(got[0]["MaxAgeSeconds"], 300)
        # A browser's preflight (no credentials), answered from the rules.
        status, hdrs, _ = self.server.raw("OPTIONS", "/bkt-one/up/file.txt", sign=False, headers={
            "Origin": "https://example.com", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type, x-amz-meta-a"})
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["access-control-allow-origin"], "https://example.com")
        self.assertEqual(hdrs["access-control-allow-methods"], "GET, PUT")
        self.assertEqual(hdrs["access-control-allow-headers"], "content-type, x-amz-meta-a")
        self.assertEqual(hdrs["access-control-max-age"], "300")
        for origin, method in (("https://evil.example", "PUT"), ("https://example.com", "DELETE")):
            status, _, body = self.server.raw("OPTIONS", "/bkt-one/k", sign=False, headers={
                "Origin": origin, "Access-Control-Request-Method": method})
            self.assertEqual(status, 403)
            self.assertIn(b"<Code>AccessForbidden</Code>", body)
        # An actual request from an allowed origin gets the headers too.
        s3.put_object(Bucket="bkt-one", Key="cors.txt", Body=b"c")
        headers = {"Origin": "https://example.com",
                   "x-amz-content-sha256": hashlib.sha256(b"").hexdigest()}
        signed = sign_request(self.server.endpoint, "GET", "/bkt-one/cors.txt", b"", headers, service="s3")
        status, hdrs, body = self.server.raw("GET", "/bkt-one/cors.txt", b"", signed, sign=False)
        self.assertEqual((status, body), (200, b"c"))
        self.assertEqual(hdrs["access-control-allow-origin"], "https://example.com")
        s3.delete_object(Bucket="bkt-one", Key="cors.txt")
        s3.delete_bucket_cors(Bucket="bkt-one")
        status, _, body = self.server.raw("OPTIONS", "/bkt-one/k", sign=False, headers={
            "Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 403)
        self.assertIn(b"CORS is not enabled for this bucket", body)
        self.error("NotImplemented", 501, s3.put_bucket_versioning, Bucket="bkt-one",
                   VersioningConfiguration={"Status": "Enabled"})
        self.assertNotIn("Status", s3.get_bucket_versioning(Bucket="bkt-one"))
        enc = s3.get_bucket_encryption(Bucket="bkt-one")["ServerSideEncryptionConfiguration"]
        self.assertEqual(enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        s3.delete_bucket(Bucket="bkt-one")
        self.error("NoSuchBucket", 404, s3.delete_bucket, Bucket="bkt-one")

    def test_public_read_through_a_bucket_policy(self):
        s3 = self.s3
        s3.create_bucket(Bucket="public-site")
        s3.create_bucket(Bucket="private-site")
        for b in ("public-site", "private-site"):
            s3.put_object(Bucket=b, Key="index.html", Body=b"<h1>hi</h1>", ContentType="text/html")
        s3.put_bucket_policy(Bucket="public-site", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::public-site/*"}]}))
        url = self.server.endpoint + "/public-site/index.html"
        out = subprocess.run(["curl", "-sS", "-i", url], capture_output=True, timeout=30)
        self.assertIn(b"200 OK", out.stdout)
        self.assertIn(b"<h1>hi</h1>", out.stdout)
        # Everything the policy does not grant stays refused to anonymous callers.
        for method, path in (("GET", "/private-site/index.html"), ("PUT", "/public-site/new.html"),
                             ("DELETE", "/public-site/index.html"), ("GET", "/public-site")):
            status, _, body = self.server.raw(method, path, b"x" if method == "PUT" else b"", sign=False)
            self.assertEqual(status, 403, (method, path, body))
            self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertEqual(s3.get_object(Bucket="public-site", Key="index.html")["Body"].read(), b"<h1>hi</h1>")

    def test_objects_metadata_ranges_conditions(self):
        s3 = self.s3
        s3.create_bucket(Bucket="objs")
        body = blob(300 * 1024, 2)  # a file-backed object (beyond the inline size)
        r = s3.put_object(Bucket="objs", Key="f.bin", Body=body, ContentType="application/x-test",
                          Metadata={"owner": "me", "Mixed-Case": "v"}, CacheControl="max-age=5",
                          ContentDisposition="attachment", Tagging="a=1&b=two")
        etag = r["ETag"]
        self.assertEqual(etag, '"%s"' % hashlib.md5(body).hexdigest())
        g = s3.get_object(Bucket="objs", Key="f.bin")
        self.assertEqual(g["Body"].read(), body)
        self.assertEqual(g["ContentType"], "application/x-test")
        self.assertEqual(g["Metadata"], {"owner": "me", "mixed-case": "v"})
        self.assertEqual(g["CacheControl"], "max-age=5")
        self.assertEqual(g["ContentDisposition"], "attachment")
        self.assertEqual(g["TagCount"], 2)
        self.assertEqual(s3.get_object_tagging(Bucket="objs", Key="f.bin")["TagSet"],
                         [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two"}])
        # Ranges: a-b, a-, -n; an unsatisfiable one; a multi-range is ignored (whole object).
        for rng, want in (("bytes=0-9", body[:10]), ("bytes=70000-140000", body[70000:140001]),
                          ("bytes=299990-", body[299990:]), ("bytes=-7", body[-7:]),
                          ("bytes=100-999999999", body[100:])):
            g = s3.get_object(Bucket="objs", Key="f.bin", Range=rng)
            self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 206, rng)
            self.assertEqual(g["Body"].read(), want, rng)
        self.assertEqual(s3.get_object(Bucket="objs", Key="f.bin", Range="bytes=0-1")["ContentRange"],
                         "bytes 0-1/%d" % len(body))
        self.error("InvalidRange", 416, s3.get_object, Bucket="objs", Key="f.bin",
                   Range="bytes=%d-" % len(body))
        g = s3.get_object(Bucket="objs", Key="f.bin", Range="bytes=0-1,5-6")
        self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 200)
        # Conditions
        self.error("PreconditionFailed", 412, s3.get_object, Bucket="objs", Key="f.bin", IfMatch='"nope"')
        self.error("304", 304, s3.head_object, Bucket="objs", Key="f.bin", IfNoneMatch=etag)
        g = s3.get_object(Bucket="objs", Key="f.bin", IfMatch=etag,
                          IfUnmodifiedSince="Mon, 01 Jan 2001 00:00:00 GMT")
        self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 200)  # If-Match wins
        self.error("304", 304, s3.head_object, Bucket="objs", Key="f.bin",
                   IfModifiedSince=g["LastModified"])
        # Conditional writes: If-None-Match: * creates only (botocore 1.29 has no member for it).
        status, _, body_ = self.raw_s3("PUT", "/objs/f.bin", b"x", {"If-None-Match": "*"})
        self.assertEqual(status, 412, body_)
        self.assertIn(b"<Code>PreconditionFailed</Code>", body_)
        status, _, _ = self.raw_s3("PUT", "/objs/created-once", b"x", {"If-None-Match": "*"})
        self.assertEqual(status, 200)
        # Integrity: a wrong Content-MD5 and a wrong checksum leave the object unchanged.
        self.error("BadDigest", 400, s3.put_object, Bucket="objs", Key="f.bin", Body=b"other",
                   ContentMD5=base64.b64encode(hashlib.md5(b"else").digest()).decode())
        self.error("InvalidDigest", 400, s3.put_object, Bucket="objs", Key="f.bin", Body=b"other",
                   ContentMD5="bm90LW1kNQ==")
        r = s3.put_object(Bucket="objs", Key="ck.txt", Body=b"hello world", ChecksumAlgorithm="SHA256")
        self.assertEqual(r["ChecksumSHA256"], base64.b64encode(hashlib.sha256(b"hello world").digest()).decode())
        h = s3.head_object(Bucket="objs", Key="ck.txt", ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumSHA256"], r["ChecksumSHA256"])
        status, _, data = self.raw_s3("PUT", "/objs/ck2.txt", b"hello world",
                                      {"x-amz-checksum-crc32": "AAAAAA=="})
        self.assertEqual(status, 400, data)
        self.assertIn(b"<Code>BadDigest</Code>", data)
        status, hdrs, data = self.raw_s3("PUT", "/objs/ck2.txt", b"hello world",
                                         {"x-amz-checksum-crc32c": "yZRlqg=="})
        self.assertEqual(status, 200, data)
        self.assertEqual(hdrs["x-amz-checksum-crc32c"], "yZRlqg==")
        self.assertEqual(s3.get_object(Bucket="objs", Key="f.bin")["ETag"], etag)
        # Keys as sent: spaces, unicode, '//' and a trailing slash.
        for key in ("a b/c d.txt", "ünï/cödé", "x//y", "dir/", "p%20q", "+plus+"):
            s3.put_object(Bucket="objs", Key=key, Body=key.encode())
            self.assertEqual(s3.get_object(Bucket="objs", Key=key)["Body"].read(), key.encode(), key)
        self.error("NoSuchKey", 404, s3.get_object, Bucket="objs", Key="missing")
        self.error("404", 404, s3.head_object, Bucket="objs", Key="missing")
        self.error("NoSuchBucket", 404, s3.put_object, Bucket="missing-bucket", Key="k", Body=b"x")
        self.error("KeyTooLongError", 400, s3.put_object, Bucket="objs", Key="k" * 1025, Body=b"x")
        # Delete is idempotent.
        s3.delete_object(Bucket="objs", Key="missing")
        s3.delete_object(Bucket="objs", Key="a b/c d.txt")
        self.error("NoSuchKey", 404, s3.get_object, Bucket="objs", Key="a b/c d.txt")

    def test_listing(self):
        s3 = self.s3
        s3.create_bucket(Bucket="listing")
        keys = ["a.txt", "b/1", "b/2", "b/c/3", "c d/4", "z+", "é"]
        for k in keys:
            s3.put_object(Bucket="listing", Key=k, Body=k.encode())
        r = s3.list_objects_v2(Bucket="listing")
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(keys, key=lambda k: k.encode()))
        self.assertEqual(r["KeyCount"], len(keys))
        r = s3.list_objects_v2(Bucket="listing", Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a.txt", "z+", "é"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/", "c d/"])
        r = s3.list_objects_v2(Bucket="listing", Prefix="b/", Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b/1", "b/2"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/c/"])
        # Pages of 2 with continuation tokens (a common prefix counts once).
        seen, token = [], None
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = s3.list_objects_v2(Bucket="listing", MaxKeys=2, Delimiter="/", **kw)
            self.assertLessEqual(r["KeyCount"], 2)
            seen += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(sorted(seen), sorted(["a.txt", "b/", "c d/", "z+", "é"]))
        r = s3.list_objects_v2(Bucket="listing", StartAfter="b/2")
        self.assertEqual(r["Contents"][0]["Key"], "b/c/3")
        self.assertEqual(s3.list_objects_v2(Bucket="listing", MaxKeys=0)["KeyCount"], 0)
        # v1 with markers; the paginator.
        r = s3.list_objects(Bucket="listing", Marker="b/c/3", MaxKeys=2)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c d/4", "z+"])
        self.assertTrue(r["IsTruncated"])
        pages = s3.get_paginator("list_objects").paginate(Bucket="listing", PaginationConfig={"PageSize": 3})
        self.assertEqual([o["Key"] for p in pages for o in p["Contents"]], sorted(keys, key=lambda k: k.encode()))
        # DeleteObjects, quiet and not.
        r = s3.delete_objects(Bucket="listing", Delete={"Objects": [{"Key": "a.txt"}, {"Key": "nope"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["a.txt", "nope"])
        r = s3.delete_objects(Bucket="listing", Delete={"Objects": [{"Key": "b/1"}], "Quiet": True})
        self.assertNotIn("Deleted", r)
        self.assertEqual(s3.list_objects_v2(Bucket="listing", Prefix="b/1").get("KeyCount"), 0)

    def test_copy(self):
        s3 = self.s3
        s3.create_bucket(Bucket="copy-src")
        s3.create_bucket(Bucket="copy-dst")
        body = blob(100 * 1024, 3)
        s3.put_object(Bucket="copy-src", Key="s p.bin", Body=body, ContentType="x/y", Metadata={"k": "v"})
        r = s3.copy_object(Bucket="copy-dst", Key="copied", CopySource={"Bucket": "copy-src", "Key": "s p.bin"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        g = s3.get_object(Bucket="copy-dst", Key="copied")
        self.assertEqual(g["Body"].read(), body)
        self.assertEqual(g["ContentType"], "x/y")
        self.assertEqual(g["Metadata"], {"k": "v"})
        s3.copy_object(Bucket="copy-dst", Key="replaced", CopySource="copy-src/s p.bin",
                       MetadataDirective="REPLACE", ContentType="a/b", Metadata={"n": "1"})
        g = s3.head_object(Bucket="copy-dst", Key="replaced")
        self.assertEqual((g["ContentType"], g["Metadata"]), ("a/b", {"n": "1"}))
        self.error("InvalidRequest", 400, s3.copy_object, Bucket="copy-src", Key="s p.bin",
                   CopySource="copy-src/s p.bin")
        self.error("PreconditionFailed", 412, s3.copy_object, Bucket="copy-dst", Key="c2",
                   CopySource="copy-src/s p.bin", CopySourceIfMatch='"other"')
        self.error("NoSuchKey", 404, s3.copy_object, Bucket="copy-dst", Key="c3",
                   CopySource="copy-src/missing")

    def test_multipart_rules(self):
        s3 = self.s3
        s3.create_bucket(Bucket="mpu")
        up = s3.create_multipart_upload(Bucket="mpu", Key="m.bin", ContentType="app/x",
                                        Metadata={"m": "1"}, Tagging="team=a+b")["UploadId"]
        self.error("BadRequest", 400, s3.create_multipart_upload, Bucket="mpu", Key="t.bin",
                   Tagging="&".join("k%d=v" % i for i in range(11)))
        p1, p2, p3 = blob(5 * MiB, 4), blob(5 * MiB, 5), blob(1000, 6)
        e1 = s3.upload_part(Bucket="mpu", Key="m.bin", UploadId=up, PartNumber=1, Body=p1)["ETag"]
        e2 = s3.upload_part(Bucket="mpu", Key="m.bin", UploadId=up, PartNumber=2, Body=p2)["ETag"]
        e3 = s3.upload_part(Bucket="mpu", Key="m.bin", UploadId=up, PartNumber=3, Body=p3)["ETag"]
        parts = s3.list_parts(Bucket="mpu", Key="m.bin", UploadId=up)["Parts"]
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in parts], [(1, 5 * MiB), (2, 5 * MiB), (3, 1000)])
        uploads = s3.list_multipart_uploads(Bucket="mpu")["Uploads"]
        self.assertEqual([(u["Key"], u["UploadId"]) for u in uploads], [("m.bin", up)])
        self.error("InvalidPartOrder", 400, s3.complete_multipart_upload, Bucket="mpu", Key="m.bin",
                   UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2},
                                                           {"PartNumber": 1, "ETag": e1}]})
        self.error("InvalidPart", 400, s3.complete_multipart_upload, Bucket="mpu", Key="m.bin",
                   UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]})
        # A part smaller than 5 MiB that is not the last one.
        small = s3.upload_part(Bucket="mpu", Key="m.bin", UploadId=up, PartNumber=4, Body=b"tiny")["ETag"]
        err = self.error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket="mpu", Key="m.bin",
                         UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                                 {"PartNumber": 3, "ETag": e3},
                                                                 {"PartNumber": 4, "ETag": small}]})
        self.assertEqual(err["Error"]["PartNumber"], "3")
        # Parts 1, 2, 3 (part 4 is left out and discarded).
        r = s3.complete_multipart_upload(Bucket="mpu", Key="m.bin", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                      {"PartNumber": 3, "ETag": e3}]})
        want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in (p1, p2, p3))).hexdigest() + "-3"
        self.assertEqual(r["ETag"], '"%s"' % want)
        g = s3.get_object(Bucket="mpu", Key="m.bin")
        self.assertEqual(g["Body"].read(), p1 + p2 + p3)
        self.assertEqual((g["ContentType"], g["Metadata"]), ("app/x", {"m": "1"}))
        self.assertEqual(s3.get_object_tagging(Bucket="mpu", Key="m.bin")["TagSet"],
                         [{"Key": "team", "Value": "a b"}])
        g = s3.get_object(Bucket="mpu", Key="m.bin", PartNumber=2)
        self.assertEqual(g["PartsCount"], 3)
        self.assertEqual(g["Body"].read(), p2)
        self.assertEqual(s3.list_multipart_uploads(Bucket="mpu").get("Uploads", []), [])
        self.error("NoSuchUpload", 404, s3.upload_part, Bucket="mpu", Key="m.bin", UploadId=up,
                   PartNumber=1, Body=b"x")
        # UploadPartCopy and abort.
        up2 = s3.create_multipart_upload(Bucket="mpu", Key="copy.bin")["UploadId"]
        r = s3.upload_part_copy(Bucket="mpu", Key="copy.bin", UploadId=up2, PartNumber=1,
                                CopySource="mpu/m.bin", CopySourceRange="bytes=0-%d" % (5 * MiB - 1))
        self.assertEqual(r["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(p1).hexdigest())
        s3.abort_multipart_upload(Bucket="mpu", Key="copy.bin", UploadId=up2)
        self.error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket="mpu", Key="copy.bin", UploadId=up2)
        self.error("InvalidArgument", 400, s3.upload_part, Bucket="mpu", Key="m.bin", UploadId=up,
                   PartNumber=10001, Body=b"x")

    def test_managed_transfers(self):
        s3 = self.s3
        s3.create_bucket(Bucket="transfers")
        data = blob(13 * MiB + 17, 7)
        src = os.path.join(self.tmp, "upload.bin")
        with open(src, "wb") as f:
            f.write(data)
        cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
        s3.upload_file(src, "transfers", "up.bin", Config=cfg)
        dst = os.path.join(self.tmp, "download.bin")
        s3.download_file("transfers", "up.bin", dst, Config=cfg)  # concurrent ranged GETs
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertTrue(s3.head_object(Bucket="transfers", Key="up.bin")["ETag"].endswith('-3"'))

    def test_virtual_hosted_style_and_auth_errors(self):
        s3 = self.s3
        s3.create_bucket(Bucket="vhost")
        s3.put_object(Bucket="vhost", Key="k/v.txt", Body=b"virtual")
        host = "vhost.s3.localhost:%d" % self.server.port
        headers = {"host": host, "x-amz-content-sha256": hashlib.sha256(b"").hexdigest()}
        signed = sign_request("http://%s" % host, "GET", "/k/v.txt", b"", headers, service="s3")
        status, _, body = self.server.raw("GET", "/k/v.txt", b"", signed, sign=False)
        self.assertEqual((status, body), (200, b"virtual"))
        # No credentials, unknown key, wrong secret, old date.
        status, _, body = self.server.raw("GET", "/vhost/k/v.txt", sign=False)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        other = boto3.client("s3", endpoint_url=self.server.endpoint, region_name=REGION,
                             aws_access_key_id="AKIAUNKNOWNUNKNOWN00", aws_secret_access_key="x" * 40)
        self.error("InvalidAccessKeyId", 403, other.get_object, Bucket="vhost", Key="k/v.txt")
        wrong = self.server.s3_client(key=os.environ["AWS_ACCESS_KEY_ID"], secret="y" * 40)
        self.error("SignatureDoesNotMatch", 403, wrong.get_object, Bucket="vhost", Key="k/v.txt")
        # Signed for another region: S3's AuthorizationHeaderMalformed naming the right one
        # (which botocore's region redirector then uses to sign again, transparently).
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        req = botocore.awsrequest.AWSRequest(method="GET", url=self.server.endpoint + "/vhost/k/v.txt",
                                             headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                                                                 os.environ["AWS_SECRET_ACCESS_KEY"]),
                                "s3", "eu-west-1").add_auth(req)
        status, _, body = self.server.raw("GET", "/vhost/k/v.txt", b"", dict(req.headers.items()), sign=False)
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>AuthorizationHeaderMalformed</Code>", body)
        self.assertIn(b"<Region>us-east-1</Region>", body)
        eu = boto3.client("s3", endpoint_url=self.server.endpoint, region_name="eu-west-1")
        self.assertEqual(eu.get_object(Bucket="vhost", Key="k/v.txt")["Body"].read(), b"virtual")
        # A body that does not match its signed hash is refused, and nothing is stored.
        headers = {"x-amz-content-sha256": hashlib.sha256(b"declared").hexdigest()}
        signed = sign_request(self.server.endpoint, "PUT", "/vhost/tampered", b"declared", headers, service="s3")
        status, _, body = self.server.raw("PUT", "/vhost/tampered", b"sent instead", signed, sign=False)
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>XAmzContentSHA256Mismatch</Code>", body)
        self.error("NoSuchKey", 404, s3.get_object, Bucket="vhost", Key="tampered")

    def test_iam_users_are_authorized_per_action(self):
        s3 = self.s3
        s3.create_bucket(Bucket="iam-bkt")
        s3.put_object(Bucket="iam-bkt", Key="read-me", Body=b"ok")
        iam = self.server.iam_client()
        iam.create_user(UserName="s3-reader")
        iam.put_user_policy(UserName="s3-reader", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                 "Resource": ["arn:aws:s3:::iam-bkt", "arn:aws:s3:::iam-bkt/*"]}]}))
        key = iam.create_access_key(UserName="s3-reader")["AccessKey"]
        reader = self.server.s3_client(key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        self.assertEqual(reader.get_object(Bucket="iam-bkt", Key="read-me")["Body"].read(), b"ok")
        self.assertEqual(reader.list_objects_v2(Bucket="iam-bkt")["KeyCount"], 1)
        err = self.error("AccessDenied", 403, reader.put_object, Bucket="iam-bkt", Key="w", Body=b"x")
        self.assertIn("s3:PutObject", err["Error"]["Message"])
        self.error("AccessDenied", 403, reader.delete_object, Bucket="iam-bkt", Key="read-me")
        self.error("AccessDenied", 403, reader.list_buckets)


PRINT_EVENT = """
import json
def handler(event, context):
    for r in event.get("Records", []):
        print("SAW " + json.dumps(r))
    return {}
"""


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class S3NotificationTest(ServerTestCase):
    """An upload of photos/cat.jpg runs the function subscribed with prefix photos/ and suffix
    .jpg, and not the one for docs/; removals reach a queue; the configuration is validated as
    S3 validates it (filters, overlaps, destinations and their permissions)."""

    def wait_lines(self, logs, name, count, timeout=60):
        deadline = time.time() + timeout
        got = []
        while time.time() < deadline:
            got = log_lines(logs, name, "SAW")
            if len(got) >= count:
                return got
            time.sleep(0.2)
        return got

    def test_uploads_invoke_subscribed_functions_and_removals_reach_a_queue(self):
        s3 = self.server.s3_client()
        logs = boto3.client("logs", endpoint_url=self.server.endpoint, region_name=REGION)
        sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)
        code = make_zip({"app.py": PRINT_EVENT})
        for name in ("on-photos", "on-docs"):
            self.create(name, code)
        s3.create_bucket(Bucket="notify")
        arn = lambda n: "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, n)
        queue_url = sqs.create_queue(QueueName="removed")["QueueUrl"]
        queue_arn = "arn:aws:sqs:%s:%s:removed" % (REGION, ACCOUNT)
        config = {
            "LambdaFunctionConfigurations": [
                {"Id": "photos", "LambdaFunctionArn": arn("on-photos"), "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "photos/"},
                                                    {"Name": "suffix", "Value": ".jpg"}]}}},
                {"Id": "docs", "LambdaFunctionArn": arn("on-docs"), "Events": ["s3:ObjectCreated:Put"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "docs/"}]}}}],
            "QueueConfigurations": [
                {"Id": "gone", "QueueArn": queue_arn, "Events": ["s3:ObjectRemoved:*"]}]}
        # S3 may not invoke the functions, nor send to the queue, yet.
        with self.assertRaises(ClientError) as cm:
            s3.put_bucket_notification_configuration(Bucket="notify", NotificationConfiguration=config)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "InvalidArgument")
        self.assertEqual(err["Message"], "Unable to validate the following destination configurations")
        for name in ("on-photos", "on-docs"):
            self.client.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::notify",
                                       SourceAccount=ACCOUNT)
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": queue_arn, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::notify"}}}]})})
        # Overlapping filters on a shared event type are refused; unknown events and rules too.
        overlap = {"LambdaFunctionConfigurations": config["LambdaFunctionConfigurations"] + [
            {"LambdaFunctionArn": arn("on-docs"), "Events": ["s3:ObjectCreated:Copy"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "photos/cats/"}]}}}]}
        with self.assertRaises(ClientError) as cm:
            s3.put_bucket_notification_configuration(Bucket="notify", NotificationConfiguration=overlap)
        self.assertIn("Configurations overlap", cm.exception.response["Error"]["Message"])
        bad = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn("on-docs"), "Events": ["s3:ObjectCreated:*"],
               "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}]}
        with self.assertRaises(ClientError) as cm:
            s3.put_bucket_notification_configuration(Bucket="notify", NotificationConfiguration=bad)
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidArgument")
        s3.put_bucket_notification_configuration(Bucket="notify", NotificationConfiguration=config)
        got = s3.get_bucket_notification_configuration(Bucket="notify")
        self.assertEqual(sorted(c["Id"] for c in got["LambdaFunctionConfigurations"]), ["docs", "photos"])
        self.assertEqual(got["QueueConfigurations"][0]["QueueArn"], queue_arn)
        # The queue got S3's test message.
        msgs = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
        test_event = json.loads(msgs[0]["Body"])
        self.assertEqual((test_event["Event"], test_event["Bucket"]), ("s3:TestEvent", "notify"))
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msgs[0]["ReceiptHandle"])

        body = b"\xff\xd8 not really a jpeg"
        put = s3.put_object(Bucket="notify", Key="photos/cat.jpg", Body=body)
        s3.put_object(Bucket="notify", Key="photos/readme.txt", Body=b"no")   # suffix does not match
        s3.put_object(Bucket="notify", Key="docs/a b:c.txt", Body=b"doc")
        s3.put_object(Bucket="notify", Key="other/cat.jpg", Body=b"no")       # prefix does not match
        photos = self.wait_lines(logs, "on-photos", 1)
        self.assertEqual(len(photos), 1, photos)
        r = photos[0]
        self.assertEqual((r["eventVersion"], r["eventSource"], r["awsRegion"], r["eventName"]),
                         ("2.1", "aws:s3", REGION, "ObjectCreated:Put"))
        self.assertEqual(r["s3"]["configurationId"], "photos")
        self.assertEqual(r["s3"]["bucket"], {"name": "notify", "ownerIdentity": {"principalId": ACCOUNT},
                                             "arn": "arn:aws:s3:::notify"})
        self.assertEqual(r["s3"]["object"]["key"], "photos/cat.jpg")
        self.assertEqual(r["s3"]["object"]["size"], len(body))
        self.assertEqual(r["s3"]["object"]["eTag"], put["ETag"].strip('"'))
        self.assertRegex(r["s3"]["object"]["sequencer"], r"^[0-9A-F]{16}$")
        self.assertRegex(r["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(r["requestParameters"]["sourceIPAddress"], "127.0.0.1")
        docs = self.wait_lines(logs, "on-docs", 1)
        self.assertEqual([d["s3"]["object"]["key"] for d in docs], ["docs/a+b%3Ac.txt"])
        # A multipart upload and a copy are ObjectCreated events too.
        up = s3.create_multipart_upload(Bucket="notify", Key="photos/big.jpg")["UploadId"]
        e = s3.upload_part(Bucket="notify", Key="photos/big.jpg", UploadId=up, PartNumber=1, Body=b"x")["ETag"]
        s3.complete_multipart_upload(Bucket="notify", Key="photos/big.jpg", UploadId=up,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
        s3.copy_object(Bucket="notify", Key="photos/copy.jpg", CopySource="notify/photos/cat.jpg")
        photos = self.wait_lines(logs, "on-photos", 3)
        names = sorted((p["eventName"], p["s3"]["object"]["key"]) for p in photos)
        self.assertEqual(names, [("ObjectCreated:CompleteMultipartUpload", "photos/big.jpg"),
                                 ("ObjectCreated:Copy", "photos/copy.jpg"),
                                 ("ObjectCreated:Put", "photos/cat.jpg")])
        seqs = [p["s3"]["object"]["sequencer"] for p in photos]
        self.assertEqual(len(set(seqs)), 3)
        # Removals reach the queue.
        s3.delete_object(Bucket="notify", Key="photos/cat.jpg")
        s3.delete_objects(Bucket="notify", Delete={"Objects": [{"Key": "docs/a b:c.txt"}]})
        records = []
        deadline = time.time() + 30
        while len(records) < 2 and time.time() < deadline:
            for m in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2,
                                         MaxNumberOfMessages=10).get("Messages", []):
                records += json.loads(m["Body"])["Records"]
        got = sorted((r["eventName"], r["s3"]["object"]["key"]) for r in records)
        self.assertEqual(got, [("ObjectRemoved:Delete", "docs/a+b%3Ac.txt"),
                               ("ObjectRemoved:Delete", "photos/cat.jpg")])
        self.assertNotIn("size", records[0]["s3"]["object"])
        # An empty configuration turns notifications off.
        s3.put_bucket_notification_configuration(Bucket="notify", NotificationConfiguration={})
        self.assertNotIn("LambdaFunctionConfigurations",
                         s3.get_bucket_notification_configuration(Bucket="notify"))


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class S3CodeTest(ServerTestCase):
    """Deployment packages from a bucket: CreateFunction, UpdateFunctionCode and
    PublishLayerVersion with S3Bucket/S3Key, read with the caller's own permission."""

    def test_functions_and_layers_from_a_bucket(self):
        s3 = self.server.s3_client()
        s3.create_bucket(Bucket="code")
        v1 = make_zip({"app.py": "def handler(e, c):\n    return {'v': 1}\n"})
        v2 = make_zip({"app.py": "import helper\ndef handler(e, c):\n    return {'v': helper.V}\n"})
        layer = make_zip({"python/helper.py": "V = 2\n"})
        s3.put_object(Bucket="code", Key="pkg/v1.zip", Body=v1)
        s3.put_object(Bucket="code", Key="pkg/v2.zip", Body=v2)
        s3.put_object(Bucket="code", Key="layers/helper.zip", Body=layer)
        r = self.create("from-s3", Code={"S3Bucket": "code", "S3Key": "pkg/v1.zip"})
        self.assertEqual(r["CodeSha256"], base64.b64encode(hashlib.sha256(v1).digest()).decode())
        self.client.get_waiter("function_active_v2").wait(FunctionName="from-s3")
        out = json.loads(self.client.invoke(FunctionName="from-s3")["Payload"].read())
        self.assertEqual(out, {"v": 1})
        lv = self.client.publish_layer_version(LayerName="helper", Content={"S3Bucket": "code",
                                                                            "S3Key": "layers/helper.zip"})
        self.assertEqual(lv["Content"]["CodeSize"], len(layer))
        self.client.update_function_configuration(FunctionName="from-s3", Layers=[lv["LayerVersionArn"]])
        self.client.get_waiter("function_updated_v2").wait(FunctionName="from-s3")
        self.client.update_function_code(FunctionName="from-s3", S3Bucket="code", S3Key="pkg/v2.zip")
        self.client.get_waiter("function_updated_v2").wait(FunctionName="from-s3")
        out = json.loads(self.client.invoke(FunctionName="from-s3")["Payload"].read())
        self.assertEqual(out, {"v": 2})
        # The aws CLI the same way.
        self.server.aws("lambda", "update-function-code", "--function-name", "from-s3",
                        "--s3-bucket", "code", "--s3-key", "pkg/v1.zip")
        # Missing objects and buckets, versions, and callers who may not read the object.
        err = self.assertAwsError("InvalidParameterValueException", 400, self.client.update_function_code,
                                  FunctionName="from-s3", S3Bucket="code", S3Key="missing.zip")
        self.assertIn("S3 Error Code: NoSuchKey", err["Error"]["Message"])
        err = self.assertAwsError("InvalidParameterValueException", 400, self.client.update_function_code,
                                  FunctionName="from-s3", S3Bucket="no-such-code-bucket", S3Key="k.zip")
        self.assertIn("S3 Error Code: NoSuchBucket", err["Error"]["Message"])
        iam = self.server.iam_client()
        iam.create_user(UserName="deployer")
        iam.put_user_policy(UserName="deployer", PolicyName="lambda-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*",
                                                    "Resource": "*"}]}))
        key = iam.create_access_key(UserName="deployer")["AccessKey"]
        deployer = boto3.client("lambda", endpoint_url=self.server.endpoint, region_name=REGION,
                                aws_access_key_id=key["AccessKeyId"],
                                aws_secret_access_key=key["SecretAccessKey"])
        for _ in range(50):  # a new key is usable at once, but be lenient with the first call
            try:
                deployer.get_function(FunctionName="from-s3")
                break
            except ClientError:
                time.sleep(0.1)
        err = self.assertAwsError("AccessDeniedException", 403, deployer.update_function_code,
                                  FunctionName="from-s3", S3Bucket="code", S3Key="pkg/v2.zip")
        self.assertIn("permission to GetObject for code/pkg/v2.zip", err["Error"]["Message"])


class S3DurabilityTest(unittest.TestCase):
    """kill -9 in the middle of uploads: every acknowledged object survives intact, no partial
    one is visible, and what the interrupted uploads left on disk is collected."""

    def test_kill9_during_uploads(self):
        server = Server().start()
        try:
            s3 = server.s3_client()
            s3.create_bucket(Bucket="durable")
            acked, stop = {}, threading.Event()
            lock = threading.Lock()

            def uploader(n):
                i = 0
                while not stop.is_set():
                    key = "w%d/%d" % (n, i)
                    size = (1 + (i % 5)) * 200 * 1024 if n % 2 else 1000 + i
                    body = blob(size, n * 100000 + i)
                    try:
                        s3.put_object(Bucket="durable", Key=key, Body=body)
                    except Exception:
                        return
                    with lock:
                        acked[key] = hashlib.md5(body).hexdigest()
                    i += 1

            threads = [threading.Thread(target=uploader, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            time.sleep(3)
            server.kill9()
            stop.set()
            for t in threads:
                t.join()
            self.assertGreater(len(acked), 10)
            server.start()
            s3 = server.s3_client()
            listed = {o["Key"]: o for p in s3.get_paginator("list_objects_v2").paginate(Bucket="durable")
                      for o in p.get("Contents", [])}
            for key, md5 in acked.items():
                self.assertIn(key, listed)
                body = s3.get_object(Bucket="durable", Key=key)["Body"].read()
                self.assertEqual(hashlib.md5(body).hexdigest(), md5, key)
            # Whatever else is listed was complete (an upload acknowledged just as the kill came).
            for key, o in listed.items():
                body = s3.get_object(Bucket="durable", Key=key)["Body"].read()
                self.assertEqual('"%s"' % hashlib.md5(body).hexdigest(), o["ETag"], key)
            self.assertEqual(os.listdir(os.path.join(server.data_dir, "objects", "tmp")), [])
        finally:
            server.close()


class S3LargeObjectTest(unittest.TestCase):
    """A 1 GiB multipart upload and download in bounded memory: the server streams to and from
    disk, never holding an object."""

    def test_one_gib_round_trip_in_bounded_memory(self):
        server = Server().start()
        tmp = tempfile.mkdtemp(prefix="lambent-s3-big-")
        try:
            src = os.path.join(tmp, "big")
            digest = hashlib.sha256()
            with open(src, "wb") as f:
                chunk = blob(8 * MiB, 9)
                for i in range(128):
                    piece = chunk[i:] + chunk[:i]
                    digest.update(piece)
                    f.write(piece)
            s3 = server.s3_client()
            s3.create_bucket(Bucket="big")
            peak = [0.0]
            done = threading.Event()

            def watch():
                while not done.is_set():
                    peak[0] = max(peak[0], process_rss_mb(server.proc.pid))
                    time.sleep(0.1)

            w = threading.Thread(target=watch)
            w.start()
            cfg = TransferConfig(multipart_threshold=64 * MiB, multipart_chunksize=64 * MiB,
                                 max_concurrency=4)
            s3.upload_file(src, "big", "one-gib", Config=cfg)
            dst = os.path.join(tmp, "back")
            s3.download_file("big", "one-gib", dst, Config=cfg)
            done.set()
            w.join()
            back = hashlib.sha256()
            with open(dst, "rb") as f:
                for piece in iter(lambda: f.read(8 * MiB), b""):
                    back.update(piece)
            self.assertEqual(back.hexdigest(), digest.hexdigest())
            self.assertLess(peak[0], 200, "server RSS peaked at %.0f MB" % peak[0])
        finally:
            server.close()
            subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    unittest.main()

"""Bad input from the wire: each gets the AWS error, the server stays up, nothing partial is
stored (no metadata, no sealed blob, no extracted files)."""

import base64
import io
import json
import os
import socket
import stat
import time
import unittest
import zipfile

from harness import ROLE, ServerTestCase, make_zip, sign_request

CREATE = "/2015-03-31/functions"


def create_body(name, zip_bytes, **extra):
    body = {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler",
            "Role": ROLE, "Code": {"ZipFile": base64.b64encode(zip_bytes).decode()}}
    body.update(extra)
    return json.dumps(body).encode()


def zip_with(entries):
    """entries: list of (ZipInfo-like name, data, unix mode or None)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            if mode is not None:
                info.external_attr = mode << 16
            z.writestr(info, data)
    return buf.getvalue()


def zip_bomb():
    """300 MB of zeros that deflate to well under 1 MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("zeros.bin", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(300):
                f.write(chunk)
    return buf.getvalue()


class BadInput(ServerTestCase):
    def post(self, path, body, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        status, hdrs, data = self.server.raw("POST", path, body, h)
        return status, hdrs, json.loads(data) if data else None

    def assertError(self, result, status, code, message_part=None):
        st, hdrs, body = result
        self.assertEqual(st, status, body)
        self.assertEqual(hdrs.get("x-amzn-errortype"), code, body)
        self.assertTrue(hdrs.get("x-amzn-requestid"))
        self.assertEqual(body["Type"], "User")
        message = body.get("message") or body.get("Message")
        if message_part:
            self.assertIn(message_part, message)

    def assertNothingStored(self):
        listed = self.client.list_functions()["Functions"]
        self.assertEqual([f["FunctionName"] for f in listed if f["FunctionName"].startswith("bad")], [])
        blobs = []
        for root, _, files in os.walk(os.path.join(self.server.data_dir, "code")):
            blobs += files
        self.assertEqual(blobs, [], "sealed code left behind")
        self.assertEqual(os.listdir(self.server.cache_dir), [], "extracted code left behind")
        st, _, _ = self.server.raw("GET", "/health")
        self.assertEqual(st, 200)

    def test_malformed_json_wrong_types_unknown_fields(self):
        good_zip = make_zip({"app.py": "x = 1\n"})
        cases = [
            b"{not json",
            b"[1, 2, 3]",
            create_body("bad-types", good_zip, MemorySize="lots"),
            create_body("bad-types2", good_zip, Environment={"Variables": {"K1": 5}}),
            create_body("bad-types3", good_zip, Publish="yes"),
            create_body("bad-unknown", good_zip, NoSuchField=1),
            create_body("bad-unknown2", good_zip, TracingConfig={"Mode": "Active", "Colour": "red"}),
            json.dumps({"FunctionName": "bad-b64", "Runtime": "python3.11", "Handler": "a.b",
                        "Role": ROLE, "Code": {"ZipFile": "@@not base64@@"}}).encode(),
        ]
        for body in cases:
            with self.subTest(body=body[:80]):
                self.assertError(self.post(CREATE, body), 400, "InvalidRequestContentException",
                                 "Could not parse request body into json")
        self.assertError(self.server_put("/2015-03-31/functions/any/configuration", b"{oops"), 400,
                         "InvalidRequestContentException")
        self.assertNothingStored()

    def server_put(self, path, body):
        status, hdrs, data = self.server.raw("PUT", path, body, {"Content-Type": "application/json"})
        return status, hdrs, json.loads(data) if data else None

    def test_missing_required_members(self):
        self.assertError(self.post(CREATE, b"{}"), 400, "ValidationException", "must not be null")
        body = json.dumps({"FunctionName": "bad-nocode", "Role": ROLE, "Runtime": "python3.11",
                           "Handler": "a.b", "Code": {}}).encode()
        self.assertError(self.post(CREATE, body), 400, "InvalidParameterValueException")
        body = create_body("bad-nohandler", make_zip({"a.py": ""}))
        body = json.loads(body)
        del body["Handler"]
        self.assertError(self.post(CREATE, json.dumps(body).encode()), 400,
                         "InvalidParameterValueException", "Runtime and Handler are mandatory")
        self.assertNothingStored()

    def test_corrupt_and_malicious_zips(self):
        corrupt = bytearray(make_zip({"app.py": "print('x')\n" * 500}))
        for i in range(40, 80):
            corrupt[i] ^= 0xA5
        cases = [
            ("bad-empty", b"", "Could not unzip"),
            ("bad-garbage", b"this is not a zip file" * 10, "Could not unzip"),
            ("bad-corrupt", bytes(corrupt), "Could not unzip"),
            ("bad-slip", zip_with([("app.py", "x", None), ("../../etc/evil", "x", None)]),
             "escapes"),
            ("bad-abs", zip_with([("/tmp/evil", "x", None)]), "absolute"),
            ("bad-link", zip_with([("passwd", "/etc/passwd", stat.S_IFLNK | 0o777)]), "symlink"),
            ("bad-link2", zip_with([("d/up", "../../..", stat.S_IFLNK | 0o777)]), "symlink"),
            ("bad-through", zip_with([("d", ".", stat.S_IFLNK | 0o777), ("d/x", "y", None)]),
             "symlink"),
            ("bad-bomb", zip_bomb(), "Unzipped size must be smaller than 262144000 bytes"),
        ]
        for name, data, message in cases:
            with self.subTest(name=name):
                self.assertError(self.post(CREATE, create_body(name, data)), 400,
                                 "InvalidParameterValueException", message)
        self.assertNothingStored()
        # A rejected update leaves the stored function exactly as it was.
        good = make_zip({"app.py": "def handler(e, c):\n    return 1\n"})
        created = self.client.create_function(FunctionName="ok-fn", Runtime="python3.11",
                                              Handler="app.handler", Role=ROLE,
                                              Code={"ZipFile": good})
        body = json.dumps({"ZipFile": base64.b64encode(zip_with([("../x", "y", None)])).decode()})
        st, hdrs, data = self.server.raw("PUT", "/2015-03-31/functions/ok-fn/code", body.encode())
        self.assertEqual(st, 400)
        after = self.client.get_function_configuration(FunctionName="ok-fn")
        self.assertEqual(after["CodeSha256"], created["CodeSha256"])
        self.assertEqual(after["RevisionId"], created["RevisionId"])
        self.client.delete_function(FunctionName="ok-fn")
        self.assertNothingStored()

    def test_inside_symlinks_are_fine(self):
        z = zip_with([("lib/real.py", "X = 1\n", stat.S_IFREG | 0o644),
                      ("lib/alias.py", "real.py", stat.S_IFLNK | 0o777),
                      ("app.py", "import lib\n", None)])
        st, _, body = self.post(CREATE, create_body("link-ok", z))
        self.assertEqual(st, 201, body)
        self.client.delete_function(FunctionName="link-ok")

    def test_oversize_bodies_are_413_without_buffering(self):
        # Announce 70 MB and send only a little: the answer comes at once, before any body.
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        s.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 70000000\r\n"
                  b"Content-Type: application/json\r\n\r\n{\"FunctionName\":")
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        s.close()
        head, _, body = reply.partition(b"\r\n\r\n")
        self.assertIn(b" 413 ", head.split(b"\r\n")[0])
        self.assertIn(b"x-amzn-ErrorType: RequestEntityTooLargeException", head)
        self.assertIn(b"69905067", body)
        # Other operations take at most 6 MB.
        big = json.dumps({"Tags": {"k": "v" * (7 << 20)}}).encode()
        st, hdrs, data = self.server.raw(
            "POST", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ax",
            big)
        self.assertEqual(st, 413)
        self.assertEqual(hdrs["x-amzn-errortype"], "RequestEntityTooLargeException")
        self.assertNothingStored()

    def test_http_framing_on_one_connection(self):
        """Responses are framed exactly whatever the request's packets look like: pipelined
        requests, a body sent after a pause, a 204 (no Content-Length, no body), Connection: close."""
        self.client.create_function(FunctionName="frame-fn", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE,
                                    Code={"ZipFile": make_zip({"app.py": "x = 1\n"})})
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        reader = s.makefile("rb")

        def response():
            status = reader.readline().split(b" ", 2)
            headers = {}
            for line in iter(reader.readline, b"\r\n"):
                k, _, v = line.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            return int(status[1]), headers, reader.read(n)

        def signed(method, path, body=b"", headers=None):
            """The request's bytes, SigV4-signed (Host: x is signed as sent)."""
            hdrs = sign_request(self.server.endpoint, method, path, body, {"Host": "x", **(headers or {})})
            if body:
                hdrs["Content-Length"] = str(len(body))
            head = "".join("%s: %s\r\n" % (k, v) for k, v in hdrs.items())
            return ("%s %s HTTP/1.1\r\n%s\r\n" % (method, path, head)).encode() + body

        invoke = signed("POST", "/2015-03-31/functions/frame-fn/invocations", b'{"a": 1}',
                        {"X-Amz-Invocation-Type": "DryRun"})
        bad = signed("POST", "/2015-03-31/functions", b"{}", {"Content-Type": "application/json"})
        get = signed("GET", "/2015-03-31/functions/frame-fn")
        # Three requests in one write: each body arrives in the same packet as the next header.
        s.sendall(invoke + bad + get)
        st, hdrs, body = response()
        self.assertEqual((st, body), (204, b""))
        self.assertNotIn("content-length", hdrs)
        self.assertTrue(hdrs.get("x-amzn-requestid"))
        st, hdrs, body = response()
        self.assertEqual(st, 400)
        self.assertEqual(hdrs["content-length"], str(len(body)))
        self.assertEqual(hdrs["x-amzn-errortype"], "ValidationException")
        self.assertEqual(json.loads(body)["Type"], "User")
        st, hdrs, body = response()
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body)["Configuration"]["FunctionName"], "frame-fn")
        # A body sent after its header, in two pieces.
        s.sendall(invoke[:-8])
        time.sleep(0.05)
        s.sendall(invoke[-8:-4])
        time.sleep(0.05)
        s.sendall(invoke[-4:])
        self.assertEqual(response()[0], 204)
        # Connection: close is honoured and announced.
        s.sendall(signed("GET", "/2015-03-31/functions/frame-fn", headers={"Connection": "close"}))
        st, hdrs, body = response()
        self.assertEqual(st, 200)
        self.assertEqual(hdrs.get("connection"), "close")
        self.assertEqual(reader.read(), b"")  # and the server closed it
        reader.close()
        s.close()
        self.client.delete_function(FunctionName="frame-fn")

    def test_unknown_routes_and_methods(self):
        st, hdrs, _ = self.server.raw("GET", "/2015-03-31/nothing-here")
        self.assertEqual(st, 404)
        self.assertEqual(hdrs["x-amzn-errortype"], "UnknownOperationException")
        st, hdrs, _ = self.server.raw("PATCH", "/2015-03-31/functions")
        self.assertEqual(st, 405)

    def test_code_download_needs_a_valid_signature(self):
        z = make_zip({"app.py": "x = 1\n"})
        self.client.create_function(FunctionName="sig-fn", Runtime="python3.11",
                                    Handler="app.handler", Role=ROLE, Code={"ZipFile": z})
        loc = self.client.get_function(FunctionName="sig-fn")["Code"]["Location"]
        path = loc.split(str(self.server.port), 1)[1]
        st, _, data = self.server.raw("GET", path)
        self.assertEqual((st, data), (200, z))
        st, _, _ = self.server.raw("GET", path[:-1] + ("0" if path[-1] != "0" else "1"))
        self.assertEqual(st, 403)
        expired = path.replace("Expires=", "Expires=1")
        st, _, _ = self.server.raw("GET", expired)
        self.assertEqual(st, 403)
        self.client.delete_function(FunctionName="sig-fn")


if __name__ == "__main__":
    unittest.main()

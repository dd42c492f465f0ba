"""The web console's serving (issue 21; the browser test is console/test): GET / gives the page
with a strict Content-Security-Policy, the content-hashed assets it names are cached for a year
and gzip-compressed, the page revalidates with its ETag (304), HEAD answers without a body,
requests signed for S3 at / are still S3's (ListBuckets), and `--console off` serves none."""

import json
import re
import unittest
import urllib.error
import urllib.request

from harness import Server


def get(url, headers=None, method="GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class ConsoleServingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_page_assets_caching_and_policy(self):
        status, headers, body = get(self.server.endpoint + "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        csp = headers["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertIn("connect-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe", csp)
        self.assertEqual(headers["cache-control"], "no-cache")
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        html = body.decode()
        self.assertIn('<meta name="lambent-region" content="us-east-1">', html)
        assets = re.findall(r'/_console/(app-[A-Z0-9]+\.(?:js|css))', html)
        self.assertEqual(sorted(a.rsplit(".", 1)[1] for a in assets), ["css", "js"])
        # Revalidation.
        status, again, _ = get(self.server.endpoint + "/", {"If-None-Match": headers["etag"]})
        self.assertEqual(status, 304)
        self.assertEqual(again["etag"], headers["etag"])
        # What the first load fetches (the page's entry and the chunks it imports statically).
        status, _, listing = get(self.server.endpoint + "/_console/first-load.json")
        self.assertEqual(status, 200)
        first_load = json.loads(listing)
        self.assertTrue(set(assets) <= set(first_load))
        for chunk in first_load:
            if chunk.startswith("chunk-"):
                self.assertIn('<link rel="modulepreload" href="/_console/%s">' % chunk, html)
        first_load_gzip = 0
        for name in first_load:
            status, h, plain = get(self.server.endpoint + "/_console/" + name)
            self.assertEqual(status, 200)
            self.assertEqual(h["cache-control"], "public, max-age=31536000, immutable")
            self.assertIn("content-security-policy", h)
            status, hz, packed = get(self.server.endpoint + "/_console/" + name,
                                     {"Accept-Encoding": "gzip"})
            if len(plain) > 512:
                self.assertEqual(hz.get("content-encoding"), "gzip")
                import gzip
                self.assertEqual(gzip.decompress(packed), plain)
            first_load_gzip += len(packed)
            status, hh, nothing = get(self.server.endpoint + "/_console/" + name, method="HEAD")
            self.assertEqual((status, nothing, hh["content-length"]), (200, b"", str(len(plain))))
        # The budget: the first page load's JS and CSS under 400 KB gzipped.
        self.assertLess(first_load_gzip, 400 * 1024)
        self.assertEqual(get(self.server.endpoint + "/_console/app-NOPE.js")[0], 404)

    def test_requests_signed_for_s3_stay_s3s(self):
        s3 = self.server.s3_client()
        s3.create_bucket(Bucket="still-s3")
        self.assertEqual([b["Name"] for b in s3.list_buckets()["Buckets"]], ["still-s3"])


class ConsoleOffTest(unittest.TestCase):
    def test_console_off_serves_no_page(self):
        server = Server().start("--console", "off")
        try:
            status, headers, _ = get(server.endpoint + "/")
            self.assertNotEqual(status, 200)
            self.assertNotIn("content-security-policy", headers)
            self.assertNotEqual(get(server.endpoint + "/_console/x.js")[0], 200)
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()

"""The `lambent` CLI's verbs end to end against a running server: deploy (folder and zip, create
then update, progress for large uploads), invoke, ls, logs (also --follow and --filter), metrics,
publish, alias, rm — human output and --json — and errors that say what to do."""

import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from harness import LAMBENT, Server, make_zip, rmtree, sandbox_supported

APP = ("def handler(event, context):\n"
       "    print('hello from', context.function_name, event.get('who', 'nobody'))\n"
       "    if event.get('fail'):\n"
       "        raise RuntimeError('asked to fail')\n"
       "    return {'greeting': 'hello ' + event.get('who', 'nobody'),\n"
       "            'version': context.function_version}\n")


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class CliVerbs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.dir = tempfile.mkdtemp(prefix="lambent-cli-")
        cls.app = os.path.join(cls.dir, "app")
        os.makedirs(os.path.join(cls.app, "pkg"))
        with open(os.path.join(cls.app, "app.py"), "w") as f:
            f.write(APP)
        with open(os.path.join(cls.app, "pkg", "__init__.py"), "w") as f:
            f.write("")

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        rmtree(cls.dir)

    def cli(self, *args, check=True, env=None, endpoint=True):
        full = [LAMBENT, *args] + (["--endpoint", self.server.endpoint] if endpoint else [])
        p = subprocess.run(full, capture_output=True, text=True, timeout=120,
                           env={**os.environ, **(env or {})})
        if check and p.returncode != 0:
            raise AssertionError("lambent %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
        return p

    def cli_json(self, *args):
        return json.loads(self.cli(*args, "--json").stdout)

    def test_deploy_invoke_publish_alias_rm(self):
        out = self.cli_json("deploy", self.app, "--name", "cli-hello", "--runtime", "python3.11",
                            "--handler", "app.handler", "--env", "GREETING=hi", "--memory", "256")
        self.assertTrue(out["Created"])
        self.assertTrue(out["FunctionArn"].endswith(":function:cli-hello"))
        first_sha = out["CodeSha256"]
        human = self.cli("invoke", "cli-hello", "--payload", '{"who": "ann"}')
        self.assertEqual(json.loads(human.stdout)["greeting"], "hello ann")
        self.assertIn("START RequestId:", human.stderr)
        self.assertIn("REPORT RequestId:", human.stderr)
        payload_file = os.path.join(self.dir, "event.json")
        with open(payload_file, "w") as f:
            json.dump({"who": "bob"}, f)
        inv = self.cli_json("invoke", "cli-hello", "--payload", "@" + payload_file)
        self.assertEqual(inv["Payload"]["greeting"], "hello bob")
        self.assertEqual(inv["ExecutedVersion"], "$LATEST")
        self.assertIn("hello from cli-hello bob", inv["LogResult"])
        failed = self.cli("invoke", "cli-hello", "--payload", '{"fail": true}', check=False)
        self.assertEqual(failed.returncode, 2)
        self.assertIn("asked to fail", failed.stdout)
        self.assertIn("function error: Unhandled", failed.stderr)

        # Update: new code and configuration, published in the same step.
        with open(os.path.join(self.app, "extra.txt"), "w") as f:
            f.write("more")
        try:
            out = self.cli_json("deploy", self.app, "--name", "cli-hello", "--timeout", "9",
                                "--publish")
        finally:
            os.unlink(os.path.join(self.app, "extra.txt"))
        self.assertFalse(out["Created"])
        self.assertNotEqual(out["CodeSha256"], first_sha)
        self.assertEqual(out["Version"], "1")
        listed = self.cli_json("ls")
        hello = [f for f in listed if f["FunctionName"] == "cli-hello"][0]
        self.assertEqual((hello["Timeout"], hello["MemorySize"]), (9, 256))
        self.assertEqual(hello["Environment"]["Variables"], {"GREETING": "hi"})
        self.assertIn("cli-hello", self.cli("ls").stdout)

        self.cli("deploy", self.app, "--name", "cli-hello", "--description", "second")
        self.assertIn("version 2 of cli-hello", self.cli("publish", "cli-hello").stdout)
        alias = self.cli_json("alias", "cli-hello", "live", "2", "--weight", "1=0.25")
        self.assertEqual(alias["RoutingConfig"], {"AdditionalVersionWeights": {"1": 0.25}})
        self.assertIn("-> version 1", self.cli("alias", "cli-hello", "live", "1").stdout)
        inv = self.cli_json("invoke", "cli-hello", "--qualifier", "live")
        self.assertEqual(inv["ExecutedVersion"], "1")
        detail = self.cli_json("ls", "cli-hello")
        self.assertEqual([v["Version"] for v in detail["Versions"]], ["$LATEST", "1", "2"])
        self.assertEqual([a["Name"] for a in detail["Aliases"]], ["live"])
        self.assertIn("live", self.cli("ls", "cli-hello").stdout)
        self.cli("alias", "cli-hello", "live", "--delete")
        self.assertIn("deleted cli-hello:2", self.cli("rm", "cli-hello", "--qualifier", "2").stdout)
        self.assertEqual(self.cli_json("rm", "cli-hello"), {"Deleted": "cli-hello"})
        gone = self.cli("invoke", "cli-hello", check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("ResourceNotFoundException", gone.stderr)
        self.assertIn("lambent ls", gone.stderr)

    def test_deploy_a_zip_with_progress_and_clear_errors(self):
        zip_path = os.path.join(self.dir, "big.zip")
        with open(zip_path, "wb") as f:
            f.write(make_zip({"app.py": APP, "blob.bin": os.urandom(5 << 20)}))
        p = self.cli("deploy", zip_path, "--name", "cli-big", "--runtime", "python3.11",
                     "--handler", "app.handler")
        self.assertIn("uploading", p.stderr)
        self.assertIn("100%", p.stderr)
        self.assertIn("created", p.stdout)
        missing = self.cli("deploy", self.app, "--name", "cli-new", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("needs --runtime and --handler", missing.stderr)
        bad_env = self.cli("deploy", self.app, "--name", "cli-big", "--env", "NOEQUALS", check=False)
        self.assertIn("--env takes KEY=VALUE", bad_env.stderr)
        down = self.cli("ls", "--endpoint", "http://127.0.0.1:1", endpoint=False, check=False)
        self.assertEqual(down.returncode, 1)
        self.assertIn("Is `lambent serve` running", down.stderr)
        # LAMBENT_ENDPOINT is honoured.
        via_env = self.cli("ls", "--json", endpoint=False, env={"LAMBENT_ENDPOINT": self.server.endpoint})
        self.assertIn("cli-big", [f["FunctionName"] for f in json.loads(via_env.stdout)])
        self.cli("rm", "cli-big")

    def test_buckets_objects_and_deploying_through_a_bucket(self):
        self.assertIn("no buckets yet", self.cli("s3", "ls").stdout)
        self.assertIn("made bucket: cli-stage", self.cli("s3", "mb", "cli-stage").stdout)
        src = os.path.join(self.dir, "note.txt")
        with open(src, "w") as f:
            f.write("a note\n")
        self.cli("s3", "cp", src, "s3://cli-stage/docs/a note.txt")
        self.assertIn("cli-stage", self.cli("s3", "ls").stdout)
        listing = self.cli("s3", "ls", "cli-stage").stdout
        self.assertIn("PRE  docs/", listing)
        self.assertIn("docs/a note.txt", self.cli("s3", "ls", "cli-stage/docs/").stdout)
        back = os.path.join(self.dir, "back.txt")
        self.cli("s3", "cp", "s3://cli-stage/docs/a note.txt", back)
        with open(back) as f:
            self.assertEqual(f.read(), "a note\n")
        p = self.cli("s3", "rb", "cli-stage", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("BucketNotEmpty", p.stderr)
        # A package staged through the bucket.
        out = self.cli_json("deploy", self.app, "--name", "cli-staged", "--runtime", "python3.11",
                            "--handler", "app.handler", "--s3-bucket", "cli-stage")
        self.assertTrue(out["Created"])
        self.assertIn("lambent-deploy/cli-staged/", self.cli("s3", "ls", "cli-stage/lambent-deploy/cli-staged/").stdout)
        self.cli("s3", "rm", "s3://cli-stage/docs/a note.txt")
        p = self.cli("s3", "ls", "no-such-bucket", check=False)
        self.assertIn("NoSuchBucket", p.stderr)

    def test_logs_and_metrics(self):
        self.cli("deploy", self.app, "--name", "cli-obs", "--runtime", "python3.11", "--handler",
                 "app.handler")
        for who in ("a", "b", "c"):
            self.cli("invoke", "cli-obs", "--payload", json.dumps({"who": who}))
        self.cli("invoke", "cli-obs", "--payload", '{"fail": true}', check=False)
        time.sleep(0.3)
        text = self.cli("logs", "cli-obs", "--since", "10m").stdout
        for who in ("a", "b", "c"):
            self.assertIn("hello from cli-obs " + who, text)
        filtered = self.cli("logs", "cli-obs", "--filter", '"cli-obs b"').stdout.splitlines()
        self.assertEqual(len(filtered), 1, filtered)
        events = [json.loads(line) for line in
                  self.cli("logs", "cli-obs", "--json", "--filter", "REPORT").stdout.splitlines()]
        self.assertEqual(len(events), 4)
        self.assertTrue(all("eventId" in e and "timestamp" in e for e in events))

        follow = subprocess.Popen([LAMBENT, "logs", "cli-obs", "--follow", "--since", "1m",
                                   "--endpoint", self.server.endpoint],
                                  stdout=subprocess.PIPE, text=True)
        lines = []
        threading.Thread(target=lambda: lines.extend(iter(follow.stdout.readline, "")),
                         daemon=True).start()
        try:
            time.sleep(1.5)
            self.cli("invoke", "cli-obs", "--payload", '{"who": "late"}')
            deadline = time.time() + 10
            while time.time() < deadline and not any("cli-obs late" in l for l in lines):
                time.sleep(0.1)
            self.assertTrue(any("cli-obs late" in l for l in lines), lines)
            self.assertEqual(sum("cli-obs a" in l for l in lines), 1)  # no repeats
        finally:
            follow.kill()
            follow.wait()

        rows = self.cli_json("metrics", "cli-obs", "--since", "10m")
        self.assertEqual(sum(r.get("Invocations", 0) for r in rows), 5)
        self.assertEqual(sum(r.get("Errors", 0) for r in rows), 1)
        table = self.cli("metrics", "cli-obs").stdout
        self.assertIn("INVOCATIONS", table)
        self.assertIn("5 in all, 1 errors (20.0 %)", table)
        empty = self.cli("logs", "cli-nothing", check=False)
        self.assertIn("invoke it with `lambent invoke cli-nothing`", empty.stderr)


if __name__ == "__main__":
    unittest.main()

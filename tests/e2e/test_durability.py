"""What was acknowledged survives kill -9; secrets never rest on disk in plaintext; SIGTERM stops
the server cleanly."""

import os
import stat
import threading
import unittest

from botocore.exceptions import ClientError, EndpointConnectionError, ConnectionClosedError

from harness import ROLE, Server, download, make_zip


def snapshot(client, name):
    got = client.get_function(FunctionName=name)
    conf = got["Configuration"]
    return conf, got.get("Tags", {}), download(got["Code"]["Location"])


class Durability(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()

    def tearDown(self):
        self.server.close()

    def test_everything_survives_kill_9(self):
        c = self.server.lambda_client()
        names = ["crash-%d" % i for i in range(6)]
        for i, n in enumerate(names):
            c.create_function(FunctionName=n, Runtime="python3.11", Handler="app.handler",
                              Role=ROLE, Code={"ZipFile": make_zip({"app.py": "V = %d\n" % i})},
                              Environment={"Variables": {"SECRET_%d" % i: "value-%d" % i}},
                              Tags={"i": str(i)})
        c.update_function_code(FunctionName=names[0], ZipFile=make_zip({"app.py": "V = 'new'\n"}))
        c.update_function_configuration(FunctionName=names[1], MemorySize=2048, Timeout=60,
                                        Environment={"Variables": {"CHANGED": "yes"}})
        c.tag_resource(Resource=c.get_function(FunctionName=names[2])["Configuration"]["FunctionArn"],
                       Tags={"extra": "tag"})
        c.add_permission(FunctionName=names[3], StatementId="sid", Action="lambda:InvokeFunction",
                         Principal="sns.amazonaws.com")
        c.create_function(FunctionName="crash-pub", Runtime="python3.11", Handler="a.b", Role=ROLE,
                          Code={"ZipFile": make_zip({"a.py": "1"})}, Publish=True)
        c.delete_function(FunctionName=names[5])
        before = {n: snapshot(c, n) for n in names[:5]}
        policy = c.get_policy(FunctionName=names[3])["Policy"]

        self.server.kill9()
        self.server.start()
        c = self.server.lambda_client()
        for n in names[:5]:
            conf, tags, code = snapshot(c, n)
            self.assertEqual(conf, before[n][0], n)
            self.assertEqual(tags, before[n][1], n)
            self.assertEqual(code, before[n][2], n)
        self.assertEqual(c.get_policy(FunctionName=names[3])["Policy"], policy)
        self.assertEqual(c.get_function(FunctionName="crash-pub", Qualifier="1")
                         ["Configuration"]["Version"], "1")
        with self.assertRaises(ClientError):
            c.get_function(FunctionName=names[5])

    def test_acknowledged_creates_survive_a_kill_mid_stream(self):
        c = self.server.lambda_client()
        acked, stop = [], threading.Event()

        def writer():
            i = 0
            while not stop.is_set() and i < 2000:
                name = "stream-%04d" % i
                try:
                    c.create_function(FunctionName=name, Runtime="python3.11", Handler="a.b",
                                      Role=ROLE, Code={"ZipFile": make_zip({"a.py": name})})
                    acked.append(name)
                except (EndpointConnectionError, ConnectionClosedError, ClientError):
                    return
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        while len(acked) < 40 and t.is_alive():
            threading.Event().wait(0.01)
        self.server.kill9()
        stop.set()
        t.join()
        self.assertGreaterEqual(len(acked), 40)
        self.server.start()
        c = self.server.lambda_client()
        listed = {f["FunctionName"] for p in c.get_paginator("list_functions").paginate()
                  for f in p["Functions"]}
        missing = [n for n in acked if n not in listed]
        self.assertEqual(missing, [])
        for n in acked[-3:]:
            self.assertEqual(download(c.get_function(FunctionName=n)["Code"]["Location"]),
                             make_zip({"a.py": n}))

    def test_no_plaintext_secrets_or_code_at_rest(self):
        c = self.server.lambda_client()
        c.create_function(FunctionName="secret-fn", Runtime="python3.11", Handler="a.b",
                          Role=ROLE, Code={"ZipFile": make_zip({"a.py": "CODE_MARKER_%s = 1\n" % "Q7"})},
                          Environment={"Variables": {"DB_PASSWORD": "ENV_MARKER_Z9"}})
        self.server.kill9()
        for root, _, files in os.walk(self.server.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                self.assertNotIn(b"ENV_MARKER_Z9", data, f)
                self.assertNotIn(b"CODE_MARKER_Q7", data, f)
                self.assertNotIn(b"a.py", data, "plaintext zip in " + f)
        key = os.path.join(self.server.data_dir, "node.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(os.path.getsize(key), 32)
        # After a "reboot" the memory-backed cache is gone: the server starts on a fresh one and
        # still serves the code.
        fresh = Server(data_dir=self.server.data_dir).start()
        try:
            got = fresh.lambda_client().get_function(FunctionName="secret-fn")
            self.assertIn(b"CODE_MARKER_Q7",
                          __import__("zipfile").ZipFile(__import__("io").BytesIO(
                              download(got["Code"]["Location"]))).read("a.py"))
            self.assertEqual(got["Configuration"]["Environment"]["Variables"],
                             {"DB_PASSWORD": "ENV_MARKER_Z9"})
        finally:
            fresh.close()

    @unittest.skipUnless(os.geteuid() == 0, "execution environments need root (CI runs as root)")
    def test_environments_of_a_killed_server_are_cleared_on_restart(self):
        import time
        c = self.server.lambda_client()
        c.create_function(FunctionName="crash-env", Runtime="python3.11", Handler="a.h", Role=ROLE,
                          Code={"ZipFile": make_zip({"a.py": "def h(e, c):\n    return 1\n"})})
        c.invoke(FunctionName="crash-env", Payload=b"{}")
        time.sleep(0.2)  # idle long enough to be frozen
        tag = self.server.cgroup_tag

        def sandbox_pids():
            pids = []
            for p in os.listdir("/proc"):
                if not p.isdigit():
                    continue
                try:
                    with open("/proc/%s/cgroup" % p) as f:
                        if tag + "/env-" in f.read():
                            pids.append(int(p))
                except OSError:
                    pass
            return pids

        before = sandbox_pids()
        self.assertTrue(before, "no environment processes found under " + tag)
        self.server.kill9()
        self.server.start()
        deadline = time.time() + 10
        while time.time() < deadline and any(os.path.exists("/proc/%d" % p) for p in before):
            time.sleep(0.1)
        self.assertEqual([p for p in before if os.path.exists("/proc/%d" % p)], [])
        self.assertEqual(self.server.lambda_client().invoke(FunctionName="crash-env",
                                                            Payload=b"{}")["StatusCode"], 200)

    @unittest.skipUnless(os.geteuid() == 0, "execution environments need root (CI runs as root)")
    def test_a_stopped_server_leaves_no_cgroups_behind(self):
        # Neither its environments' groups, nor its ready blank sandboxes' groups, nor its parent
        # group: restarts must not accumulate cgroups on the host (each costs kernel memory and
        # slows cgroup operations), also after a kill -9 and the restart that clears it.
        c = self.server.lambda_client()
        c.create_function(FunctionName="cg-env", Runtime="python3.11", Handler="a.h", Role=ROLE,
                          Code={"ZipFile": make_zip({"a.py": "def h(e, c):\n    return 1\n"})})
        c.invoke(FunctionName="cg-env", Payload=b"{}")
        groups = self.server.cgroup_parents
        tag = self.server.cgroup_tag
        self.assertTrue(groups(), "the running server has no group under " + tag)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.server.lambda_client().invoke(FunctionName="cg-env",
                                                            Payload=b"{}")["StatusCode"], 200)
        self.assertEqual(self.server.terminate(), 0)
        self.assertEqual(groups(), [])
        self.server.start()  # for tearDown

    def test_tampered_code_is_detected_not_served(self):
        c = self.server.lambda_client()
        c.create_function(FunctionName="tamper-fn", Runtime="python3.11", Handler="a.b",
                          Role=ROLE, Code={"ZipFile": make_zip({"a.py": "x = 1\n"})})
        blobs = [os.path.join(r, f) for r, _, fs in
                 os.walk(os.path.join(self.server.data_dir, "code")) for f in fs]
        self.assertEqual(len(blobs), 1)
        with open(blobs[0], "r+b") as f:
            f.seek(20)
            b = f.read(1)
            f.seek(20)
            f.write(bytes([b[0] ^ 1]))
        loc = c.get_function(FunctionName="tamper-fn")["Code"]["Location"]
        status, _, _ = self.server.raw("GET", loc.split(str(self.server.port), 1)[1])
        self.assertEqual(status, 500)
        self.assertIn("was altered", self.server.log())

    def test_sigterm_is_a_clean_exit_and_data_dir_is_locked(self):
        second = Server(data_dir=self.server.data_dir)
        try:
            with self.assertRaises(RuntimeError):
                second.start()
        finally:
            second.close()
        self.assertEqual(self.server.terminate(), 0)


if __name__ == "__main__":
    unittest.main()

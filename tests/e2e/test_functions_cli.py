"""The function API through the aws CLI v2 (Debian's awscli, /usr/bin/aws)."""

import json
import os
import tempfile
import unittest

from harness import ROLE, ServerTestCase, download, make_zip, sha256_b64


class AwsCli(ServerTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lambent-cli-")

    def zip_file(self, name, files):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(make_zip(files))
        return path

    def error_code(self, stderr):
        # "An error occurred (ResourceNotFoundException) when calling ..."
        return stderr.split("(", 1)[1].split(")", 1)[0] if "(" in stderr else stderr

    def test_full_lifecycle(self):
        aws = self.server.aws
        z1 = self.zip_file("v1.zip", {"app.py": "def handler(e, c):\n    return 1\n"})
        _, created, _ = aws("lambda", "create-function", "--function-name", "cli-fn",
                            "--runtime", "python3.11", "--handler", "app.handler", "--role", ROLE,
                            "--zip-file", "fileb://" + z1, "--memory-size", "512",
                            "--environment", "Variables={MODE=test}", "--tags", "owner=cli")
        self.assertEqual(created["CodeSha256"], sha256_b64(open(z1, "rb").read()))
        self.assertEqual(created["MemorySize"], 512)
        aws("lambda", "wait", "function-active-v2", "--function-name", "cli-fn")

        _, got, _ = aws("lambda", "get-function", "--function-name", "cli-fn")
        self.assertEqual(download(got["Code"]["Location"]), open(z1, "rb").read())
        self.assertEqual(got["Tags"], {"owner": "cli"})
        self.assertEqual(got["Configuration"]["Environment"]["Variables"], {"MODE": "test"})

        z2 = self.zip_file("v2.zip", {"app.py": "def handler(e, c):\n    return 2\n"})
        _, upd, _ = aws("lambda", "update-function-code", "--function-name", "cli-fn",
                        "--zip-file", "fileb://" + z2)
        self.assertEqual(upd["CodeSha256"], sha256_b64(open(z2, "rb").read()))
        aws("lambda", "wait", "function-updated-v2", "--function-name", "cli-fn")
        _, cfg, _ = aws("lambda", "update-function-configuration", "--function-name", "cli-fn",
                        "--timeout", "30", "--description", "from the cli")
        self.assertEqual((cfg["Timeout"], cfg["Description"]), (30, "from the cli"))
        aws("lambda", "wait", "function-updated-v2", "--function-name", "cli-fn")
        _, conf, _ = aws("lambda", "get-function-configuration", "--function-name", "cli-fn")
        self.assertEqual(conf["Timeout"], 30)
        self.assertEqual(conf["CodeSha256"], sha256_b64(open(z2, "rb").read()))

        _, listed, _ = aws("lambda", "list-functions")
        self.assertIn("cli-fn", [f["FunctionName"] for f in listed["Functions"]])

        arn = conf["FunctionArn"]
        aws("lambda", "tag-resource", "--resource", arn, "--tags", "env=prod,tier=1")
        _, tags, _ = aws("lambda", "list-tags", "--resource", arn)
        self.assertEqual(tags["Tags"], {"owner": "cli", "env": "prod", "tier": "1"})
        aws("lambda", "untag-resource", "--resource", arn, "--tag-keys", "tier", "owner")
        _, tags, _ = aws("lambda", "list-tags", "--resource", arn)
        self.assertEqual(tags["Tags"], {"env": "prod"})

        _, added, _ = aws("lambda", "add-permission", "--function-name", "cli-fn",
                          "--statement-id", "events", "--action", "lambda:InvokeFunction",
                          "--principal", "events.amazonaws.com",
                          "--source-arn", "arn:aws:events:us-east-1:123456789012:rule/r")
        self.assertEqual(json.loads(added["Statement"])["Principal"],
                         {"Service": "events.amazonaws.com"})
        _, policy, _ = aws("lambda", "get-policy", "--function-name", "cli-fn")
        self.assertEqual([s["Sid"] for s in json.loads(policy["Policy"])["Statement"]], ["events"])
        aws("lambda", "remove-permission", "--function-name", "cli-fn", "--statement-id", "events")
        rc, _, err = aws("lambda", "get-policy", "--function-name", "cli-fn", check=False)
        self.assertNotEqual(rc, 0)
        self.assertEqual(self.error_code(err), "ResourceNotFoundException")

        _, settings, _ = aws("lambda", "get-account-settings")
        self.assertGreaterEqual(settings["AccountUsage"]["FunctionCount"], 1)

        aws("lambda", "delete-function", "--function-name", "cli-fn")
        rc, _, err = aws("lambda", "get-function", "--function-name", "cli-fn", check=False)
        self.assertNotEqual(rc, 0)
        self.assertEqual(self.error_code(err), "ResourceNotFoundException")

    def test_errors_as_the_cli_reports_them(self):
        aws = self.server.aws
        z = self.zip_file("e.zip", {"app.py": "x = 1\n"})
        base = ["lambda", "create-function", "--runtime", "python3.11", "--handler", "app.h",
                "--role", ROLE, "--zip-file", "fileb://" + z]
        aws(*base, "--function-name", "cli-err")
        rc, _, err = aws(*base, "--function-name", "cli-err", check=False)
        self.assertEqual(self.error_code(err), "ResourceConflictException")
        rc, _, err = aws(*base, "--function-name", "cli-err2", "--timeout", "1000", check=False)
        self.assertEqual(self.error_code(err), "ValidationException")
        rc, _, err = aws(*base, "--function-name", "cli-err3", "--environment",
                         "Variables={AWS_LAMBDA_FUNCTION_NAME=x}", check=False)
        self.assertEqual(self.error_code(err), "InvalidParameterValueException")
        rc, _, err = aws("lambda", "update-function-configuration", "--function-name", "cli-err",
                         "--revision-id", "00000000-0000-4000-8000-000000000000",
                         "--memory-size", "256", check=False)
        self.assertEqual(self.error_code(err), "PreconditionFailedException")
        bad = os.path.join(self.dir, "bad.zip")
        # A well-formed directory over corrupt data: the CLI's own check passes, the server's not.
        data = bytearray(make_zip({"app.py": "print('hello world')\n" * 200}))
        for i in range(40, 60):
            data[i] ^= 0xFF
        with open(bad, "wb") as f:
            f.write(bytes(data))
        rc, _, err = aws("lambda", "update-function-code", "--function-name", "cli-err",
                         "--zip-file", "fileb://" + bad, check=False)
        self.assertEqual(self.error_code(err), "InvalidParameterValueException")
        self.assertIn("Could not unzip", err)


if __name__ == "__main__":
    unittest.main()

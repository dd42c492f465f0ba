"""The function API through boto3 (Debian's python3-boto3)."""

import json
import re
import unittest

from harness import LAMBDA_TRUST, ROLE_NAME, ACCOUNT, REGION, ROLE, ServerTestCase, download, make_zip, sha256_b64

ARN_PREFIX = "arn:aws:lambda:%s:%s:function:" % (REGION, ACCOUNT)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


class FunctionLifecycle(ServerTestCase):
    def test_create_get_and_download_exact_bytes(self):
        code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "lib/util.py": "X = 2\n"})
        created = self.create("life-1", code, MemorySize=256, Timeout=15,
                              Description="first", Environment={"Variables": {"STAGE": "dev"}},
                              Tags={"team": "core"})
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertTrue(created["ResponseMetadata"]["RequestId"])
        self.assertEqual(created["FunctionArn"], ARN_PREFIX + "life-1")
        self.assertEqual(created["CodeSha256"], sha256_b64(code))
        self.assertEqual(created["CodeSize"], len(code))
        self.assertEqual(created["Version"], "$LATEST")
        self.assertRegex(created["RevisionId"], UUID)
        self.assertRegex(created["LastModified"], TIMESTAMP)
        self.assertEqual(created["State"], "Active")
        self.assertEqual(created["LastUpdateStatus"], "Successful")
        self.assertEqual(created["PackageType"], "Zip")
        self.assertEqual(created["Architectures"], ["x86_64"])
        self.assertEqual(created["EphemeralStorage"], {"Size": 512})
        self.assertEqual(created["TracingConfig"], {"Mode": "PassThrough"})
        self.assertEqual(created["Environment"], {"Variables": {"STAGE": "dev"}})
        self.assertEqual((created["MemorySize"], created["Timeout"]), (256, 15))

        got = self.client.get_function(FunctionName="life-1")
        self.assertEqual(got["Configuration"]["RevisionId"], created["RevisionId"])
        self.assertEqual(got["Code"]["RepositoryType"], "S3")
        self.assertEqual(got["Tags"], {"team": "core"})
        self.assertEqual(download(got["Code"]["Location"]), code)
        conf = self.client.get_function_configuration(FunctionName="life-1")
        self.assertEqual(conf["CodeSha256"], sha256_b64(code))
        self.assertEqual(conf["Description"], "first")

    def test_defaults(self):
        created = self.create("life-defaults")
        self.assertEqual(created["MemorySize"], 128)
        self.assertEqual(created["Timeout"], 3)
        self.assertEqual(created["Description"], "")
        self.assertNotIn("Environment", created)

    def test_function_named_by_arn_partial_arn_and_qualifier(self):
        self.create("life-names")
        for name in ("life-names", "life-names:$LATEST", ACCOUNT + ":function:life-names",
                     ARN_PREFIX + "life-names", ARN_PREFIX + "life-names:$LATEST"):
            got = self.client.get_function_configuration(FunctionName=name)
            self.assertEqual(got["FunctionName"], "life-names", name)
        got = self.client.get_function(FunctionName="life-names", Qualifier="$LATEST")
        self.assertEqual(got["Configuration"]["Version"], "$LATEST")
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.get_function, FunctionName="life-names:1", Qualifier="2")
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.get_function, FunctionName="life-names", Qualifier="7")

    def test_update_code_and_configuration_with_waiters(self):
        self.create("life-upd")
        self.client.get_waiter("function_active_v2").wait(FunctionName="life-upd")
        code2 = make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
        before = self.client.get_function(FunctionName="life-upd")["Configuration"]
        upd = self.client.update_function_code(FunctionName="life-upd", ZipFile=code2)
        self.assertEqual(upd["CodeSha256"], sha256_b64(code2))
        self.assertNotEqual(upd["RevisionId"], before["RevisionId"])
        self.client.get_waiter("function_updated_v2").wait(FunctionName="life-upd")
        got = self.client.get_function(FunctionName="life-upd")
        self.assertEqual(download(got["Code"]["Location"]), code2)

        layer_zip = make_zip({"python/shared.py": "X = 1\n"})
        layer = self.client.publish_layer_version(LayerName="life-shared",
                                                  Content={"ZipFile": layer_zip})
        layers = [layer["LayerVersionArn"]]
        self.server.iam_client().create_role(RoleName=ROLE_NAME + "2",
                                             AssumeRolePolicyDocument=LAMBDA_TRUST)
        cfg = self.client.update_function_configuration(
            FunctionName="life-upd", MemorySize=1769, Timeout=900, Description="d2",
            Handler="app.other", Runtime="nodejs20.x", Role=ROLE + "2",
            Environment={"Variables": {"A_B": "1", "CC": "x" * 10}}, EphemeralStorage={"Size": 2048},
            Layers=layers, TracingConfig={"Mode": "Active"})
        self.client.get_waiter("function_updated_v2").wait(FunctionName="life-upd")
        got = self.client.get_function_configuration(FunctionName="life-upd")
        self.assertEqual(got["RevisionId"], cfg["RevisionId"])
        self.assertEqual((got["MemorySize"], got["Timeout"], got["Description"]), (1769, 900, "d2"))
        self.assertEqual((got["Handler"], got["Runtime"], got["Role"]),
                         ("app.other", "nodejs20.x", ROLE + "2"))
        self.assertEqual(got["Environment"]["Variables"], {"A_B": "1", "CC": "x" * 10})
        self.assertEqual(got["EphemeralStorage"], {"Size": 2048})
        self.assertEqual([l["Arn"] for l in got["Layers"]], layers)
        self.assertEqual(got["Layers"][0]["CodeSize"], len(layer_zip))
        self.assertEqual(got["TracingConfig"], {"Mode": "Active"})
        self.assertEqual(got["CodeSha256"], sha256_b64(code2))
        # Environment replaces the whole map.
        self.client.update_function_configuration(FunctionName="life-upd",
                                                  Environment={"Variables": {"ONLY": "one"}})
        got = self.client.get_function_configuration(FunctionName="life-upd")
        self.assertEqual(got["Environment"]["Variables"], {"ONLY": "one"})

    def test_stale_revision_is_precondition_failed_and_changes_nothing(self):
        created = self.create("life-rev")
        self.client.update_function_configuration(FunctionName="life-rev", Description="moved on")
        self.assertAwsError("PreconditionFailedException", 412,
                            self.client.update_function_configuration, FunctionName="life-rev",
                            MemorySize=512, RevisionId=created["RevisionId"])
        self.assertAwsError("PreconditionFailedException", 412,
                            self.client.update_function_code, FunctionName="life-rev",
                            ZipFile=make_zip({"x.py": "1"}), RevisionId=created["RevisionId"])
        got = self.client.get_function_configuration(FunctionName="life-rev")
        self.assertEqual(got["MemorySize"], 128)
        self.assertEqual(got["CodeSha256"], created["CodeSha256"])
        current = got["RevisionId"]
        ok = self.client.update_function_configuration(FunctionName="life-rev", MemorySize=512,
                                                       RevisionId=current)
        self.assertEqual(ok["MemorySize"], 512)

    def test_publish_on_create_and_update(self):
        created = self.create("life-pub", Publish=True)
        self.assertEqual(created["Version"], "1")
        self.assertEqual(created["FunctionArn"], ARN_PREFIX + "life-pub:1")
        v2 = self.client.update_function_code(FunctionName="life-pub",
                                              ZipFile=make_zip({"app.py": "# v2\n"}), Publish=True)
        self.assertEqual(v2["Version"], "2")
        one = self.client.get_function(FunctionName="life-pub", Qualifier="1")
        self.assertEqual(one["Configuration"]["CodeSha256"], created["CodeSha256"])
        self.assertEqual(download(one["Code"]["Location"]),
                         download(self.client.get_function(FunctionName="life-pub:1")["Code"]["Location"]))
        self.client.delete_function(FunctionName="life-pub", Qualifier="1")
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.get_function, FunctionName="life-pub", Qualifier="1")
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.delete_function, FunctionName="life-pub",
                            Qualifier="$LATEST")

    def test_delete(self):
        self.create("life-del")
        self.client.delete_function(FunctionName="life-del")
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.get_function, FunctionName="life-del")
        self.assertAwsError("ResourceNotFoundException", 404,
                            self.client.delete_function, FunctionName="life-del")
        # The name is free again.
        self.create("life-del")

    def test_account_settings(self):
        before = self.client.get_account_settings()
        self.create("life-acct", make_zip({"a.py": "x" * 1000}))
        after = self.client.get_account_settings()
        self.assertEqual(after["AccountUsage"]["FunctionCount"],
                         before["AccountUsage"]["FunctionCount"] + 1)
        self.assertGreater(after["AccountUsage"]["TotalCodeSize"],
                           before["AccountUsage"]["TotalCodeSize"])
        self.assertEqual(after["AccountLimit"]["CodeSizeUnzipped"], 262144000)
        self.assertEqual(after["AccountLimit"]["CodeSizeZipped"], 52428800)
        # 1000 by default, but never more than the node's memory budget holds (128 MB each).
        limit = after["AccountLimit"]["ConcurrentExecutions"]
        self.assertTrue(100 <= limit <= 1000, limit)
        self.assertEqual(after["AccountLimit"]["UnreservedConcurrentExecutions"], limit)


class Listing(ServerTestCase):
    def test_pages_of_fifty_without_repeats_or_gaps(self):
        names = ["list-%03d" % i for i in range(123)]
        code = make_zip({"app.py": "pass\n"})
        for n in names:
            self.create(n, code)
        pages = list(self.client.get_paginator("list_functions").paginate())
        self.assertEqual([len(p["Functions"]) for p in pages], [50, 50, 23])
        seen = [f["FunctionName"] for p in pages for f in p["Functions"]]
        self.assertEqual(seen, names)
        # Explicit small pages with Marker.
        seen, marker = [], None
        while True:
            kw = {"MaxItems": 7}
            if marker:
                kw["Marker"] = marker
            page = self.client.list_functions(**kw)
            self.assertLessEqual(len(page["Functions"]), 7)
            seen += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(seen, names)
        # MaxItems above 50 still returns pages of at most 50.
        self.assertEqual(len(self.client.list_functions(MaxItems=1000)["Functions"]), 50)


class ListingVersions(ServerTestCase):
    def test_all_versions(self):
        self.create("zz-versions", Publish=True)
        self.client.update_function_code(FunctionName="zz-versions",
                                         ZipFile=make_zip({"b.py": "2"}), Publish=True)
        seen = []
        for page in self.client.get_paginator("list_functions").paginate(
                FunctionVersion="ALL", PaginationConfig={"PageSize": 3}):
            seen += [(f["FunctionName"], f["Version"]) for f in page["Functions"]]
        mine = [s for s in seen if s[0] == "zz-versions"]
        self.assertEqual(mine, [("zz-versions", "$LATEST"), ("zz-versions", "1"),
                                ("zz-versions", "2")])
        self.assertEqual(len(seen), len(set(seen)))


class TagsAndPolicy(ServerTestCase):
    def test_tags_round_trip(self):
        arn = self.create("tags-1", Tags={"a": "1"})["FunctionArn"]
        self.client.tag_resource(Resource=arn, Tags={"b": "2", "c": "3"})
        self.assertEqual(self.client.list_tags(Resource=arn)["Tags"], {"a": "1", "b": "2", "c": "3"})
        self.client.untag_resource(Resource=arn, TagKeys=["a", "c"])
        self.assertEqual(self.client.list_tags(Resource=arn)["Tags"], {"b": "2"})
        self.assertEqual(self.client.get_function(FunctionName="tags-1")["Tags"], {"b": "2"})
        self.assertAwsError("ResourceNotFoundException", 404, self.client.list_tags,
                            Resource=ARN_PREFIX + "tags-missing")
        self.assertAwsError("InvalidParameterValueException", 400, self.client.tag_resource,
                            Resource=arn, Tags={"aws:reserved": "x"})
        too_many = {"k%d" % i: "v" for i in range(50)}
        self.assertAwsError("InvalidParameterValueException", 400, self.client.tag_resource,
                            Resource=arn, Tags=too_many)
        self.assertEqual(self.client.list_tags(Resource=arn)["Tags"], {"b": "2"})

    def test_policy_round_trip(self):
        arn = self.create("policy-1")["FunctionArn"]
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_policy,
                            FunctionName="policy-1")
        added = self.client.add_permission(
            FunctionName="policy-1", StatementId="s3-invoke", Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket",
            SourceAccount="123456789012")
        self.assertEqual(added["ResponseMetadata"]["HTTPStatusCode"], 201)
        statement = json.loads(added["Statement"])
        self.assertEqual(statement, {
            "Sid": "s3-invoke", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": arn,
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"},
                          "StringEquals": {"AWS:SourceAccount": "123456789012"}}})
        self.client.add_permission(FunctionName="policy-1", StatementId="acct",
                                   Action="lambda:GetFunction", Principal="123456789012")
        got = self.client.get_policy(FunctionName="policy-1")
        policy = json.loads(got["Policy"])
        self.assertEqual(policy["Version"], "2012-10-17")
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["s3-invoke", "acct"])
        self.assertEqual(policy["Statement"][1]["Principal"],
                         {"AWS": "arn:aws:iam::123456789012:root"})
        self.assertEqual(got["RevisionId"],
                         self.client.get_function_configuration(FunctionName="policy-1")["RevisionId"])
        self.assertAwsError("ResourceConflictException", 409, self.client.add_permission,
                            FunctionName="policy-1", StatementId="acct", Action="lambda:*",
                            Principal="*")
        self.assertAwsError("PreconditionFailedException", 412, self.client.add_permission,
                            FunctionName="policy-1", StatementId="new", Action="lambda:*",
                            Principal="*", RevisionId="00000000-0000-4000-8000-000000000000")
        self.client.remove_permission(FunctionName="policy-1", StatementId="s3-invoke")
        policy = json.loads(self.client.get_policy(FunctionName="policy-1")["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["acct"])
        self.assertAwsError("ResourceNotFoundException", 404, self.client.remove_permission,
                            FunctionName="policy-1", StatementId="s3-invoke")
        self.client.remove_permission(FunctionName="policy-1", StatementId="acct")
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_policy,
                            FunctionName="policy-1")


class Errors(ServerTestCase):
    def test_not_found_everywhere(self):
        c = self.client
        for fn, kw in [(c.get_function, {}), (c.get_function_configuration, {}),
                       (c.delete_function, {}), (c.get_policy, {}),
                       (c.update_function_configuration, {"MemorySize": 256}),
                       (c.update_function_code, {"ZipFile": make_zip({"a": "b"})})]:
            err = self.assertAwsError("ResourceNotFoundException", 404, fn,
                                      FunctionName="missing-fn", **kw)
            # AWS names the ARN (the read-modify-write path tells a missing function from a
            # missing version by whether the function was found, not by message text).
            self.assertEqual(err["Error"]["Message"], "Function not found: " + ARN_PREFIX + "missing-fn")

    def test_duplicate_create_is_conflict(self):
        self.create("err-dup")
        err = self.assertAwsError("ResourceConflictException", 409, self.create, "err-dup")
        self.assertIn("already exist", err["Error"]["Message"])

    def test_validation_failures(self):
        raw = self.server.lambda_client(validate=False)
        cases = [
            ("ValidationException", dict(MemorySize=64)),
            ("ValidationException", dict(MemorySize=10241)),
            ("ValidationException", dict(Timeout=0)),
            ("ValidationException", dict(Timeout=901)),
            ("ValidationException", dict(EphemeralStorage={"Size": 100})),
            ("ValidationException", dict(EphemeralStorage={"Size": 10241})),
            ("ValidationException", dict(Handler="a b")),
            ("ValidationException", dict(Role="not-a-role")),
            ("ValidationException", dict(Runtime="cobol85")),
            ("InvalidParameterValueException", dict(Runtime="python2.7")),
            ("InvalidParameterValueException", dict(Environment={"Variables": {"AWS_REGION": "x"}})),
            ("InvalidParameterValueException", dict(Environment={"Variables": {"BIG": "v" * 4100}})),
            ("InvalidParameterValueException", dict(Layers=["arn:aws:lambda:us-east-1:123456789012:layer:l:%d" % i for i in range(1, 7)])),
            ("ValidationException", dict(Layers=["not-a-layer-arn"])),
        ]
        for i, (code, kw) in enumerate(cases):
            with self.subTest(kw=kw):
                self.assertAwsError(code, 400, self.create, "err-val-%d" % i, client=raw, **kw)
        for bad_name in ("has space", "x" * 65, "a:b:c:d:e"):
            with self.subTest(name=bad_name):
                self.assertAwsError("ValidationException", 400, self.create, bad_name, client=raw)
        names = [f["FunctionName"] for f in self.client.list_functions()["Functions"]]
        self.assertFalse([n for n in names if n.startswith("err-val")])

    def test_oversize_create_is_413(self):
        import os
        big = os.urandom(52 * 1024 * 1024 + 100)  # base64 inflates it past 69,905,067 bytes
        err = self.assertAwsError("RequestEntityTooLargeException", 413, self.create, "err-big",
                                  big)
        self.assertIn("69905067", err["Error"]["Message"])
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_function,
                            FunctionName="err-big")


if __name__ == "__main__":
    unittest.main()

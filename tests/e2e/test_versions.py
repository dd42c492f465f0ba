"""Versions and aliases through boto3 and the aws CLI v2: publishing, immutability, qualifiers in
every form, weighted alias routing observed through X-Amz-Executed-Version, and the delete rules."""

import collections
import json
import os
import tempfile
import unittest

from harness import ACCOUNT, REGION, ROLE, ServerTestCase, make_zip, sandbox_supported


def app(tag):
    return make_zip({"app.py": "def handler(event, context):\n"
                               "    return {'tag': %r, 'version': context.function_version,\n"
                               "            'arn': context.invoked_function_arn}\n" % tag})


def arn(name, qualifier=None):
    base = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return base + ":" + qualifier if qualifier else base


class Versions(ServerTestCase):
    def invoke(self, name, qualifier=None):
        kw = {"Qualifier": qualifier} if qualifier else {}
        r = self.client.invoke(FunctionName=name, Payload=b"{}", **kw)
        self.assertNotIn("FunctionError", r, r)
        return r["ExecutedVersion"], json.loads(r["Payload"].read())

    def test_publish_is_idempotent_and_checks_preconditions(self):
        self.create("ver-pub", code=app("one"))
        v1 = self.client.publish_version(FunctionName="ver-pub", Description="first")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], arn("ver-pub", "1"))
        self.assertEqual(v1["Description"], "first")
        # Nothing changed: the same version comes back.
        again = self.client.publish_version(FunctionName="ver-pub")
        self.assertEqual(again["Version"], "1")
        self.assertEqual(again["RevisionId"], v1["RevisionId"])
        self.assertAwsError("InvalidParameterValueException", 400, self.client.publish_version,
                            FunctionName="ver-pub", CodeSha256="bm90IHRoZSBoYXNo")
        self.assertAwsError("PreconditionFailedException", 412, self.client.publish_version,
                            FunctionName="ver-pub", RevisionId="00000000-0000-0000-0000-000000000000")
        latest = self.client.get_function_configuration(FunctionName="ver-pub")
        v = self.client.publish_version(FunctionName="ver-pub", CodeSha256=latest["CodeSha256"],
                                        RevisionId=latest["RevisionId"])
        self.assertEqual(v["Version"], "1")
        self.client.update_function_configuration(FunctionName="ver-pub", Timeout=7)
        self.client.get_waiter("function_updated_v2").wait(FunctionName="ver-pub")
        self.assertEqual(self.client.publish_version(FunctionName="ver-pub")["Version"], "2")
        self.assertAwsError("ResourceNotFoundException", 404, self.client.publish_version,
                            FunctionName="ver-nonesuch")

    def test_list_versions_includes_latest_and_pages(self):
        self.create("ver-list", code=app("a"), Publish=True)
        for i in range(4):
            self.client.update_function_configuration(FunctionName="ver-list", Timeout=10 + i)
            self.client.publish_version(FunctionName="ver-list")
        seen = []
        for page in self.client.get_paginator("list_versions_by_function").paginate(
                FunctionName="ver-list", PaginationConfig={"PageSize": 2}):
            seen += [(v["Version"], v["FunctionArn"]) for v in page["Versions"]]
        self.assertEqual([s[0] for s in seen], ["$LATEST", "1", "2", "3", "4", "5"])
        self.assertEqual(seen[0][1], arn("ver-list", "$LATEST"))
        self.assertEqual(seen[3][1], arn("ver-list", "3"))
        timeouts = {v["Version"]: v["Timeout"] for v in
                    self.client.list_versions_by_function(FunctionName="ver-list")["Versions"]}
        self.assertEqual(timeouts["1"], 3)
        self.assertEqual(timeouts["5"], 13)

    def test_alias_crud_and_rules(self):
        self.create("ver-alias", code=app("a"), Publish=True)
        self.client.update_function_configuration(FunctionName="ver-alias", Timeout=9)
        self.client.publish_version(FunctionName="ver-alias")
        a = self.client.create_alias(FunctionName="ver-alias", Name="live", FunctionVersion="1",
                                     Description="production")
        self.assertEqual(a["AliasArn"], arn("ver-alias", "live"))
        self.assertEqual(a["FunctionVersion"], "1")
        got = self.client.get_alias(FunctionName="ver-alias", Name="live")
        self.assertEqual(got["RevisionId"], a["RevisionId"])
        self.assertAwsError("ResourceConflictException", 409, self.client.create_alias,
                            FunctionName="ver-alias", Name="live", FunctionVersion="2")
        self.assertAwsError("ValidationException", 400, self.client.create_alias,
                            FunctionName="ver-alias", Name="123", FunctionVersion="1")
        self.assertAwsError("ResourceNotFoundException", 404, self.client.create_alias,
                            FunctionName="ver-alias", Name="nope", FunctionVersion="9")
        self.assertAwsError("InvalidParameterValueException", 400, self.client.create_alias,
                            FunctionName="ver-alias", Name="split", FunctionVersion="$LATEST",
                            RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
        self.assertAwsError("ValidationException", 400, self.client.create_alias,
                            FunctionName="ver-alias", Name="split", FunctionVersion="2",
                            RoutingConfig={"AdditionalVersionWeights": {"1": 1.5}})
        self.assertAwsError("InvalidParameterValueException", 400, self.client.create_alias,
                            FunctionName="ver-alias", Name="split", FunctionVersion="2",
                            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_alias,
                            FunctionName="ver-alias", Name="absent")
        # Updates: stale revision refused; routing kept unless replaced; {} clears it.
        self.assertAwsError("PreconditionFailedException", 412, self.client.update_alias,
                            FunctionName="ver-alias", Name="live", FunctionVersion="2",
                            RevisionId="00000000-0000-0000-0000-000000000000")
        u = self.client.update_alias(FunctionName="ver-alias", Name="live", FunctionVersion="2",
                                     RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}},
                                     RevisionId=a["RevisionId"])
        self.assertEqual(u["RoutingConfig"], {"AdditionalVersionWeights": {"1": 0.25}})
        u = self.client.update_alias(FunctionName="ver-alias", Name="live", Description="x")
        self.assertEqual(u["RoutingConfig"], {"AdditionalVersionWeights": {"1": 0.25}})
        self.client.create_alias(FunctionName="ver-alias", Name="beta", FunctionVersion="1")
        names = [x["Name"] for x in self.client.list_aliases(FunctionName="ver-alias")["Aliases"]]
        self.assertEqual(names, ["beta", "live"])
        only2 = self.client.list_aliases(FunctionName="ver-alias", FunctionVersion="2")["Aliases"]
        self.assertEqual([x["Name"] for x in only2], ["live"])
        # A version an alias points at (directly or by weight) cannot be deleted.
        err = self.assertAwsError("ResourceConflictException", 409, self.client.delete_function,
                                  FunctionName="ver-alias", Qualifier="1")
        self.assertIn("beta", err["Error"]["Message"])
        self.assertAwsError("ResourceConflictException", 409, self.client.delete_function,
                            FunctionName="ver-alias", Qualifier="2")
        self.assertAwsError("InvalidParameterValueException", 400, self.client.delete_function,
                            FunctionName="ver-alias", Qualifier="$LATEST")
        u = self.client.update_alias(FunctionName="ver-alias", Name="live", FunctionVersion="2",
                                     RoutingConfig={"AdditionalVersionWeights": {}})
        self.assertNotIn("RoutingConfig", u)
        self.client.delete_alias(FunctionName="ver-alias", Name="beta")
        self.client.delete_function(FunctionName="ver-alias", Qualifier="1")
        versions = [v["Version"] for v in
                    self.client.list_versions_by_function(FunctionName="ver-alias")["Versions"]]
        self.assertEqual(versions, ["$LATEST", "2"])
        # Deleting the function removes its aliases with it.
        self.client.delete_function(FunctionName="ver-alias")
        self.create("ver-alias", code=app("b"))
        self.assertEqual(self.client.list_aliases(FunctionName="ver-alias")["Aliases"], [])

    def test_aliases_and_layers_page_by_marker(self):
        """ListAliases and ListLayers: MaxItems per page, NextMarker until the last, in name order;
        ?FunctionVersion filters before paging."""
        self.create("ver-page", code=app("a"), Publish=True)
        self.client.publish_version(FunctionName="ver-page")
        self.client.update_function_code(FunctionName="ver-page", ZipFile=app("b"))
        self.client.publish_version(FunctionName="ver-page")
        names = ["p%d" % i for i in range(5)]
        for i, n in enumerate(names):
            self.client.create_alias(FunctionName="ver-page", Name=n, FunctionVersion=str(1 + i % 2))

        def walk(call, member, key, **kw):
            seen, marker, pages = [], None, 0
            while True:
                args = dict(kw, MaxItems=2)
                if marker:
                    args["Marker"] = marker
                page = call(**args)
                pages += 1
                self.assertLessEqual(len(page[member]), 2)
                seen += [x[key] for x in page[member]]
                marker = page.get("NextMarker")
                if not marker:
                    return seen, pages
        seen, pages = walk(self.client.list_aliases, "Aliases", "Name", FunctionName="ver-page")
        self.assertEqual((seen, pages), (names, 3))
        seen, _ = walk(self.client.list_aliases, "Aliases", "Name", FunctionName="ver-page",
                       FunctionVersion="2")
        self.assertEqual(seen, ["p1", "p3"])
        for n in ("lay-page-a", "lay-page-b", "lay-page-c"):
            self.client.publish_layer_version(LayerName=n, Content={"ZipFile": app("x")})
        seen, pages = walk(self.client.list_layers, "Layers", "LayerName")
        self.assertEqual([n for n in seen if n.startswith("lay-page-")],
                         ["lay-page-a", "lay-page-b", "lay-page-c"])
        self.assertEqual(seen, sorted(seen))

    def test_qualified_reads(self):
        self.create("ver-read", code=app("a"), Publish=True)
        self.client.create_alias(FunctionName="ver-read", Name="prod", FunctionVersion="1")
        self.client.update_function_configuration(FunctionName="ver-read", MemorySize=256)
        by_alias = self.client.get_function(FunctionName="ver-read", Qualifier="prod")
        self.assertEqual(by_alias["Configuration"]["Version"], "1")
        self.assertEqual(by_alias["Configuration"]["MemorySize"], 128)
        self.assertEqual(by_alias["Configuration"]["FunctionArn"], arn("ver-read", "prod"))
        by_arn = self.client.get_function_configuration(FunctionName=arn("ver-read", "1"))
        self.assertEqual(by_arn["MemorySize"], 128)
        by_name = self.client.get_function_configuration(FunctionName="ver-read:prod")
        self.assertEqual(by_name["Version"], "1")
        self.assertEqual(self.client.get_function_configuration(FunctionName="ver-read")["MemorySize"], 256)
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_function,
                            FunctionName="ver-read", Qualifier="7")


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class Deployment(ServerTestCase):
    """The acceptance scenario: publish, alias, shift traffic by weight, old versions keep running."""

    def executed(self, name, qualifier=None, n=1):
        kw = {"Qualifier": qualifier} if qualifier else {}
        out = []
        for _ in range(n):
            r = self.client.invoke(FunctionName=name, Payload=b"{}", **kw)
            self.assertNotIn("FunctionError", r)
            body = json.loads(r["Payload"].read())
            self.assertEqual(body["version"], r["ExecutedVersion"])
            out.append((r["ExecutedVersion"], body["tag"], body["arn"]))
        return out

    def test_publish_alias_shift_and_immutability(self):
        name = "ver-deploy"
        self.create(name, code=app("one"))
        _, v1, _ = self.server.aws("lambda", "publish-version", "--function-name", name)
        self.assertEqual(v1["Version"], "1")
        with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as f:
            f.write(app("two"))
        try:
            self.server.aws("lambda", "update-function-code", "--function-name", name,
                            "--zip-file", "fileb://" + f.name)
        finally:
            os.unlink(f.name)
        self.server.aws("lambda", "wait", "function-updated-v2", "--function-name", name)
        self.assertEqual(self.client.publish_version(FunctionName=name)["Version"], "2")
        _, alias, _ = self.server.aws("lambda", "create-alias", "--function-name", name,
                                      "--name", "live", "--function-version", "1")
        self.assertEqual(alias["AliasArn"], arn(name, "live"))

        # The alias runs version 1's code; the invoked ARN is the alias's.
        [(ver, tag, invoked)] = self.executed(name, "live")
        self.assertEqual((ver, tag, invoked), ("1", "one", arn(name, "live")))
        [(ver, tag, _)] = self.executed(arn(name, "live"))
        self.assertEqual((ver, tag), ("1", "one"))
        self.assertEqual(self.executed(name)[0][:2], ("$LATEST", "two"))
        self.assertEqual(self.executed(name, "2")[0][:2], ("2", "two"))
        self.assertEqual(self.executed(name + ":1")[0][:2], ("1", "one"))

        # Shift: live -> 2 with 10 % on 1, observed through X-Amz-Executed-Version.
        self.server.aws("lambda", "update-alias", "--function-name", name, "--name", "live",
                        "--function-version", "2", "--routing-config",
                        json.dumps({"AdditionalVersionWeights": {"1": 0.1}}))
        counts = collections.Counter(
            (ver, tag) for ver, tag, _ in self.executed(name, "live", n=1000))
        self.assertEqual(set(counts), {("1", "one"), ("2", "two")}, counts)
        # Binomial(1000, 0.1): mean 100, sd 9.5; 5 sd either side.
        self.assertTrue(52 <= counts[("1", "one")] <= 148, counts)

        # $LATEST moves on; the published versions do not.
        self.client.update_function_code(FunctionName=name, ZipFile=app("three"))
        self.client.get_waiter("function_updated_v2").wait(FunctionName=name)
        with tempfile.TemporaryDirectory() as d:
            out_file = os.path.join(d, "out.json")
            _, meta, _ = self.server.aws("lambda", "invoke", "--function-name", name,
                                         "--qualifier", "1", out_file)
            self.assertEqual(meta["ExecutedVersion"], "1")
            with open(out_file) as f:
                self.assertEqual(json.load(f)["tag"], "one")
        self.assertEqual(self.executed(name)[0][:2], ("$LATEST", "three"))
        self.assertEqual(self.executed(name, "1")[0][:2], ("1", "one"))
        self.assertEqual(self.executed(name, "2")[0][:2], ("2", "two"))
        conf = self.client.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual(conf["CodeSha256"], v1["CodeSha256"])

        # Delete rules through the CLI: version 2 is live's primary, version 1 its weighted one.
        rc, _, err = self.server.aws("lambda", "delete-function", "--function-name", name,
                                     "--qualifier", "2", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("ResourceConflictException", err)
        _, listed, _ = self.server.aws("lambda", "list-aliases", "--function-name", name)
        self.assertEqual(listed["Aliases"][0]["RoutingConfig"]["AdditionalVersionWeights"], {"1": 0.1})
        self.server.aws("lambda", "delete-alias", "--function-name", name, "--name", "live")
        self.server.aws("lambda", "delete-function", "--function-name", name, "--qualifier", "1")
        self.assertAwsError("ResourceNotFoundException", 404, self.client.invoke,
                            FunctionName=name, Qualifier="1", Payload=b"{}")
        self.assertAwsError("ResourceNotFoundException", 404, self.client.invoke,
                            FunctionName=name, Qualifier="live", Payload=b"{}")


if __name__ == "__main__":
    unittest.main()

"""Layers through boto3 and the aws CLI v2: the layer API and permissions, and layers at run time
(/opt in order, python and node finding their libraries, PATH), limits, and deleted versions that
keep working for the functions that use them."""

import json
import os
import tempfile
import unittest

from harness import ACCOUNT, REGION, ServerTestCase, make_zip, sandbox_supported


def layer_arn(name, version=None):
    base = "arn:aws:lambda:%s:%s:layer:%s" % (REGION, ACCOUNT, name)
    return "%s:%d" % (base, version) if version else base


PY_APP = r'''
import os, subprocess
def handler(event, context):
    import mylib, shared
    try:
        import sitelib
        site = sitelib.NAME
    except ImportError:
        site = None
    return {"lib": mylib.NAME, "shared": shared.WHO, "site": site,
            "opt_ro": not os.access("/opt", os.W_OK),
            "hello": subprocess.run(["hello"], capture_output=True, text=True).stdout.strip(),
            "path": os.environ["PATH"], "ld": os.environ["LD_LIBRARY_PATH"]}
'''

NODE_APP = r'''
const lib = require("nodelib");
exports.handler = async () => ({ lib: lib.NAME });
'''


class LayerApi(ServerTestCase):
    def test_publish_get_list_delete(self):
        z1 = make_zip({"python/a.py": "A = 1\n"})
        v1 = self.client.publish_layer_version(
            LayerName="lay-api", Description="first", Content={"ZipFile": z1},
            CompatibleRuntimes=["python3.11"], CompatibleArchitectures=["x86_64"],
            LicenseInfo="MIT")
        self.assertEqual(v1["Version"], 1)
        self.assertEqual(v1["LayerArn"], layer_arn("lay-api"))
        self.assertEqual(v1["LayerVersionArn"], layer_arn("lay-api", 1))
        self.assertEqual(v1["Content"]["CodeSize"], len(z1))
        self.assertEqual(v1["CompatibleRuntimes"], ["python3.11"])
        self.assertEqual(v1["LicenseInfo"], "MIT")
        v2 = self.client.publish_layer_version(LayerName="lay-api", Content={"ZipFile": z1},
                                               CompatibleRuntimes=["nodejs20.x"])
        self.assertEqual(v2["Version"], 2)
        got = self.client.get_layer_version(LayerName="lay-api", VersionNumber=1)
        self.assertEqual(got["Description"], "first")
        self.assertTrue(got["Content"]["Location"].startswith("http://"))
        by_arn = self.client.get_layer_version_by_arn(Arn=layer_arn("lay-api", 2))
        self.assertEqual(by_arn["Version"], 2)
        versions = self.client.list_layer_versions(LayerName="lay-api")["LayerVersions"]
        self.assertEqual([v["Version"] for v in versions], [2, 1])  # newest first
        py = self.client.list_layer_versions(LayerName="lay-api", CompatibleRuntime="python3.11")
        self.assertEqual([v["Version"] for v in py["LayerVersions"]], [1])
        layers = {l["LayerName"]: l for l in self.client.list_layers()["Layers"]}
        self.assertEqual(layers["lay-api"]["LatestMatchingVersion"]["Version"], 2)
        py = {l["LayerName"]: l for l in self.client.list_layers(CompatibleRuntime="python3.11")["Layers"]}
        self.assertEqual(py["lay-api"]["LatestMatchingVersion"]["Version"], 1)

        self.client.delete_layer_version(LayerName="lay-api", VersionNumber=2)
        self.client.delete_layer_version(LayerName="lay-api", VersionNumber=2)  # idempotent
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_layer_version,
                            LayerName="lay-api", VersionNumber=2)
        # Version numbers are never reused.
        v3 = self.client.publish_layer_version(LayerName="lay-api", Content={"ZipFile": z1})
        self.assertEqual(v3["Version"], 3)
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_layer_version,
                            LayerName="lay-none", VersionNumber=1)
        self.assertAwsError("ValidationException", 400, self.client.publish_layer_version,
                            LayerName="bad name!", Content={"ZipFile": z1})
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.publish_layer_version, LayerName="lay-bad",
                            Content={"ZipFile": b"not a zip"})

    def test_permissions(self):
        self.client.publish_layer_version(LayerName="lay-perm",
                                          Content={"ZipFile": make_zip({"x": "1"})})
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_layer_version_policy,
                            LayerName="lay-perm", VersionNumber=1)
        r = self.client.add_layer_version_permission(
            LayerName="lay-perm", VersionNumber=1, StatementId="everyone",
            Action="lambda:GetLayerVersion", Principal="*")
        st = json.loads(r["Statement"])
        self.assertEqual(st["Resource"], layer_arn("lay-perm", 1))
        self.assertEqual(st["Principal"], "*")
        self.assertAwsError("ResourceConflictException", 409,
                            self.client.add_layer_version_permission, LayerName="lay-perm",
                            VersionNumber=1, StatementId="everyone",
                            Action="lambda:GetLayerVersion", Principal="*")
        self.client.add_layer_version_permission(
            LayerName="lay-perm", VersionNumber=1, StatementId="acct",
            Action="lambda:GetLayerVersion", Principal="111122223333")
        policy = self.client.get_layer_version_policy(LayerName="lay-perm", VersionNumber=1)
        doc = json.loads(policy["Policy"])
        self.assertEqual([s["Sid"] for s in doc["Statement"]], ["everyone", "acct"])
        self.assertEqual(doc["Statement"][1]["Principal"], {"AWS": "arn:aws:iam::111122223333:root"})
        self.assertAwsError("PreconditionFailedException", 412,
                            self.client.remove_layer_version_permission, LayerName="lay-perm",
                            VersionNumber=1, StatementId="acct", RevisionId="stale")
        self.client.remove_layer_version_permission(LayerName="lay-perm", VersionNumber=1,
                                                    StatementId="acct",
                                                    RevisionId=policy["RevisionId"])
        err = self.assertAwsError("ResourceNotFoundException", 404,
                                  self.client.remove_layer_version_permission,
                                  LayerName="lay-perm", VersionNumber=1, StatementId="acct")
        self.assertEqual(err["Error"]["Message"], "Statement acct is not found in resource policy.")
        err = self.assertAwsError("ResourceNotFoundException", 404,
                                  self.client.remove_layer_version_permission,
                                  LayerName="lay-missing", VersionNumber=1, StatementId="acct")
        self.assertEqual(err["Error"]["Message"], "The resource you requested does not exist.")
        self.assertAwsError("ValidationException", 400, self.client.add_layer_version_permission,
                            LayerName="lay-perm", VersionNumber=1, StatementId="x",
                            Action="lambda:InvokeFunction", Principal="*")

    def test_cli(self):
        with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as f:
            f.write(make_zip({"nodejs/node_modules/x/index.js": "module.exports = 1;\n"}))
        try:
            _, out, _ = self.server.aws("lambda", "publish-layer-version", "--layer-name", "lay-cli",
                                        "--zip-file", "fileb://" + f.name,
                                        "--compatible-runtimes", "nodejs20.x")
        finally:
            os.unlink(f.name)
        self.assertEqual(out["LayerVersionArn"], layer_arn("lay-cli", 1))
        _, listed, _ = self.server.aws("lambda", "list-layers")
        self.assertIn("lay-cli", [l["LayerName"] for l in listed["Layers"]])
        _, versions, _ = self.server.aws("lambda", "list-layer-versions", "--layer-name", "lay-cli")
        self.assertEqual(versions["LayerVersions"][0]["Version"], 1)

    def test_function_layer_rules(self):
        arns = [self.client.publish_layer_version(
            LayerName="lay-many-%d" % i, Content={"ZipFile": make_zip({"f%d" % i: "x"})})
            ["LayerVersionArn"] for i in range(6)]
        self.assertAwsError("InvalidParameterValueException", 400, self.create, "lay-six",
                            Layers=arns)
        self.assertAwsError("ResourceNotFoundException", 404, self.create, "lay-missing",
                            Layers=[layer_arn("lay-nonesuch", 1)])
        self.create("lay-five", Layers=arns[:5])
        got = self.client.get_function_configuration(FunctionName="lay-five")
        self.assertEqual([l["Arn"] for l in got["Layers"]], arns[:5])
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.update_function_configuration, FunctionName="lay-five",
                            Layers=arns)
        # Unzipped code plus layers over 250 MB (each alone is within the limit).
        big = make_zip({"python/big.bin": b"\0" * (150 << 20)})
        big_arn = self.client.publish_layer_version(LayerName="lay-big",
                                                    Content={"ZipFile": big})["LayerVersionArn"]
        code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "data.bin": b"\0" * (120 << 20)})
        err = self.assertAwsError("InvalidParameterValueException", 400,
                                  lambda: self.create("lay-huge", code=code, Layers=[big_arn]))
        self.assertIn("262144000", err["Error"]["Message"])
        self.create("lay-huge", code=code)
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.update_function_configuration, FunctionName="lay-huge",
                            Layers=[big_arn])


@unittest.skipUnless(sandbox_supported(), "execution environments need root (CI runs as root)")
class LayersAtRunTime(ServerTestCase):
    def publish(self, name, files, executable=()):
        return self.client.publish_layer_version(
            LayerName=name, Content={"ZipFile": make_zip(files, executable)})["LayerVersionArn"]

    def invoke(self, name):
        r = self.client.invoke(FunctionName=name, Payload=b"{}")
        body = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, body)
        return body

    def test_python_and_node_find_their_layers_in_order(self):
        lib = self.publish("lay-rt-lib", {
            "python/mylib.py": "NAME = 'mylib from layer'\n",
            "python/shared.py": "WHO = 'lib'\n",
            "python/lib/python3.11/site-packages/sitelib.py": "NAME = 'site-packages'\n",
            "nodejs/node_modules/nodelib/index.js": "exports.NAME = 'nodelib from layer';\n",
            "bin/hello": "#!/bin/sh\necho hello from /opt/bin\n",
        }, executable={"bin/hello"})
        override = self.publish("lay-rt-override", {
            "python/shared.py": "WHO = 'override'\n",
        })
        self.create("lay-rt-py", code=make_zip({"app.py": PY_APP}), Layers=[lib, override])
        out = self.invoke("lay-rt-py")
        self.assertEqual(out["lib"], "mylib from layer")
        self.assertEqual(out["shared"], "override")  # the later layer's file wins
        self.assertEqual(out["site"], "site-packages")
        self.assertTrue(out["opt_ro"])
        self.assertEqual(out["hello"], "hello from /opt/bin")
        self.assertIn("/opt/bin", out["path"].split(":"))
        self.assertIn("/opt/lib", out["ld"].split(":"))
        # The other order: the library layer's shared.py wins now.
        self.client.update_function_configuration(FunctionName="lay-rt-py", Layers=[override, lib])
        self.client.get_waiter("function_updated_v2").wait(FunctionName="lay-rt-py")
        self.assertEqual(self.invoke("lay-rt-py")["shared"], "lib")
        # Without layers the import fails as a function error.
        self.client.update_function_configuration(FunctionName="lay-rt-py", Layers=[])
        self.client.get_waiter("function_updated_v2").wait(FunctionName="lay-rt-py")
        r = self.client.invoke(FunctionName="lay-rt-py", Payload=b"{}")
        self.assertEqual(r.get("FunctionError"), "Unhandled")
        self.assertIn("No module named 'mylib'", r["Payload"].read().decode())

        self.create("lay-rt-node", code=make_zip({"index.js": NODE_APP}), Runtime="nodejs20.x",
                    Handler="index.handler", Layers=[lib])
        self.assertEqual(self.invoke("lay-rt-node")["lib"], "nodelib from layer")

    def test_a_deleted_layer_version_keeps_working_for_its_functions(self):
        arn = self.publish("lay-rt-del", {"python/mylib.py": "NAME = 'kept'\n",
                                          "python/shared.py": "WHO = 'x'\n",
                                          "bin/hello": "#!/bin/sh\necho hi\n"},
                           executable={"bin/hello"})
        self.create("lay-rt-del-fn", code=make_zip({"app.py": PY_APP}), Layers=[arn])
        self.client.delete_layer_version(LayerName="lay-rt-del", VersionNumber=1)
        # First invocation after the delete: a cold start that still gets the layer.
        self.assertEqual(self.invoke("lay-rt-del-fn")["lib"], "kept")
        self.assertEqual(self.client.get_function_configuration(
            FunctionName="lay-rt-del-fn")["Layers"][0]["Arn"], arn)
        # A new function cannot take the deleted version.
        self.assertAwsError("ResourceNotFoundException", 404,
                            lambda: self.create("lay-rt-del-new", code=make_zip({"app.py": PY_APP}),
                                                Layers=[arn]))
        # And after a restart (the code store's garbage collection runs) it still works.
        self.server.restart()
        type(self).client = self.client = self.server.lambda_client()
        self.client.update_function_configuration(FunctionName="lay-rt-del-fn", MemorySize=256)
        self.client.get_waiter("function_updated_v2").wait(FunctionName="lay-rt-del-fn")
        self.assertEqual(self.invoke("lay-rt-del-fn")["lib"], "kept")


if __name__ == "__main__":
    unittest.main()

"""Identity and access end to end: SigV4 refusals per protocol, IAM users, roles and policies,
STS, resource policies, execution roles and the credentials inside functions, the root key and
the --auth open mode — through boto3, the aws CLI and raw signed requests."""

import base64
import http.client
import json
import os
import subprocess
import time
import unittest

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.exceptions import ClientError

from harness import (ACCOUNT, AWS_CLI, LAMBDA_TRUST, LAMBENT, REGION, ROLE, ROLE_NAME, ROOT_KEY_ID,
                     ROOT_SECRET, Server, ServerTestCase, make_zip, sandbox_supported)

ECHO = make_zip({"app.py": "def handler(event, context):\n    return event\n"})


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Signed:
    """Requests signed by botocore's own SigV4 signer, then optionally spoiled."""

    def __init__(self, server):
        self.server = server

    def request(self, method, path, body=b"", headers=None, service="lambda", key=ROOT_KEY_ID,
                secret=ROOT_SECRET, token=None, when=None, spoil=None):
        url = self.server.endpoint + path
        req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                             headers=dict(headers or {}))
        creds = botocore.credentials.Credentials(key, secret, token)
        signer = botocore.auth.SigV4Auth(creds, service, REGION)
        if when is not None:
            import datetime
            from unittest import mock

            class Fixed(datetime.datetime):
                @classmethod
                def utcnow(cls):
                    return datetime.datetime.utcfromtimestamp(when)
            with mock.patch("botocore.auth.datetime.datetime", Fixed):
                signer.add_auth(req)
        else:
            signer.add_auth(req)
        hdrs = dict(req.headers.items())
        if spoil:
            body, hdrs = spoil(body, hdrs)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        conn.close()
        return out


def flip_signature(body, headers):
    auth = headers["Authorization"]
    last = auth[-1]
    headers["Authorization"] = auth[:-1] + ("0" if last != "0" else "1")
    return body, headers


class Authentication(ServerTestCase):
    """Every way a signature can be wrong is refused with the service's own code, and changes
    nothing."""

    def setUp(self):
        self.signed = Signed(self.server)
        self.sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)

    def lambda_error(self, result):
        status, headers, body = result
        return status, headers.get("x-amzn-errortype"), json.loads(body).get("message", "")

    def create_body(self, name):
        return json.dumps({"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler",
                           "Role": ROLE, "Code": {"ZipFile": base64.b64encode(ECHO).decode()}}).encode()

    def assertNoFunction(self, name):
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_function,
                            FunctionName=name)

    def test_unsigned_requests_are_refused_in_each_protocol(self):
        status, hdrs, body = self.server.raw("POST", "/2015-03-31/functions", self.create_body("unsigned"),
                                             {"Content-Type": "application/json"}, sign=False)
        self.assertEqual((status, hdrs.get("x-amzn-errortype")), (403, "MissingAuthenticationTokenException"))
        self.assertEqual(json.loads(body)["message"], "Missing Authentication Token")
        self.assertNoFunction("unsigned")
        # Query protocol (SQS form): 403 MissingAuthenticationToken in an ErrorResponse.
        status, _, body = self.server.raw("POST", "/", b"Action=CreateQueue&QueueName=unsigned&Version=2012-11-05",
                                          {"Content-Type": "application/x-www-form-urlencoded"}, sign=False)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", body)
        self.assertNotIn("unsigned", " ".join(self.sqs.list_queues().get("QueueUrls", [])))
        # JSON 1.1 (Logs): 400 with __type.
        status, _, body = self.server.raw("POST", "/", b"{}", {
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
            sign=False)
        self.assertEqual((status, json.loads(body)["__type"]), (400, "MissingAuthenticationTokenException"))

    def test_tampered_signature_wrong_secret_and_changed_body_are_refused(self):
        path = "/2015-03-31/functions"
        hdrs = {"Content-Type": "application/json"}
        r = self.signed.request("POST", path, self.create_body("tampered"), hdrs, spoil=flip_signature)
        self.assertEqual(self.lambda_error(r)[:2], (403, "InvalidSignatureException"))
        self.assertIn("The request signature we calculated does not match", self.lambda_error(r)[2])
        r = self.signed.request("POST", path, self.create_body("wrong-secret"), hdrs, secret="x" * 40)
        self.assertEqual(self.lambda_error(r)[:2], (403, "InvalidSignatureException"))
        # The body changed after signing (the signature covers its SHA-256).
        r = self.signed.request("POST", path, self.create_body("signed-body"), hdrs,
                                spoil=lambda b, h: (self.create_body("other-body"), h))
        self.assertEqual(self.lambda_error(r)[:2], (403, "InvalidSignatureException"))
        for name in ("tampered", "wrong-secret", "signed-body", "other-body"):
            self.assertNoFunction(name)
        # The same request, untouched, works: the refusals above were about the signature.
        r = self.signed.request("POST", path, self.create_body("signed-ok"), hdrs)
        self.assertEqual(r[0], 201, r[2])

    def test_unknown_key_and_old_requests_are_refused(self):
        r = self.signed.request("GET", "/2015-03-31/functions/", key="AKIA" + "Z" * 16)
        self.assertEqual(self.lambda_error(r), (403, "UnrecognizedClientException",
                                                "The security token included in the request is invalid."))
        # Twenty minutes old: outside the window (Lambda allows 5 minutes, others 15).
        r = self.signed.request("GET", "/2015-03-31/functions/", when=time.time() - 20 * 60)
        status, code, message = self.lambda_error(r)
        self.assertEqual((status, code), (403, "InvalidSignatureException"))
        self.assertTrue(message.startswith("Signature expired: "), message)
        body = b"Action=CreateQueue&QueueName=too-old&Version=2012-11-05"
        status, _, text = self.signed.request("POST", "/", body, {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="sqs",
            when=time.time() - 20 * 60)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", text)
        self.assertIn(b"Signature expired", text)
        # Fourteen minutes old is still inside SQS's window.
        status, _, text = self.signed.request("POST", "/", body, {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="sqs",
            when=time.time() - 14 * 60)
        self.assertEqual(status, 200, text)

    def test_presigned_url(self):
        client = self.server.lambda_client()
        url = client.generate_presigned_url("list_functions", ExpiresIn=60)
        path = url[len(self.server.endpoint):]
        status, _, body = self.server.raw("GET", path, sign=False)
        self.assertEqual(status, 200, body)
        self.assertIn("Functions", json.loads(body))
        status, hdrs, _ = self.server.raw("GET", path.replace("X-Amz-Signature=", "X-Amz-Signature=0"),
                                          sign=False)
        self.assertEqual((status, hdrs.get("x-amzn-errortype")), (403, "InvalidSignatureException"))


class AccessControl(ServerTestCase):
    """IAM users, policies, STS and resource policies decide what a caller may do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iam = cls.server.iam_client()
        cls.create_fn = staticmethod(lambda name: cls.client.create_function(
            FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
            Code={"ZipFile": ECHO}))

    def user(self, name, *statements):
        self.iam.create_user(UserName=name)
        if statements:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
        k = self.iam.create_access_key(UserName=name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def client_for(self, service, key, secret, token=None):
        return boto3.client(service, endpoint_url=self.server.endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            aws_session_token=token,
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    def test_a_user_allowed_only_to_invoke_one_function(self):
        self.create_fn("only-a")
        self.create_fn("only-b")
        arn_a = "arn:aws:lambda:%s:%s:function:only-a" % (REGION, ACCOUNT)
        key, secret = self.user("invoker", {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                            "Resource": arn_a})
        lam = self.client_for("lambda", key, secret)
        if sandbox_supported():
            r = lam.invoke(FunctionName="only-a", Payload=b'{"x":1}')
            self.assertEqual(json.loads(r["Payload"].read()), {"x": 1})
        user_arn = "arn:aws:iam::%s:user/invoker" % ACCOUNT
        err = self.assertAwsError("AccessDeniedException", 403, lam.list_functions)
        self.assertEqual(err["Error"]["Message"],
                         "User: %s is not authorized to perform: lambda:ListFunctions because no "
                         "identity-based policy allows the lambda:ListFunctions action" % user_arn)
        err = self.assertAwsError("AccessDeniedException", 403, lam.create_function,
                                  FunctionName="by-invoker", Runtime="python3.11", Handler="app.handler",
                                  Role=ROLE, Code={"ZipFile": ECHO})
        self.assertIn("lambda:CreateFunction on resource: arn:aws:lambda:%s:%s:function:by-invoker"
                      % (REGION, ACCOUNT), err["Error"]["Message"])
        err = self.assertAwsError("AccessDeniedException", 403, lam.invoke, FunctionName="only-b")
        self.assertEqual(err["Error"]["Message"],
                         "User: %s is not authorized to perform: lambda:InvokeFunction on resource: "
                         "arn:aws:lambda:%s:%s:function:only-b because no identity-based policy "
                         "allows the lambda:InvokeFunction action" % (user_arn, REGION, ACCOUNT))
        # A qualified invocation needs the qualified ARN (or a wildcard), as on AWS.
        self.assertAwsError("AccessDeniedException", 403, lam.invoke, FunctionName="only-a",
                            Qualifier="$LATEST")
        # Nothing was created by the refused call.
        self.assertAwsError("ResourceNotFoundException", 404, self.client.get_function,
                            FunctionName="by-invoker")

    def test_explicit_deny_and_managed_policies(self):
        key, secret = self.user("denied")
        self.iam.attach_user_policy(UserName="denied", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        lam = self.client_for("lambda", key, secret)
        lam.list_functions()
        created = self.iam.create_policy(PolicyName="no-delete", PolicyDocument=policy(
            {"Effect": "Deny", "Action": "lambda:Delete*", "Resource": "*"}))["Policy"]
        self.iam.attach_user_policy(UserName="denied", PolicyArn=created["Arn"])
        self.create_fn("keep-me")
        err = self.assertAwsError("AccessDeniedException", 403, lam.delete_function, FunctionName="keep-me")
        self.assertIn("with an explicit deny in a identity-based policy", err["Error"]["Message"])
        self.client.get_function(FunctionName="keep-me")
        # A new default version of the managed policy takes effect at once.
        self.iam.create_policy_version(PolicyArn=created["Arn"], SetAsDefault=True, PolicyDocument=policy(
            {"Effect": "Deny", "Action": "lambda:GetAccountSettings", "Resource": "*"}))
        lam.delete_function(FunctionName="keep-me")
        self.assertAwsError("AccessDeniedException", 403, lam.get_account_settings)

    def test_sqs_and_logs_authorization(self):
        key, secret = self.user("sender", {"Effect": "Allow", "Action": "sqs:SendMessage",
                                           "Resource": "arn:aws:sqs:%s:%s:authz-q" % (REGION, ACCOUNT)})
        url = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION).create_queue(
            QueueName="authz-q")["QueueUrl"]
        sqs = self.client_for("sqs", key, secret)
        sqs.send_message(QueueUrl=url, MessageBody="hi")
        err = self.assertAwsError("AccessDenied", 403, sqs.receive_message, QueueUrl=url)
        self.assertIn("sqs:ReceiveMessage on resource: arn:aws:sqs:%s:%s:authz-q" % (REGION, ACCOUNT),
                      err["Error"]["Message"])
        logs = self.client_for("logs", key, secret)
        self.assertAwsError("AccessDeniedException", 400, logs.describe_log_groups)

    def test_queue_policy_grants_without_identity_policy(self):
        admin_sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)
        url = admin_sqs.create_queue(QueueName="policy-q")["QueueUrl"]
        key, secret = self.user("stranger")
        sqs = self.client_for("sqs", key, secret)
        self.assertAwsError("AccessDenied", 403, sqs.send_message, QueueUrl=url, MessageBody="x")
        admin_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/stranger" % ACCOUNT},
                "Action": "sqs:SendMessage",
                "Resource": "arn:aws:sqs:%s:%s:policy-q" % (REGION, ACCOUNT)}]})})
        sqs.send_message(QueueUrl=url, MessageBody="x")
        self.assertAwsError("AccessDenied", 403, sqs.receive_message, QueueUrl=url)

    def test_function_resource_policy_grants_invoke(self):
        self.create_fn("shared-fn")
        key, secret = self.user("guest")
        lam = self.client_for("lambda", key, secret)
        self.assertAwsError("AccessDeniedException", 403, lam.get_function_configuration,
                            FunctionName="shared-fn")
        self.client.add_permission(FunctionName="shared-fn", StatementId="guest",
                                   Action="lambda:GetFunctionConfiguration",
                                   Principal="arn:aws:iam::%s:user/guest" % ACCOUNT)
        lam.get_function_configuration(FunctionName="shared-fn")
        self.client.remove_permission(FunctionName="shared-fn", StatementId="guest")
        self.assertAwsError("AccessDeniedException", 403, lam.get_function_configuration,
                            FunctionName="shared-fn")

    def test_assume_role_and_session_credentials(self):
        key, secret = self.user("assumer", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
        trusted = self.iam.create_role(RoleName="readers", AssumeRolePolicyDocument=policy(
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/assumer" % ACCOUNT},
             "Action": "sts:AssumeRole"}))["Role"]
        self.iam.attach_role_policy(RoleName="readers",
                                    PolicyArn="arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess")
        untrusted = self.iam.create_role(RoleName="not-for-you", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
        sts = self.client_for("sts", key, secret)
        self.assertEqual(sts.get_caller_identity()["Arn"], "arn:aws:iam::%s:user/assumer" % ACCOUNT)
        self.assertAwsError("AccessDenied", 403, sts.assume_role, RoleArn=untrusted["Arn"],
                            RoleSessionName="nope")
        self.assertAwsError("ValidationError", 400, sts.assume_role, RoleArn=trusted["Arn"],
                            RoleSessionName="long", DurationSeconds=7200)
        got = sts.assume_role(RoleArn=trusted["Arn"], RoleSessionName="reader-1", DurationSeconds=900)
        c = got["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(got["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/readers/reader-1" % ACCOUNT)
        session = self.client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        me = session.get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:sts::%s:assumed-role/readers/reader-1" % ACCOUNT)
        self.assertEqual(me["UserId"], trusted["RoleId"] + ":reader-1")
        lam = self.client_for("lambda", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        lam.list_functions()
        self.assertAwsError("AccessDeniedException", 403, lam.create_function,
                            FunctionName="by-reader", Runtime="python3.11", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": ECHO})
        # A session token that is not ours, or with another key id, is refused.
        bad = self.client_for("lambda", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"][:-4] + "AAAA")
        self.assertAwsError("UnrecognizedClientException", 403, bad.list_functions)
        # Deleting the role ends its sessions.
        self.iam.detach_role_policy(RoleName="readers",
                                    PolicyArn="arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess")
        self.iam.delete_role(RoleName="readers")
        self.assertAwsError("UnrecognizedClientException", 403, lam.list_functions)

    def test_expired_session_token(self):
        """A token past its expiry: sealed here with the node key as the server seals them (the
        shortest STS session is 15 minutes, too long to wait for)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        with open(os.path.join(self.server.data_dir, "node.key"), "rb") as f:
            key = f.read()
        role = self.iam.create_role(RoleName="expiring", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
        now = int(time.time())
        claims = {"k": "ASIAEXPIREDEXPIRED01", "s": "expired-secret-expired-secret-000000000",
                  "r": "expiring", "ri": role["RoleId"], "n": "old", "i": now - 7200, "e": now - 3600}
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(key).encrypt(nonce, json.dumps(claims).encode(), b"lambent sts session v1")
        token = "LMBT" + base64.b64encode(sealed).decode()
        lam = self.client_for("lambda", claims["k"], claims["s"], token)
        err = self.assertAwsError("ExpiredTokenException", 403, lam.list_functions)
        self.assertEqual(err["Error"]["Message"], "The security token included in the request is expired")
        sqs = self.client_for("sqs", claims["k"], claims["s"], token)
        self.assertAwsError("ExpiredToken", 403, sqs.list_queues)

    def test_execution_roles_are_checked(self):
        self.iam.create_role(RoleName="not-lambda", AssumeRolePolicyDocument=policy(
            {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}))
        for role in ("arn:aws:iam::%s:role/not-lambda" % ACCOUNT, "arn:aws:iam::%s:role/missing" % ACCOUNT):
            err = self.assertAwsError("InvalidParameterValueException", 400, self.client.create_function,
                                      FunctionName="bad-role", Runtime="python3.11",
                                      Handler="app.handler", Role=role, Code={"ZipFile": ECHO})
            self.assertEqual(err["Error"]["Message"],
                             "The role defined for the function cannot be assumed by Lambda.")
        # Passing a role needs iam:PassRole.
        key, secret = self.user("no-pass", {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"})
        lam = self.client_for("lambda", key, secret)
        err = self.assertAwsError("AccessDeniedException", 403, lam.create_function,
                                  FunctionName="no-pass-fn", Runtime="python3.11",
                                  Handler="app.handler", Role=ROLE, Code={"ZipFile": ECHO})
        self.assertIn("iam:PassRole on resource: " + ROLE, err["Error"]["Message"])

    def test_lambda_acts_with_the_functions_role(self):
        """CreateEventSourceMapping, destinations and dead-letter queues check the function's
        execution role, with AWS's messages."""
        sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)
        sqs.create_queue(QueueName="role-q")
        queue_arn = "arn:aws:sqs:%s:%s:role-q" % (REGION, ACCOUNT)
        self.iam.create_role(RoleName="logs-only", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.iam.attach_role_policy(RoleName="logs-only", PolicyArn=(
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"))
        logs_only = "arn:aws:iam::%s:role/logs-only" % ACCOUNT
        self.client.create_function(FunctionName="weak-role", Runtime="python3.11",
                                    Handler="app.handler", Role=logs_only, Code={"ZipFile": ECHO})
        err = self.assertAwsError("InvalidParameterValueException", 400,
                                  self.client.create_event_source_mapping,
                                  EventSourceArn=queue_arn, FunctionName="weak-role")
        self.assertEqual(err["Error"]["Message"],
                         "The provided execution role does not have permissions to call "
                         "ReceiveMessage on SQS")
        err = self.assertAwsError("InvalidParameterValueException", 400,
                                  self.client.put_function_event_invoke_config,
                                  FunctionName="weak-role",
                                  DestinationConfig={"OnFailure": {"Destination": queue_arn}})
        self.assertEqual(err["Error"]["Message"], "The function's execution role does not have "
                         "permissions to call SendMessage on " + queue_arn)
        self.assertAwsError("InvalidParameterValueException", 400,
                            self.client.update_function_configuration, FunctionName="weak-role",
                            DeadLetterConfig={"TargetArn": queue_arn})
        self.assertEqual(self.client.list_event_source_mappings(FunctionName="weak-role")
                         ["EventSourceMappings"], [])
        # Granted the SQS execution policy, the same calls succeed.
        self.iam.attach_role_policy(RoleName="logs-only", PolicyArn=(
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"))
        self.iam.put_role_policy(RoleName="logs-only", PolicyName="send", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}))
        uuid = self.client.create_event_source_mapping(EventSourceArn=queue_arn,
                                                       FunctionName="weak-role")["UUID"]
        self.client.put_function_event_invoke_config(
            FunctionName="weak-role", DestinationConfig={"OnFailure": {"Destination": queue_arn}})
        self.client.delete_event_source_mapping(UUID=uuid)

    def test_event_source_mappings_limited_by_function_arn(self):
        """lambda:FunctionArn, as AWS sets it for event source mapping operations."""
        sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)
        sqs.create_queue(QueueName="esm-authz-q")
        queue_arn = "arn:aws:sqs:%s:%s:esm-authz-q" % (REGION, ACCOUNT)
        self.create_fn("esm-team-a")
        self.create_fn("esm-other")
        key, secret = self.user("esm-admin", {
            "Effect": "Allow", "Action": ["lambda:CreateEventSourceMapping",
                                          "lambda:DeleteEventSourceMapping"],
            "Resource": "*", "Condition": {"ArnLike": {"lambda:FunctionArn": (
                "arn:aws:lambda:%s:%s:function:esm-team-*" % (REGION, ACCOUNT))}}})
        lam = self.client_for("lambda", key, secret)
        err = self.assertAwsError("AccessDeniedException", 403, lam.create_event_source_mapping,
                                  EventSourceArn=queue_arn, FunctionName="esm-other")
        self.assertIn("lambda:CreateEventSourceMapping", err["Error"]["Message"])
        uuid = lam.create_event_source_mapping(EventSourceArn=queue_arn,
                                               FunctionName="esm-team-a")["UUID"]
        other = self.client.create_event_source_mapping(EventSourceArn=queue_arn,
                                                         FunctionName="esm-other")["UUID"]
        self.assertAwsError("AccessDeniedException", 403, lam.delete_event_source_mapping, UUID=other)
        lam.delete_event_source_mapping(UUID=uuid)
        self.client.delete_event_source_mapping(UUID=other)

    def test_queue_policies_are_validated(self):
        sqs = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name=REGION)
        url = sqs.create_queue(QueueName="validated-q")["QueueUrl"]
        err = self.assertAwsError("InvalidAttributeValue", 400, sqs.set_queue_attributes,
                                  QueueUrl=url, Attributes={"Policy": '{"Statement": "nope"}'})
        self.assertIn("Invalid value for the parameter Policy", err["Error"]["Message"])
        self.assertNotIn("Policy", sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
                         ["Attributes"])

    def test_iam_with_the_aws_cli(self):
        _, out, _ = self.server.aws("iam", "create-user", "--user-name", "cli-user", "--path", "/team/")
        self.assertEqual(out["User"]["Arn"], "arn:aws:iam::%s:user/team/cli-user" % ACCOUNT)
        self.assertTrue(out["User"]["UserId"].startswith("AIDA"))
        _, out, _ = self.server.aws("iam", "create-access-key", "--user-name", "cli-user")
        self.assertTrue(out["AccessKey"]["AccessKeyId"].startswith("AKIA"))
        self.assertEqual(len(out["AccessKey"]["SecretAccessKey"]), 40)
        doc = policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
        _, out, _ = self.server.aws("iam", "create-policy", "--policy-name", "cli-sqs", "--policy-document", doc)
        arn = out["Policy"]["Arn"]
        self.server.aws("iam", "attach-user-policy", "--user-name", "cli-user", "--policy-arn", arn)
        _, out, _ = self.server.aws("iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v1")
        self.assertEqual(out["PolicyVersion"]["Document"], json.loads(doc))
        _, out, _ = self.server.aws("iam", "list-attached-user-policies", "--user-name", "cli-user")
        self.assertEqual(out["AttachedPolicies"], [{"PolicyName": "cli-sqs", "PolicyArn": arn}])
        rc, _, err = self.server.aws("iam", "delete-policy", "--policy-arn", arn, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("DeleteConflict", err)
        rc, _, err = self.server.aws("iam", "delete-user", "--user-name", "cli-user", check=False)
        self.assertIn("DeleteConflict", err)
        rc, _, err = self.server.aws("iam", "create-policy", "--policy-name", "bad",
                                     "--policy-document", '{"Statement":[{"Effect":"allow"}]}', check=False)
        self.assertIn("MalformedPolicyDocument", err)
        rc, _, err = self.server.aws("iam", "get-role", "--role-name", "nobody", check=False)
        self.assertIn("NoSuchEntity", err)
        self.assertIn("The role with name nobody cannot be found.", err)
        _, out, _ = self.server.aws("iam", "list-policies", "--scope", "AWS")
        names = {p["PolicyName"] for p in out["Policies"]}
        self.assertTrue({"AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole", "AWSLambdaRole",
                         "AWSLambda_FullAccess", "AdministratorAccess", "ReadOnlyAccess"} <= names)
        _, out, _ = self.server.aws("sts", "get-caller-identity")
        self.assertEqual(out["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)


@unittest.skipUnless(sandbox_supported(), "execution environments need root (namespaces, cgroups)")
class FunctionCredentials(ServerTestCase):
    def test_functions_carry_their_execution_role_credentials(self):
        code = make_zip({"app.py": (
            "import os\n"
            "def handler(event, context):\n"
            "    return {k: os.environ.get(k) for k in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',"
            " 'AWS_SESSION_TOKEN')}\n")})
        self.create("creds-fn", code)
        got = json.loads(self.client.invoke(FunctionName="creds-fn")["Payload"].read())
        self.assertTrue(got["AWS_ACCESS_KEY_ID"].startswith("ASIA"), got)
        sts = boto3.client("sts", endpoint_url=self.server.endpoint, region_name=REGION,
                           aws_access_key_id=got["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=got["AWS_SECRET_ACCESS_KEY"],
                           aws_session_token=got["AWS_SESSION_TOKEN"])
        me = sts.get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:sts::%s:assumed-role/%s/creds-fn" % (ACCOUNT, ROLE_NAME))
        # Calls made with them are authorized by the role's policies: logs yes (basic execution),
        # creating functions no.
        creds = dict(aws_access_key_id=got["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=got["AWS_SECRET_ACCESS_KEY"],
                     aws_session_token=got["AWS_SESSION_TOKEN"])
        logs = boto3.client("logs", endpoint_url=self.server.endpoint, region_name=REGION, **creds)
        logs.create_log_group(logGroupName="/made/by/creds-fn")
        lam = boto3.client("lambda", endpoint_url=self.server.endpoint, region_name=REGION, **creds)
        err = self.assertAwsError("AccessDeniedException", 403, lam.list_functions)
        self.assertIn("arn:aws:sts::%s:assumed-role/%s/creds-fn" % (ACCOUNT, ROLE_NAME),
                      err["Error"]["Message"])


class Secrets(unittest.TestCase):
    def test_no_secret_in_the_data_directory_or_the_log(self):
        server = Server().start()
        try:
            iam = server.iam_client()
            iam.create_user(UserName="secret-keeper")
            user_secret = iam.create_access_key(UserName="secret-keeper")["AccessKey"]["SecretAccessKey"]
            iam.create_role(RoleName="sess", AssumeRolePolicyDocument=policy(
                {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))
            sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION)
            session_secret = sts.assume_role(RoleArn="arn:aws:iam::%s:role/sess" % ACCOUNT,
                                             RoleSessionName="s1")["Credentials"]["SecretAccessKey"]
            server.terminate()  # the WAL and everything flushed
            secrets = [ROOT_SECRET.encode(), user_secret.encode(), session_secret.encode()]
            files = [os.path.join(d, f) for d, _, fs in os.walk(server.data_dir) for f in fs]
            files.append(server.log_path)
            self.assertGreater(len(files), 5)
            for path in files:
                with open(path, "rb") as f:
                    content = f.read()
                for s in secrets:
                    self.assertNotIn(s, content, path)
                    self.assertNotIn(base64.b64encode(s), content, path)
            self.assertEqual(os.stat(os.path.join(server.data_dir, "root-credentials")).st_mode & 0o777, 0o600)
        finally:
            server.close()


class RootKeyAndOpenMode(unittest.TestCase):
    def test_root_key_made_at_first_start_and_found_by_the_cli(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("LAMBENT_ROOT_") and not k.startswith("AWS_ACCESS")
               and not k.startswith("AWS_SECRET")}
        server = Server()
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            server.proc = None
            log = open(server.log_path, "ab")
            server.proc = subprocess.Popen(
                [LAMBENT, "serve", "--listen", "127.0.0.1:0", "--data", server.data_dir,
                 "--code-cache", server.cache_dir], stdout=subprocess.PIPE, stderr=log, env=env)
            import re
            line = server.proc.stdout.readline().decode()
            server.port = int(re.search(r":(\d+)", line).group(1))
            time.sleep(0.2)
            self.assertIn("lambent credentials", server.log())
            out = subprocess.run([LAMBENT, "credentials", "--data", server.data_dir], env=env,
                                 capture_output=True, text=True, check=True).stdout
            lines = dict(l.split("=", 1) for l in out.replace("export ", "").split())
            self.assertTrue(lines["AWS_ACCESS_KEY_ID"].startswith("AKIA"))
            self.assertNotIn(lines["AWS_SECRET_ACCESS_KEY"], server.log())
            # The CLI finds them itself with --data; the aws CLI with the printed variables.
            r = subprocess.run([LAMBENT, "ls", "--json", "--endpoint", server.endpoint,
                                "--data", server.data_dir], env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "sts", "get-caller-identity"],
                               env={**env, **lines}, capture_output=True, text=True)
            self.assertEqual(json.loads(r.stdout)["Arn"], "arn:aws:iam::%s:root" % ACCOUNT, r.stderr)
            # Without credentials the CLI is refused, and says how to fix it.
            r = subprocess.run([LAMBENT, "ls", "--endpoint", server.endpoint, "--data", "/nonexistent"],
                               env=env, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("MissingAuthenticationTokenException", r.stderr)
            self.assertIn("lambent credentials", r.stderr)
            # --profile writes an aws CLI profile.
            home = os.path.join(server.tmp, "home")
            subprocess.run([LAMBENT, "credentials", "--data", server.data_dir, "--profile", "lambent"],
                           env={**env, "HOME": home}, check=True, capture_output=True)
            r = subprocess.run([AWS_CLI, "--profile", "lambent", "--endpoint-url", server.endpoint,
                                "sts", "get-caller-identity"], env={**env, "HOME": home},
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(os.stat(os.path.join(home, ".aws", "credentials")).st_mode & 0o777, 0o600)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            server.close()

    def test_open_mode_only_on_loopback(self):
        p = subprocess.run([LAMBENT, "serve", "--listen", "0.0.0.0:0", "--auth", "open",
                            "--data", "/tmp/lambent-never-made"], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("loopback", p.stderr)
        self.assertFalse(os.path.exists("/tmp/lambent-never-made"))
        server = Server().start("--auth", "open")
        try:
            status, _, body = server.raw("GET", "/2015-03-31/functions/", sign=False)
            self.assertEqual(status, 200, body)
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()

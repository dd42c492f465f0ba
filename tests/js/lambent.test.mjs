// End-to-end tests with the AWS SDK for JavaScript v3 and AWS's own Node.js runtime interface
// client (aws-lambda-ric from npm) running unchanged as a custom runtime against Lambent.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "./server.mjs";
import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  waitUntilFunctionActiveV2,
} from "@aws-sdk/client-lambda";
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
} from "@aws-sdk/client-sqs";
import crypto from "node:crypto";

const here = path.dirname(fileURLToPath(import.meta.url));
const LAMBENT = process.env.LAMBENT_BIN || path.join(here, "..", "..", "build", "bin", "lambent");
const ROLE = "arn:aws:iam::000000000000:role/lambda-role";
// The server's root key, given at its first start; every client here signs with it.
const rootKey = {
  accessKeyId: "AKIA" + crypto.randomBytes(8).toString("hex").toUpperCase(),
  secretAccessKey: crypto.randomBytes(30).toString("base64"),
};
const root = process.getuid && process.getuid() === 0;

let server;
let client;
let sqs;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lambent-js-"));
const cache = fs.mkdtempSync("/dev/shm/lambent-js-cache-");

function zipDir(dir) {
  const out = path.join(tmp, `${path.basename(dir)}-${Date.now()}.zip`);
  execFileSync("zip", ["-qr", "--symlinks", out, "."], { cwd: dir });
  return fs.readFileSync(out);
}

function packageFrom(files) {
  const dir = fs.mkdtempSync(path.join(tmp, "pkg-"));
  for (const [name, { content, mode }] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content, { mode: mode ?? 0o644 });
  }
  return dir;
}

before(async () => {
  let port;
  ({ server, port } = await startServer(LAMBENT, tmp, cache, rootKey));
  client = new LambdaClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: rootKey,
    maxAttempts: 1,
  });
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: rootKey,
    maxAttempts: 1,
  });
  // The functions' execution role (the aws CLI: the JS SDK's IAM client is not installed here).
  const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow",
    Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] });
  execFileSync("/usr/bin/aws", ["--endpoint-url", `http://127.0.0.1:${port}`, "iam", "create-role",
    "--role-name", "lambda-role", "--assume-role-policy-document", trust], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: rootKey.accessKeyId,
           AWS_SECRET_ACCESS_KEY: rootKey.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1",
           AWS_PAGER: "" },
    stdio: "ignore",
  });
});

after(() => {
  server?.kill("SIGTERM");
  fs.rmSync(tmp, { recursive: true, force: true });
  execFileSync("chmod", ["-R", "u+w", cache]);
  fs.rmSync(cache, { recursive: true, force: true });
});

async function create(name, zip, extra = {}) {
  await client.send(new CreateFunctionCommand({
    FunctionName: name, Role: ROLE, Code: { ZipFile: zip }, MemorySize: 1769, ...extra,
  }));
  await waitUntilFunctionActiveV2({ client, maxWaitTime: 30 }, { FunctionName: name });
}

async function invoke(name, payload, extra = {}) {
  const r = await client.send(new InvokeCommand({
    FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...extra,
  }));
  return { ...r, body: JSON.parse(Buffer.from(r.Payload).toString()) };
}

test("create, get and invoke python and node functions with the JS SDK v3", { skip: !root && "needs root" }, async () => {
  const py = packageFrom({ "app.py": { content: "def handler(e, c):\n    return {'py': e, 'rid': c.aws_request_id}\n" } });
  await create("js-py", zipDir(py), { Runtime: "python3.11", Handler: "app.handler" });
  const got = await client.send(new GetFunctionCommand({ FunctionName: "js-py" }));
  assert.equal(got.Configuration.State, "Active");
  const r = await invoke("js-py", { n: 1 }, { LogType: "Tail" });
  assert.equal(r.StatusCode, 200);
  assert.equal(r.ExecutedVersion, "$LATEST");
  assert.deepEqual(r.body.py, { n: 1 });
  assert.equal(r.body.rid, r.$metadata.requestId);
  const log = Buffer.from(r.LogResult, "base64").toString();
  assert.match(log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
  assert.match(log, /REPORT RequestId: .*\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 1769 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/);

  const node = packageFrom({ "index.mjs": { content: "export const handler = async (e) => { throw new RangeError('out of range ' + e.n); };\n" } });
  await create("js-node", zipDir(node), { Runtime: "nodejs20.x", Handler: "index.handler" });
  const e = await invoke("js-node", { n: 5 });
  assert.equal(e.FunctionError, "Unhandled");
  assert.equal(e.body.errorType, "RangeError");
  assert.equal(e.body.errorMessage, "out of range 5");
});

test("errors reach the JS SDK with AWS's codes", async () => {
  await assert.rejects(client.send(new GetFunctionCommand({ FunctionName: "js-missing" })),
    (err) => err.name === "ResourceNotFoundException" && err.$metadata.httpStatusCode === 404);
  await assert.rejects(client.send(new InvokeCommand({ FunctionName: "js-missing", Payload: Buffer.from("{}") })),
    (err) => err.name === "ResourceNotFoundException");
});

test("AWS's Node.js runtime interface client runs unchanged as a custom runtime", { skip: !root && "needs root" }, async () => {
  const ric = path.join(here, "node_modules", "aws-lambda-ric");
  assert.ok(fs.existsSync(path.join(ric, "dist", "rapid-client.node")),
    "aws-lambda-ric built its native client");
  const dir = packageFrom({
    "bootstrap": {
      content: "#!/bin/sh\ncd /var/task\nexec /usr/bin/node /var/task/node_modules/aws-lambda-ric/bin/index.mjs handler.handler\n",
      mode: 0o755,
    },
    "handler.mjs": {
      content: "let n = 0;\nexport const handler = async (event, context) => {\n" +
        "  n++;\n  if (event.fail) throw new Error('ric failure');\n" +
        "  console.log('through the ric');\n" +
        "  return { ric: true, n, event, fn: context.functionName, rid: context.awsRequestId };\n};\n",
    },
  });
  // The package as AWS's images install it: its entry point, the built client and package.json
  // (not the 150 MB of sources it was built from).
  for (const part of ["bin", "dist", "package.json"]) {
    fs.cpSync(path.join(ric, part), path.join(dir, "node_modules", "aws-lambda-ric", part), { recursive: true });
  }
  await create("js-ric", zipDir(dir), { Runtime: "provided.al2023", Handler: "handler.handler" });
  const r = await invoke("js-ric", { a: 1 }, { LogType: "Tail" });
  assert.equal(r.FunctionError, undefined, JSON.stringify(r.body));
  assert.deepEqual(r.body.event, { a: 1 });
  assert.equal(r.body.ric, true);
  assert.equal(r.body.fn, "js-ric");
  assert.equal(r.body.rid, r.$metadata.requestId);
  assert.match(Buffer.from(r.LogResult, "base64").toString(), /through the ric/);
  const warm = await invoke("js-ric", { a: 2 });
  assert.equal(warm.body.n, 2);
  const f = await invoke("js-ric", { fail: true });
  assert.equal(f.FunctionError, "Unhandled");
  assert.equal(f.body.errorMessage, "ric failure");
});

// SQS's MD5OfMessageAttributes, computed here independently of the server.
function attributesMd5(attrs) {
  const parts = [];
  const len = (b) => { const x = Buffer.alloc(4); x.writeUInt32BE(b.length); return x; };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    const binary = a.DataType.startsWith("Binary");
    const value = binary ? Buffer.from(a.BinaryValue) : Buffer.from(a.StringValue, "utf8");
    for (const s of [name, a.DataType]) { const b = Buffer.from(s, "utf8"); parts.push(len(b), b); }
    parts.push(Buffer.from([binary ? 2 : 1]), len(value), value);
  }
  return crypto.createHash("md5").update(Buffer.concat(parts)).digest("hex");
}

test("built-in queues through the JS SDK v3 (SQS JSON protocol)", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({
    QueueName: "js-queue", Attributes: { VisibilityTimeout: "1" },
  }));
  assert.match(QueueUrl, /\/000000000000\/js-queue$/);
  const attrs = { color: { DataType: "String", StringValue: "blue" },
                  n: { DataType: "Number", StringValue: "42" },
                  raw: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2]) } };
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "héllo", MessageAttributes: attrs }));
  assert.equal(sent.MD5OfMessageBody, crypto.createHash("md5").update("héllo").digest("hex"));
  assert.equal(sent.MD5OfMessageAttributes, attributesMd5(attrs));
  const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [
    { Id: "one", MessageBody: "1" }, { Id: "two", MessageBody: "2" }, { Id: "bad", MessageBody: "" }] }));
  assert.equal(batch.Successful.length, 2);
  assert.equal(batch.Failed[0].Id, "bad");

  let got = [];
  while (got.length < 3) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }));
    got = got.concat(r.Messages ?? []);
  }
  const first = got.find((m) => m.Body === "héllo");
  assert.equal(first.MessageAttributes.color.StringValue, "blue");
  assert.deepEqual([...first.MessageAttributes.raw.BinaryValue], [0, 1, 2]);
  assert.equal(first.MD5OfMessageAttributes, attributesMd5(attrs));
  assert.equal(first.Attributes.ApproximateReceiveCount, "1");

  // Keep one hidden longer; let the others reappear after the 1 s visibility timeout.
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 30 }));
  let again = [];
  const start = Date.now();
  while (again.length < 2 && Date.now() - start < 10000) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    again = again.concat(r.Messages ?? []);
  }
  assert.deepEqual(again.map((m) => m.Body).sort(), ["1", "2"]);
  const del = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: again.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
  assert.equal(del.Successful.length, 2);
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
  assert.equal(a.Attributes.ApproximateNumberOfMessages, "0");
  assert.equal(a.Attributes.ApproximateNumberOfMessagesNotVisible, "1");

  await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: "js-queue" })),
    (e) => e instanceof QueueDoesNotExist && e.$metadata.httpStatusCode === 400);
});

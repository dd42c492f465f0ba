// Response streaming with the AWS SDK for JavaScript v3: InvokeWithResponseStream (AWS's
// event-stream framing, parsed by the SDK) fed by the Runtime API's streaming mode, from
// Lambent's nodejs20.x runtime (awslambda.streamifyResponse) and from AWS's own Node.js runtime
// interface client running unchanged as a custom runtime.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fixture } from "./server.mjs";
import {
  LambdaClient,
  CreateFunctionCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  AddPermissionCommand,
  waitUntilFunctionActiveV2,
} from "@aws-sdk/client-lambda";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROLE = "arn:aws:iam::000000000000:role/lambda-role";
const root = process.getuid && process.getuid() === 0;
const skip = !root && "needs root (sandboxed functions)";
const f = fixture("lambent-js-stream-");
let client;

function zipFiles(files) {
  const dir = fs.mkdtempSync(path.join(f.tmp, "pkg-"));
  for (const [name, { content, mode }] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content, { mode: mode ?? 0o644 });
  }
  return dir;
}
function zipDir(dir) {
  const out = path.join(f.tmp, `${path.basename(dir)}.zip`);
  execFileSync("zip", ["-qr", "--symlinks", out, "."], { cwd: dir });
  return fs.readFileSync(out);
}

before(async () => {
  await f.start();
  client = new LambdaClient(f.config);
  f.aws("iam", "create-role", "--role-name", "lambda-role", "--assume-role-policy-document",
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow",
      Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }));
});

after(() => f.stop());

async function create(name, zip, extra = {}) {
  await client.send(new CreateFunctionCommand({
    FunctionName: name, Role: ROLE, Code: { ZipFile: zip }, MemorySize: 512, Timeout: 30,
    Runtime: "nodejs20.x", Handler: "index.handler", ...extra,
  }));
  await waitUntilFunctionActiveV2({ client, maxWaitTime: 30 }, { FunctionName: name });
}

// Every event of the stream, each with the time it arrived.
async function streamed(name, payload, extra = {}) {
  const r = await client.send(new InvokeWithResponseStreamCommand({
    FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...extra,
  }));
  const chunks = [];
  let complete;
  for await (const ev of r.EventStream) {
    if (ev.PayloadChunk) chunks.push({ at: Date.now(), bytes: Buffer.from(ev.PayloadChunk.Payload) });
    if (ev.InvokeComplete) complete = { at: Date.now(), ...ev.InvokeComplete };
  }
  return { r, chunks, complete, body: Buffer.concat(chunks.map((c) => c.bytes)) };
}

const STREAMER = `
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  const piece = Buffer.alloc(1024 * 1024, 'x');
  for (let i = 0; i < (event.pieces ?? 3); i++) {
    responseStream.write(String(i));
    responseStream.write(piece.subarray(0, (event.size ?? 10) - 1));
    if (event.pause) await new Promise((r) => setTimeout(r, event.pause));
  }
  if (event.fail) throw new TypeError("failed after " + (event.pieces ?? 3) + " pieces");
  responseStream.end();
});
`;

test("InvokeWithResponseStream: pieces arrive while the function runs, then InvokeComplete", { skip }, async () => {
  await create("st-node", zipDir(zipFiles({ "index.mjs": { content: STREAMER } })));
  // 5 pieces of 1 MiB with a 400 ms pause after each: the first piece is read long before the
  // function ends (ordering through a deliberate pause, not a speed measurement).
  const s = await streamed("st-node", { pieces: 5, size: 1024 * 1024, pause: 400 }, { LogType: "Tail" });
  assert.equal(s.r.StatusCode, 200);
  assert.equal(s.r.ExecutedVersion, "$LATEST");
  assert.equal(s.r.ResponseStreamContentType, "application/vnd.amazon.eventstream");
  assert.equal(s.body.length, 5 * 1024 * 1024);
  for (let i = 0; i < 5; i++) assert.equal(s.body[i * 1024 * 1024], "0".charCodeAt(0) + i);
  assert.ok(s.chunks.length >= 5, `${s.chunks.length} chunks`);
  const firstPieceEnd = s.chunks.findIndex((c, i) =>
    s.chunks.slice(0, i + 1).reduce((n, x) => n + x.bytes.length, 0) >= 1024 * 1024);
  assert.ok(s.complete.at - s.chunks[firstPieceEnd].at >= 1000,
    "the first MiB arrived only when the function ended");
  assert.equal(s.complete.ErrorCode, undefined);
  assert.match(Buffer.from(s.complete.LogResult, "base64").toString(), /REPORT RequestId/);

  // An error after streaming began travels in the stream.
  const f = await streamed("st-node", { pieces: 2, fail: true });
  assert.equal(f.body.toString(), "0" + "x".repeat(9) + "1" + "x".repeat(9));
  assert.equal(f.complete.ErrorCode, "TypeError");
  assert.equal(f.complete.ErrorDetails, "failed after 2 pieces");

  // A function that outlives its timeout mid-stream: what it sent, then the timeout.
  await create("st-slow", zipDir(zipFiles({ "index.mjs": { content:
    "export const handler = awslambda.streamifyResponse(async (e, s) => {\n" +
    "  s.write('before');\n  await new Promise((r) => setTimeout(r, 10000));\n  s.end('never');\n});\n" } })),
    { Timeout: 2 });
  const slow = await streamed("st-slow", {});
  assert.equal(slow.body.toString(), "before");
  assert.equal(slow.complete.ErrorCode, "Sandbox.Timedout");
  assert.match(slow.complete.ErrorDetails, /Task timed out after 2\.\d\d seconds/);

  // Invoke of a streaming function gets the whole response at once.
  const whole = await client.send(new InvokeCommand({ FunctionName: "st-node", Payload: Buffer.from('{"pieces":2}') }));
  assert.equal(Buffer.from(whole.Payload).toString(), "0" + "x".repeat(9) + "1" + "x".repeat(9));
});

test("InvokeWithResponseStream of a buffered function, DryRun, and refusals", { skip }, async () => {
  await create("st-plain", zipDir(zipFiles({ "index.mjs": {
    content: "export const handler = async (e) => { if (e.fail) throw new RangeError('no'); return { got: e }; };\n" } })));
  const s = await streamed("st-plain", { a: 1 });
  assert.deepEqual(JSON.parse(s.body.toString()), { got: { a: 1 } });
  assert.equal(s.complete.ErrorCode, undefined);
  assert.equal(s.complete.LogResult, undefined);
  const f = await streamed("st-plain", { fail: true });
  assert.equal(f.body.length, 0);
  assert.equal(f.complete.ErrorCode, "RangeError");
  assert.equal(f.complete.ErrorDetails, "no");
  const dry = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: "st-plain", InvocationType: "DryRun" }));
  assert.equal(dry.StatusCode, 204);
  await assert.rejects(client.send(new InvokeWithResponseStreamCommand({ FunctionName: "st-missing" })),
    (e) => e.name === "ResourceNotFoundException");
  await assert.rejects(client.send(new InvokeWithResponseStreamCommand({ FunctionName: "st-plain", Payload: Buffer.from("{not json") })),
    (e) => e.name === "InvalidRequestContentException");
});

test("AWS's Node.js runtime interface client streams unchanged", { skip }, async () => {
  const ric = path.join(here, "node_modules", "aws-lambda-ric");
  const dir = zipFiles({
    "bootstrap": {
      content: "#!/bin/sh\ncd /var/task\nexec /usr/bin/node /var/task/node_modules/aws-lambda-ric/bin/index.mjs index.handler\n",
      mode: 0o755,
    },
    "index.mjs": { content: STREAMER },
  });
  for (const part of ["bin", "dist", "package.json"]) {
    fs.cpSync(path.join(ric, part), path.join(dir, "node_modules", "aws-lambda-ric", part), { recursive: true });
  }
  await create("st-ric", zipDir(dir), { Runtime: "provided.al2023" });
  const s = await streamed("st-ric", { pieces: 3 });
  assert.equal(s.body.toString(), ["0", "1", "2"].map((d) => d + "x".repeat(9)).join(""));
  assert.equal(s.complete.ErrorCode, undefined);
  const f = await streamed("st-ric", { pieces: 1, fail: true });
  assert.equal(f.body.toString(), "0" + "x".repeat(9));
  assert.equal(f.complete.ErrorCode, "TypeError");
});

test("a RESPONSE_STREAM function URL made with the JS SDK streams to fetch()", { skip }, async () => {
  const fn = `export const handler = awslambda.streamifyResponse(async (event, stream) => {
    stream = awslambda.HttpResponseStream.from(stream, { statusCode: 202, headers: { "content-type": "text/csv" } });
    stream.write("a,b\\n");
    await new Promise((r) => setTimeout(r, 1200));
    stream.end("1,2\\n");
  });`;
  await create("st-url", zipDir(zipFiles({ "index.mjs": { content: fn } })));
  const made = await client.send(new CreateFunctionUrlConfigCommand({
    FunctionName: "st-url", AuthType: "NONE", InvokeMode: "RESPONSE_STREAM",
    Cors: { AllowOrigins: ["*"] } }));
  assert.equal(made.InvokeMode, "RESPONSE_STREAM");
  assert.match(made.FunctionUrl, /\/_lambent\/url\/[a-z0-9]{32}\/$/);
  const got = await client.send(new GetFunctionUrlConfigCommand({ FunctionName: "st-url" }));
  assert.equal(got.InvokeMode, "RESPONSE_STREAM");
  assert.deepEqual(got.Cors.AllowOrigins, ["*"]);
  assert.equal((await fetch(made.FunctionUrl)).status, 403);
  await client.send(new AddPermissionCommand({ FunctionName: "st-url", StatementId: "url",
    Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" }));
  await client.send(new AddPermissionCommand({ FunctionName: "st-url", StatementId: "invoke",
    Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionUrl: true }));
  const res = await fetch(made.FunctionUrl, { headers: { Origin: "https://x.example" } });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("content-type"), "text/csv");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  const reader = res.body.getReader();
  const first = await reader.read();
  const firstAt = Date.now();
  let text = Buffer.from(first.value).toString();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  assert.equal(text, "a,b\n1,2\n");
  assert.ok(Date.now() - firstAt >= 800, "the first row came only at the end");
});

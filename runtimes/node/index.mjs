// Lambent's runtime interface client for Node.js (nodejs20.x), started as
// `node /var/runtime/index.mjs` inside the environment. Loads the handler named by _HANDLER
// ("file.export", file possibly in a folder; .js, .mjs or .cjs; an ES module when .mjs or when the
// nearest package.json says "type": "module"), then loops over the Runtime API: GET /next, call
// the handler (async, or callback style with callbackWaitsForEmptyEventLoop), POST /response or
// /error. Log lines and error shapes follow AWS's Node.js runtime.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Writable } from "node:stream";
import util from "node:util";
import { pathToFileURL } from "node:url";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";

// A minimal HTTP/1.1 keep-alive client for the Runtime API over one socket: loading node:http
// costs every Init ~5 ms more than node:net. The socket is unref'd while no request is in flight,
// as http.Agent does with idle sockets, so callbackWaitsForEmptyEventLoop sees the handler's
// leftovers only.
let socket = null;
let waiting = null; // { resolve, reject } of the request in flight
let pending = Buffer.alloc(0); // bytes before the end of the response's header
let response = null; // { status, headers, length, chunks, size } once its header has arrived

// Large bodies (events up to 6 MB) arrive in many chunks: they are joined once, at the end.
function onData(chunk) {
  if (!response) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const end = pending.indexOf("\r\n\r\n");
    if (end < 0) return;
    const lines = pending.subarray(0, end).toString("latin1").split("\r\n");
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const rest = pending.subarray(end + 4);
    pending = Buffer.alloc(0);
    response = { status: Number(lines[0].split(" ")[1]), headers,
                 length: Number(headers["content-length"] || 0), chunks: [rest], size: rest.length };
  } else {
    response.chunks.push(chunk);
    response.size += chunk.length;
  }
  if (response.size < response.length) return;
  const all = Buffer.concat(response.chunks, response.size);
  const { status, headers, length } = response;
  response = null;
  pending = all.subarray(length);
  if (!waiting) return;
  const { resolve } = waiting;
  waiting = null;
  socket?.unref();
  resolve({ status, headers, body: all.subarray(0, length) });
}

function connect() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port: Number(PORT) }, () => {
      s.off("error", reject);
      resolve();
    });
    s.once("error", reject);
    s.setNoDelay(true);
    s.on("data", onData);
    s.on("close", () => {
      if (socket === s) socket = null;
      pending = Buffer.alloc(0);
      response = null;
      if (waiting) {
        const { reject: fail } = waiting;
        waiting = null;
        fail(new Error("the runtime api closed the connection"));
      }
    });
    s.on("error", () => {}); // "close" follows and fails the request in flight
    socket = s;
  });
}

async function request(method, urlPath, body, headers = {}) {
  if (!socket) await connect();
  let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body === undefined && method !== "GET") head += "Content-Length: 0\r\n";
  head += "\r\n";
  return new Promise((resolve, reject) => {
    waiting = { resolve, reject };
    socket.ref();
    socket.write(body === undefined ? head : Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body)]));
  });
}

async function post(urlPath, body, errorType) {
  const headers = { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) };
  if (errorType) headers["Lambda-Runtime-Function-Error-Type"] = errorType;
  const res = await request("POST", BASE + urlPath, body, headers);
  if (res.status >= 500) {
    process.stderr.write(`runtime api: ${urlPath} answered ${res.status}\n`);
    process.exit(1);
  }
}

// --- response streaming: awslambda.streamifyResponse and awslambda.HttpResponseStream ----------
// A streaming handler gets (event, responseStream, context). Its bytes go to the Runtime API as
// they are written: POST /response on a connection of its own with
// Lambda-Runtime-Function-Response-Mode: streaming and a chunked body; an error after the first
// byte travels in the trailers (Lambda-Runtime-Function-Error-Type / -Error-Body, base64).
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

function createResponseStream(requestId) {
  let sock = null;
  let contentType = "application/octet-stream";
  let beforeFirstWrite = null;
  let answered = null;
  const open = () => {
    if (sock) return;
    sock = net.connect({ host: HOST, port: Number(PORT) });
    sock.setNoDelay(true);
    answered = new Promise((resolve) => {
      let head = "";
      sock.on("data", (d) => {
        head += d.toString("latin1");
        if (head.includes("\r\n\r\n")) sock.end();
      });
      sock.on("close", () => resolve(Number(head.split(" ")[1]) || 0));
      sock.on("error", () => {});
    });
    sock.write(`POST ${BASE}/invocation/${requestId}/response HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n` +
      "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n" +
      `Content-Type: ${contentType}\r\n` +
      "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n");
    if (beforeFirstWrite) {
      const prelude = beforeFirstWrite;
      beforeFirstWrite = null;
      prelude((bytes) => sock.write(frame(Buffer.from(bytes))));
    }
  };
  const frame = (buf) => Buffer.concat([Buffer.from(buf.length.toString(16) + "\r\n"), buf, Buffer.from("\r\n")]);
  let trailers = "";  // set by fail(): the error, after the bytes already written
  const stream = new Writable({
    write(chunk, encoding, cb) {
      open();
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
      if (buf.length === 0) return cb();
      sock.write(frame(buf), (e) => cb(e));
    },
    final(cb) {
      open();
      sock.write(`0\r\n${trailers}\r\n`, () => cb());
    },
  });
  stream.setContentType = (type) => {
    contentType = type;
  };
  stream._onBeforeFirstWrite = (fn) => {
    beforeFirstWrite = fn;
  };
  // Ends the stream (after what was written) with the error in the trailers.
  stream.fail = (err) => {
    if (stream.writableEnded) return;  // already complete: the error is only logged
    const body = errorBody(err);
    trailers = `Lambda-Runtime-Function-Error-Type: ${body.errorType}\r\n` +
      `Lambda-Runtime-Function-Error-Body: ${Buffer.from(JSON.stringify(body)).toString("base64")}\r\n`;
    stream.end();
  };
  stream.answered = () => answered;
  return stream;
}

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    handler[STREAMING] = "response";
    if (options?.highWaterMark) handler.highWaterMark = options.highWaterMark;
    return handler;
  },
  HttpResponseStream: class HttpResponseStream {
    // The function URL's status, headers and cookies, before the body: a JSON prelude and eight
    // zero bytes, as AWS's runtime writes them.
    static from(underlyingStream, prelude) {
      underlyingStream.setContentType(HTTP_INTEGRATION);
      underlyingStream._onBeforeFirstWrite((write) => {
        write(JSON.stringify(prelude));
        write(new Uint8Array(8));
      });
      return underlyingStream;
    }
  },
};

async function runStreaming(handler, res, requestId) {
  const stream = createResponseStream(requestId);
  const context = makeContext(res.headers, () => {});
  let err = null;
  try {
    const event = res.body.length ? JSON.parse(res.body.toString("utf8")) : {};
    await handler(event, stream, context);
  } catch (e) {
    err = e ?? "undefined";
  }
  if (err !== null) {
    const body = errorBody(err);
    write("ERROR", [`Invoke Error \t${JSON.stringify(body)}`]);
    stream.fail(err);
  } else if (!stream.writableEnded) {
    stream.end();
  }
  await new Promise((resolve) => {
    if (stream.writableFinished || stream.destroyed) resolve();
    else {
      stream.once("finish", resolve);
      stream.once("error", resolve);
    }
  });
  const status = await stream.answered();
  if (status >= 500 || status === 0) {
    process.stderr.write(`runtime api: streamed /response answered ${status}\n`);
    process.exit(1);
  }
}

// --- logging, as AWS's Node.js runtime writes it ----------------------------------------------
let currentRequestId = "";
const jsonLogs = process.env.AWS_LAMBDA_LOG_FORMAT === "JSON";
const levels = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };
const minLevel = jsonLogs ? levels[process.env.AWS_LAMBDA_LOG_LEVEL || "INFO"] ?? 2 : 0;

function write(level, args) {
  if (levels[level] < minLevel) return;
  const time = new Date().toISOString();
  const message = util.format(...args);
  let line;
  if (jsonLogs) {
    const record = { timestamp: time, level, requestId: currentRequestId || undefined, message };
    line = JSON.stringify(record);
  } else {
    // Multi-line messages stay one event on AWS (it uses a framed fd); with a plain pipe we keep
    // them on one line the same way the text format does in the console: newlines become \r.
    line = `${time}\t${currentRequestId || "undefined"}\t${level}\t${message.replace(/\n/g, "\r")}`;
  }
  process.stdout.write(line + "\n");
}
console.log = (...a) => write("INFO", a);
console.info = (...a) => write("INFO", a);
console.warn = (...a) => write("WARN", a);
console.error = (...a) => write("ERROR", a);
console.debug = (...a) => write("DEBUG", a);
console.trace = (...a) => write("TRACE", a);
console.fatal = (...a) => write("FATAL", a);

function errorBody(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: typeof err.stack === "string" ? err.stack.split("\n") : [],
    };
  }
  let message;
  try {
    message = typeof err === "string" ? err : JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { errorType: typeof err === "string" ? "string" : "object", errorMessage: message, trace: [] };
}

// --- loading the handler ----------------------------------------------------------------------
async function initFailure(errorType, message, err) {
  const body = { errorType, errorMessage: message, trace: err && err.stack ? err.stack.split("\n") : [] };
  write("ERROR", [`Init Error \t${JSON.stringify(body)}`]);
  await post("/init/error", JSON.stringify(body), errorType);
  process.exit(1);
}

function isEsm(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    if (dir === "/" || dir === ".") return false;
  }
}

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
  const handlerString = process.env._HANDLER || "";
  const dot = handlerString.lastIndexOf(".");
  if (dot <= 0) {
    await initFailure("Runtime.MalformedHandlerName", `Bad handler ${handlerString}`);
  }
  const moduleName = handlerString.slice(0, dot);
  const exportPath = handlerString.slice(dot + 1);
  const base = path.resolve(taskRoot, moduleName);
  const file = [".js", ".mjs", ".cjs"].map((e) => base + e).find((f) => fs.existsSync(f));
  if (!file) {
    await initFailure("Runtime.ImportModuleError",
      `Error: Cannot find module '${moduleName}'\nRequire stack:\n- /var/runtime/index.mjs`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    const type = err instanceof SyntaxError ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
    await initFailure(type, `${err.name}: ${err.message}`, err);
  }
  // CommonJS modules arrive as the default export; ES modules expose the name directly.
  let handler = mod[exportPath];
  if (handler === undefined && !isEsm(file) && mod.default) handler = mod.default[exportPath];
  if (typeof handler !== "function") {
    await initFailure("Runtime.HandlerNotFound", `${handlerString} is undefined or not exported`);
  }
  return handler;
}

// --- invoking ---------------------------------------------------------------------------------
function makeContext(headers, finish) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const parse = (h) => (headers[h] ? JSON.parse(headers[h]) : undefined);
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse("lambda-runtime-cognito-identity"),
    clientContext: parse("lambda-runtime-client-context"),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    // Legacy completion methods.
    done: (err, result) => finish(err, result),
    succeed: (result) => finish(null, result),
    fail: (err) => finish(err ?? "handled", undefined),
  };
  return context;
}

async function runOne(handler, res) {
  const requestId = res.headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  if (res.headers["lambda-runtime-trace-id"]) {
    process.env._X_AMZN_TRACE_ID = res.headers["lambda-runtime-trace-id"];
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }
  if (handler[STREAMING]) return runStreaming(handler, res, requestId);
  let settled = false;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  let waitForEmptyLoop = false;
  const finish = (err, result) => {
    if (settled) return;
    settled = true;
    resolveDone({ err, result });
  };
  const context = makeContext(res.headers, finish);
  const callback = (err, result) => {
    waitForEmptyLoop = context.callbackWaitsForEmptyEventLoop;
    finish(err, result);
  };
  try {
    const event = res.body.length ? JSON.parse(res.body.toString("utf8")) : {};
    const ret = handler(event, context, callback);
    if (ret && typeof ret.then === "function") {
      ret.then((r) => finish(null, r), (e) => finish(e ?? "undefined", undefined));
    } else if (handler.length < 3) {
      // A synchronous handler without a callback: its return value is the result.
      finish(null, ret);
    }
  } catch (e) {
    finish(e, undefined);
  }
  const { err, result } = await done;
  if (waitForEmptyLoop) {
    // As AWS does for callback handlers: answer once the event loop has nothing left to run.
    await new Promise((r) => process.once("beforeExit", r));
  }
  if (err !== null && err !== undefined) {
    const body = errorBody(err);
    write("ERROR", [`Invoke Error \t${JSON.stringify(body)}`]);
    await post(`/invocation/${requestId}/error`, JSON.stringify(body), `Runtime.${body.errorType}`);
  } else {
    let out;
    try {
      out = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const body = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
      await post(`/invocation/${requestId}/error`, JSON.stringify(body), "Runtime.MarshalError");
      return;
    }
    await post(`/invocation/${requestId}/response`, out);
  }
}

process.on("uncaughtException", (err) => {
  const body = errorBody(err);
  write("ERROR", [`Uncaught Exception \t${JSON.stringify(body)}`]);
  process.exit(129);
});
process.on("unhandledRejection", (reason) => {
  const body = errorBody(reason);
  write("ERROR", [`Unhandled Promise Rejection \t${JSON.stringify(body)}`]);
  process.exit(128);
});

const handler = await loadHandler();
for (;;) {
  const res = await request("GET", BASE + "/invocation/next");
  if (res.status !== 200) {
    process.stderr.write(`runtime api: /next answered ${res.status}\n`);
    process.exit(1);
  }
  await runOne(handler, res);
}

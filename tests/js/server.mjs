// What the JS test files share: a `lambent serve` on a free port with a temporary data dir,
// started with the given root key.
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Resolves to { server, port } once the server prints its address.
export async function startServer(lambent, tmp, cache, rootKey) {
  const server = spawn(lambent, ["serve", "--listen", "127.0.0.1:0", "--data", path.join(tmp, "data"),
    "--code-cache", cache], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, LAMBENT_ROOT_ACCESS_KEY_ID: rootKey.accessKeyId,
           LAMBENT_ROOT_SECRET_ACCESS_KEY: rootKey.secretAccessKey },
  });
  const port = await new Promise((resolve, reject) => {
    let buf = "";
    server.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { server, port };
}

// A test file's server: a fresh root key, data and code-cache directories, the server started by
// `start()` (then `port` and `config`, the SDK clients' settings) and everything removed by
// `stop()`.
export function fixture(prefix) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const lambent = process.env.LAMBENT_BIN || path.join(here, "..", "..", "build", "bin", "lambent");
  const f = {
    rootKey: {
      accessKeyId: "AKIA" + crypto.randomBytes(8).toString("hex").toUpperCase(),
      secretAccessKey: crypto.randomBytes(30).toString("base64"),
    },
    tmp: fs.mkdtempSync(path.join(os.tmpdir(), prefix)),
    cache: fs.mkdtempSync(`/dev/shm/${prefix}cache-`),
    async start() {
      ({ server: f.server, port: f.port } = await startServer(lambent, f.tmp, f.cache, f.rootKey));
      f.config = { endpoint: `http://127.0.0.1:${f.port}`, region: "us-east-1",
                   credentials: f.rootKey, maxAttempts: 1 };
      return f;
    },
    // The aws CLI v2 with the root key, against this server.
    aws(...args) {
      return execFileSync("/usr/bin/aws", ["--endpoint-url", f.config.endpoint, ...args], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: f.rootKey.accessKeyId,
               AWS_SECRET_ACCESS_KEY: f.rootKey.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1",
               AWS_PAGER: "" },
        stdio: "ignore",
      });
    },
    stop() {
      f.server?.kill("SIGTERM");
      fs.rmSync(f.tmp, { recursive: true, force: true });
      execFileSync("chmod", ["-R", "u+w", f.cache]);
      fs.rmSync(f.cache, { recursive: true, force: true });
    },
  };
  return f;
}

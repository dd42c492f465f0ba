// What the JS test files share: a `lambent serve` on a free port with a temporary data dir,
// started with the given root key.
import { spawn } from "node:child_process";
import path from "node:path";

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

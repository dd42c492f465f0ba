// The web console in a real browser: Debian's chromium, headless, driven by Playwright
// (playwright-core, no browser download), against a lambent serve of its own. Run by ctest
// (e2e.console) and `node --test console/test`.
import {CreateFunctionCommand, LambdaClient} from "@aws-sdk/client-lambda";
import assert from "node:assert/strict";
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {after, before, test} from "node:test";
import {chromium} from "playwright-core";

import {fixture} from "../../tests/js/server.mjs";

const CHROMIUM = "/usr/bin/chromium";
const skip = !fs.existsSync(CHROMIUM) && "Debian's chromium is not installed (scripts/install-deps.sh)";
const f = fixture("lambent-console-");
let browser;

function awsJson(...args) {
  const out = execFileSync("/usr/bin/aws", ["--endpoint-url", f.config.endpoint, "--output", "json", ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: f.rootKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: f.rootKey.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: ""
    },
  });
  return out.length ? JSON.parse(out) : {};
}

// A zip with one file, made by Debian's zip.
function zipOf(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lambent-console-zip-"));
  try {
    fs.writeFileSync(path.join(dir, name), text);
    execFileSync("zip", ["-q", "-j", path.join(dir, "code.zip"), path.join(dir, name)]);
    return fs.readFileSync(path.join(dir, "code.zip"));
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

before(async () => {
  if (skip) return;
  await f.start();
  awsJson("iam", "create-role", "--role-name", "lambda-role", "--assume-role-policy-document", JSON.stringify({
    Version: "2012-10-17",
    Statement: [{Effect: "Allow", Principal: {Service: "lambda.amazonaws.com"}, Action: "sts:AssumeRole"}]
  }));
  browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"]});
});

after(async () => {
  await browser?.close();
  f.stop();
});

// LAMBENT_CONSOLE_SCREENSHOTS=<dir>: the main pages as PNGs there (docs/console/*.png).
async function shot(page, name) {
  const dir = process.env.LAMBENT_CONSOLE_SCREENSHOTS;
  if (dir) await page.screenshot({path: path.join(dir, name + ".png")});
}

async function signIn(page, key, secret) {
  await page.goto(f.config.endpoint + "/");
  await page.getByLabel("Access key ID").fill(key);
  await page.getByLabel("Secret access key").fill(secret);
  await page.getByRole("button", {name: "Sign in"}).click();
}

test(
    "sign in, the function list with search, sign out; bad keys and denied users see AWS's message", {skip},
    async () => {
      const lambda = new LambdaClient(f.config);
      const code = zipOf("app.py", "def handler(event, context):\n    return event\n");
      for (const [name, memory] of [["orders-api", 256], ["orders-worker", 512], ["billing", 128]]) {
        await lambda.send(new CreateFunctionCommand({
          FunctionName: name,
          Runtime: "python3.11",
          Handler: "app.handler",
          Role: "arn:aws:iam::000000000000:role/lambda-role",
          MemorySize: memory,
          Code: {ZipFile: code}
        }));
      }
      const context = await browser.newContext({viewport: {width: 1280, height: 800}});
      const page = await context.newPage();
      const problems = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(String(e)));

      await page.goto(f.config.endpoint + "/");
      await page.getByLabel("Access key ID").waitFor();
      await shot(page, "sign-in");
      // A wrong secret: the API's own error, and still on the sign-in page.
      await signIn(page, f.rootKey.accessKeyId, "not-the-secret");
      await assert.doesNotReject(
          page.locator("#signin-error").filter({hasText: /signature/i}).waitFor({timeout: 15000}));

      await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
      await page.locator("#functions tbody tr").first().waitFor({timeout: 15000});
      assert.deepEqual(
          await page.locator("#functions tbody tr td:first-child").allTextContents(),
          ["billing", "orders-api", "orders-worker"]);
      assert.deepEqual(
          await page.locator("#functions tr[data-name=\"orders-worker\"] td")
              .allTextContents()
              .then((t) => t.slice(1, 3)),
          ["python3.11", "512"]);
      assert.match(await page.locator("#who").textContent(), /:root$/);
      await shot(page, "functions");
      await page.getByLabel("Find functions by name").fill("orders");
      assert.deepEqual(
          await page.locator("#functions tbody tr td:first-child").allTextContents(), ["orders-api", "orders-worker"]);
      assert.equal(await page.locator("#functions-status").textContent(), "2 of 3 functions");
      // The session lasts for the tab: a reload stays signed in.
      await page.reload();
      await page.locator("#functions tbody tr").first().waitFor({timeout: 15000});
      await page.getByRole("button", {name: "Sign out"}).click();
      await page.getByLabel("Access key ID").waitFor();

      // A user whose policies allow sts but not lambda:ListFunctions sees AWS's access-denied text.
      awsJson("iam", "create-user", "--user-name", "viewer");
      const key = awsJson("iam", "create-access-key", "--user-name", "viewer").AccessKey;
      await signIn(page, key.AccessKeyId, key.SecretAccessKey);
      const denied = page.locator("#functions-status.error");
      await denied.waitFor({timeout: 15000});
      assert.match(await denied.textContent(), /AccessDenied.*not authorized to perform: lambda:ListFunctions/);
      assert.deepEqual(problems.filter((p) => !/Failed to load resource|403|401/.test(p)), []);
      await context.close();
    });

test("500 functions: the list renders them all (time in the report, not asserted)", {skip}, async () => {
  const lambda = new LambdaClient(f.config);
  const code = zipOf("app.py", "def handler(event, context):\n    return event\n");
  const names = Array.from({length: 500}, (_, i) => `bulk-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((n) => lambda.send(new CreateFunctionCommand({
      FunctionName: n,
      Runtime: "python3.11",
      Handler: "app.handler",
      Role: "arn:aws:iam::000000000000:role/lambda-role",
      Code: {ZipFile: code}
    }))));
  }
  const page = await browser.newPage();
  const t0 = Date.now();
  await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
  await page.locator("#functions tr[data-name=\"bulk-499\"]").waitFor({timeout: 60000});
  const total = Date.now() - t0;
  const count = await page.locator("#functions tbody tr").count();
  assert.ok(count >= 500, `${count} rows`);
  const rendered = await page.locator("#functions").getAttribute("data-rendered-ms");
  console.log(`# console: ${count} functions listed in ${rendered} ms after sign-in (${total} ms from page load)`);
  await page.close();
});

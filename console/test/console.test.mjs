// The web console in a real browser: Debian's chromium, headless, driven by Playwright
// (playwright-core, no browser download), against a lambent serve of its own. Run by ctest
// (e2e.console) and `node --test console/test`.
import {CreateFunctionCommand, InvokeCommand, LambdaClient} from "@aws-sdk/client-lambda";
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
    fs.mkdirSync(path.dirname(path.join(dir, "files", name)), {recursive: true});
    fs.writeFileSync(path.join(dir, "files", name), text);
    execFileSync("zip", ["-q", "-r", path.join(dir, "code.zip"), name], {cwd: path.join(dir, "files")});
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

// A new browser context and page (1280 × 800 unless told), with the page's errors collected in
// `problems` and confirmation dialogs accepted.
async function openPage(options = {}) {
  const context = await browser.newContext({viewport: {width: 1280, height: 800}, ...options});
  // Content-Security-Policy violations, with what caused them, among the page's errors.
  await context.addInitScript(
      () => document.addEventListener(
          "securitypolicyviolation",
          (e) => console.error(`CSP violation: ${e.violatedDirective} by ${
              String(e.target && e.target.outerHTML || e.target).slice(0, 200)} (${e.sourceFile}:${e.lineNumber})`)));
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("dialog", (d) => d.accept());
  return {context, page, problems};
}

// LAMBENT_CONSOLE_SCREENSHOTS=<dir>: the main pages as PNGs there (docs/console/*.png).
async function shot(page, name) {
  const dir = process.env.LAMBENT_CONSOLE_SCREENSHOTS;
  if (dir) await page.screenshot({path: path.join(dir, name + ".png")});
}

async function signIn(page, key, secret) {
  const failed = [];
  const onFail = (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`);
  const onResponse = (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`);
  const onError = (e) => failed.push(`page error: ${e}`);
  page.on("requestfailed", onFail);
  page.on("response", onResponse);
  page.on("pageerror", onError);
  await page.goto(f.config.endpoint + "/");
  await page.getByLabel("Access key ID").waitFor({timeout: 30000}).catch(async (e) => {
    throw new Error(
        `${e.message}\nfailed requests: ${failed.join("; ")}\npage: ${(await page.content()).slice(0, 1500)}`);
  });
  page.off("requestfailed", onFail);
  page.off("response", onResponse);
  page.off("pageerror", onError);
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
      // Two invocations of one of them: the list's "last hour" column counts them.
      for (let i = 0; i < 2; i++)
        await lambda.send(new InvokeCommand({FunctionName: "orders-api", Payload: Buffer.from("{}")}));
      const {context, page, problems} = await openPage();

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
      await page.locator("#functions[data-activity=\"loaded\"]").waitFor({timeout: 15000});
      assert.equal(
          await page.locator("#functions tr[data-name=\"orders-api\"] .spark-text").textContent(),
          "2 invocations, 0 errors");
      assert.equal(
          await page.locator("#functions tr[data-name=\"billing\"] .spark-text").textContent(),
          "0 invocations, 0 errors");
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

test(
    "create from a blueprint, edit, save, test, configure, publish and alias; a read-only user cannot save", {skip},
    async () => {
      const {context, page, problems} = await openPage({viewport: {width: 1280, height: 900}});
      await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
      await page.getByRole("link", {name: "Create function"}).click();
      await page.getByLabel("Function name").fill("hello-console");
      await page.getByLabel("Runtime").selectOption("python3.11");
      await page.getByLabel("Blueprint").selectOption("hello");
      await page.getByRole("button", {name: "Create function"}).click();

      // Code: the blueprint's file in the editor; replace it and save with Ctrl+S.
      await page.locator("#file-list button", {hasText: "lambda_function.py"}).waitFor({timeout: 15000});
      await page.locator(".cm-content").waitFor();
      assert.match(await page.locator(".cm-content").textContent(), /Hello from Lambent!/);
      await shot(page, "code");
      await page.locator(".cm-content").click();
      await page.keyboard.press("Control+A");
      await page.keyboard.insertText(
          "def lambda_handler(event, context):\n    print(\"EDITED LINE\")\n    return {\"edited\": True, \"input\": event}\n");
      await page.keyboard.press("Control+S");
      await page.locator("#code-status", {hasText: "Saved and deployed"}).waitFor({timeout: 30000}).catch(async (e) => {
        throw new Error(`${e.message}\nstatus: ${await page.locator("#code-status").textContent()}`);
      });
      // A file in a folder: the tree shows the folder, and the saved package holds the file.
      await page.getByLabel("File name").fill("lib/util.py");
      await page.getByRole("button", {name: "New file"}).click();
      await page.locator("#file-list li.dir", {hasText: "lib/"}).waitFor();
      await page.locator(".cm-content").click();
      await page.keyboard.insertText("VALUE = 42\n");
      await page.getByRole("button", {name: "Save", exact: true}).click();
      await page.locator("#code-status", {hasText: "Saved and deployed"}).waitFor({timeout: 30000});
      const pkg = path.join(f.tmp, "pkg.zip");
      fs.writeFileSync(pkg, Buffer.from(await (await fetch(awsJson("lambda", "get-function", "--function-name", "hello-console").Code.Location)).arrayBuffer()));
      assert.equal(execFileSync("unzip", ["-p", pkg, "lib/util.py"]).toString(), "VALUE = 42\n");

      // Test: the new code's answer, the REPORT figures and the log line.
      await page.getByRole("tab", {name: "Test"}).click();
      await page.getByLabel("Test event template").selectOption("t:SQS");
      assert.match(await page.getByLabel("Event (JSON)").inputValue(), /aws:sqs/);
      await page.getByLabel("Event (JSON)").fill("{\"from\": \"the console\"}");
      await page.getByLabel("Event (JSON)").press("Control+Enter");
      await page.locator("#test-outcome", {hasText: "Succeeded, status 200"}).waitFor({timeout: 30000});
      assert.deepEqual(
          JSON.parse(await page.locator("#test-response").textContent()), {edited: true, input: {from: "the console"}});
      assert.match(await page.locator("#test-log").textContent(), /EDITED LINE/);
      assert.match(await page.locator("#test-figures").textContent(), /Billed Duration.*Max Memory Used/s);
      // A saved test event comes back after a reload.
      await page.getByLabel("Name of the test event").fill("mine");
      await page.getByRole("button", {name: "Save event"}).click();
      await page.reload();
      await page.getByLabel("Test event template").selectOption("s:mine");
      assert.equal(await page.getByLabel("Event (JSON)").inputValue(), "{\"from\": \"the console\"}");
      await shot(page, "test");

      // Configuration: memory and an environment variable, as the aws CLI then reads them.
      await page.getByRole("tab", {name: "Configuration"}).click();
      // A layer published with the aws CLI, added here.
      const layerZip = path.join(f.tmp, "layer.zip");
      fs.writeFileSync(layerZip, zipOf("python/helper.py", "X = 1\n"));
      const layerArn =
          awsJson(
              "lambda", "publish-layer-version", "--layer-name", "console-layer", "--zip-file", "fileb://" + layerZip)
              .LayerVersionArn;
      await page.reload();
      await page.getByLabel("Layer to add").selectOption(layerArn);
      await page.getByRole("button", {name: "Add layer"}).click();
      await page.getByLabel("Memory (MB)").fill("256");
      await page.getByRole("button", {name: "Add variable"}).click();
      await page.getByLabel("Variable name").last().fill("STAGE");
      await page.getByLabel("Variable value").last().fill("console");
      await page.getByRole("button", {name: "Save", exact: true}).click();
      await page.locator("#cfg-status", {hasText: /^Saved$/}).waitFor({timeout: 30000});
      const cfg = awsJson("lambda", "get-function-configuration", "--function-name", "hello-console");
      assert.equal(cfg.MemorySize, 256);
      assert.deepEqual(cfg.Environment.Variables, {STAGE: "console"});
      assert.deepEqual(cfg.Layers.map((l) => l.Arn), [layerArn]);
      await page.locator(`#cfg-layers li[data-arn="${layerArn}"]`).waitFor();
      // Asynchronous invocation and triggers (on the same tab): retries, a destination queue, and a
      // function URL, each as the aws CLI then reads it.
      awsJson("sqs", "create-queue", "--queue-name", "console-failures");
      await page.getByLabel("Retry attempts").fill("1");
      await page.getByLabel("On-failure destination").fill("arn:aws:sqs:us-east-1:000000000000:console-failures");
      await page.getByRole("button", {name: "Save asynchronous settings"}).click();
      // As on AWS, the execution role must be allowed to send there: the API's refusal, then again.
      await page.locator("#async-status.error", {hasText: "does not have permissions to call SendMessage"}).waitFor({
        timeout: 30000
      });
      awsJson(
          "iam", "put-role-policy", "--role-name", "lambda-role", "--policy-name", "failures", "--policy-document",
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [{
              Effect: "Allow",
              Action: ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
              Resource: "*"
            }]
          }));
      await page.getByRole("button", {name: "Save asynchronous settings"}).click();
      await page.locator("#async-status", {hasText: /^Saved$/}).waitFor({timeout: 30000}).catch(async (e) => {
        throw new Error(`${e.message}\nstatus: ${await page.locator("#async-status").textContent()}`);
      });
      const invokeConfig = awsJson("lambda", "get-function-event-invoke-config", "--function-name", "hello-console");
      assert.equal(invokeConfig.MaximumRetryAttempts, 1);
      assert.equal(
          invokeConfig.DestinationConfig.OnFailure.Destination, "arn:aws:sqs:us-east-1:000000000000:console-failures");
      await page.getByLabel("Function URL auth type").selectOption("AWS_IAM");
      await page.getByRole("button", {name: "Create function URL"}).click();
      await page.locator("#function-url-link").waitFor({timeout: 15000});
      assert.equal(
          await page.locator("#function-url-link").textContent(),
          awsJson("lambda", "get-function-url-config", "--function-name", "hello-console").FunctionUrl);
      // An event source mapping made with the aws CLI is listed, and disabled from here.
      awsJson("sqs", "create-queue", "--queue-name", "console-source");
      const uuid = awsJson(
                       "lambda", "create-event-source-mapping", "--function-name", "hello-console",
                       "--event-source-arn", "arn:aws:sqs:us-east-1:000000000000:console-source")
                       .UUID;
      await page.reload();
      const mapping = page.locator(`#mappings tr[data-uuid="${uuid}"]`);
      await mapping.getByRole("button", {name: "Disable"}).click({timeout: 15000});
      await mapping.getByRole("button", {name: "Enable"}).waitFor({timeout: 15000});
      assert.match(awsJson("lambda", "get-event-source-mapping", "--uuid", uuid).State, /^Disabl/);
      await shot(page, "configuration");

      // Versions and aliases.
      await page.getByRole("tab", {name: "Versions and aliases"}).click();
      await page.getByRole("button", {name: "Publish new version"}).click();
      await page.locator("#versions-status", {hasText: "Published version 1"}).waitFor({timeout: 15000});
      await page.getByLabel("Alias name").fill("live");
      await page.getByLabel("Version", {exact: true}).selectOption("1");
      await page.getByRole("button", {name: "Create alias"}).click();
      await page.locator("#aliases tr[data-alias=\"live\"]", {hasText: "version 1 100%"}).waitFor({timeout: 15000});
      assert.equal(
          awsJson("lambda", "get-alias", "--function-name", "hello-console", "--name", "live").FunctionVersion, "1");
      // Provisioned concurrency on the alias: set, ready, as the aws CLI sees it; then removed.
      await page.getByLabel("Provisioned concurrency of live").fill("1");
      await page.locator("#aliases tr[data-alias=\"live\"]").getByRole("button", {name: "Set"}).click();
      await page.locator("#aliases tr[data-alias=\"live\"] .pc-state", {hasText: "1 of 1 ready (READY)"}).waitFor({
        timeout: 30000
      });
      assert.equal(
          awsJson(
              "lambda", "get-provisioned-concurrency-config", "--function-name", "hello-console", "--qualifier", "live")
              .Status,
          "READY");
      await shot(page, "versions");
      await page.getByLabel("Provisioned concurrency of live").fill("0");
      await page.locator("#aliases tr[data-alias=\"live\"]").getByRole("button", {name: "Set"}).click();
      await page.locator("#aliases tr[data-alias=\"live\"] .pc-state", {hasText: "none"}).waitFor({timeout: 15000});

      // Monitoring: the test invocation counted, from the CloudWatch API.
      await page.getByRole("tab", {name: "Monitoring"}).click();
      await page.locator("#chart-invocations canvas").waitFor({timeout: 15000}).catch(async (e) => {
        throw new Error(`${e.message}\npanel: ${await page.locator("#tab-panel").textContent()}`);
      });
      assert.ok(Number(await page.locator("#chart-invocations").getAttribute("data-total")) >= 1);
      assert.match(await page.locator("#metrics-status").textContent(), /^[1-9]\d* invocations? in the last 1 hour/);
      await shot(page, "monitoring");

      // Logs: the function's line, a filter pattern, and a live tail that shows a new invocation.
      await page.getByRole("tab", {name: "Logs"}).click();
      await page.locator("#log-events li", {hasText: "EDITED LINE"}).first().waitFor({timeout: 15000});
      await page.getByLabel("Filter pattern").fill("START");
      await page.getByRole("button", {name: "Search"}).click();
      await page.locator("#logs-status", {hasText: /^\d+ events in \/aws\/lambda\/hello-console$/}).waitFor();
      for (const text of await page.locator("#log-events li").allTextContents()) assert.match(text, /START/);
      await page.getByLabel("Filter pattern").fill("");
      await page.getByRole("button", {name: "Search"}).click();
      await page.locator("#logs-status", {hasText: /^\d+ events in/}).waitFor();
      const edited = page.locator("#log-events li", {hasText: "EDITED LINE"});
      const before = await edited.count();
      await page.getByRole("button", {name: "Live tail"}).click();
      awsJson(
          "lambda", "invoke", "--function-name", "hello-console", "--cli-binary-format", "raw-in-base64-out",
          "--payload", "{}", path.join(f.tmp, "tail-out.json"));
      await page.locator("#logs-status", {hasText: /Live tail: \d+ new events/}).waitFor({timeout: 30000});
      await edited.nth(before).waitFor({timeout: 30000});
      await shot(page, "logs");
      await page.getByRole("button", {name: "Stop live tail"}).click();
      // A Ruby function from its SQS blueprint answers a test event in the SQS shape.
      await page.getByRole("link", {name: "Create function"}).click();
      await page.getByLabel("Function name").fill("ruby-console");
      await page.getByLabel("Runtime").selectOption("ruby3.2");
      await page.getByLabel("Blueprint").selectOption("sqs");
      await page.getByRole("button", {name: "Create function"}).click();
      await page.locator(".cm-content", {hasText: "batchItemFailures"}).waitFor({timeout: 15000});
      await page.getByRole("tab", {name: "Test"}).click();
      await page.getByLabel("Test event template").selectOption("t:SQS");
      await page.getByRole("button", {name: "Invoke"}).click();
      await page.locator("#test-outcome", {hasText: "Succeeded, status 200"}).waitFor({timeout: 30000});
      assert.deepEqual(JSON.parse(await page.locator("#test-response").textContent()), {batchItemFailures: []});
      assert.match(
          await page.locator("#test-log").textContent(),
          /message 059f36b4-87a3-44ab-83d2-661975830a7d Hello from SQS!/);
      await page.getByRole("button", {name: "Sign out"}).click();

      // A user with AWS's ReadOnlyAccess sees the code, and AWS's access-denied message on Save.
      awsJson("iam", "create-user", "--user-name", "reader");
      awsJson(
          "iam", "attach-user-policy", "--user-name", "reader", "--policy-arn",
          "arn:aws:iam::aws:policy/ReadOnlyAccess");
      const key = awsJson("iam", "create-access-key", "--user-name", "reader").AccessKey;
      await signIn(page, key.AccessKeyId, key.SecretAccessKey);
      await page.locator("#functions tbody tr").first().waitFor({timeout: 15000});
      await page.goto(f.config.endpoint + "/#/functions/hello-console/code");
      await page.locator(".cm-content", {hasText: "EDITED LINE"}).waitFor({timeout: 15000});
      await page.locator(".cm-content").click();
      await page.keyboard.press("End");
      await page.keyboard.insertText("# more");
      await page.getByRole("button", {name: "Save", exact: true}).click();
      await page.locator("#code-status.error", {hasText: /not authorized to perform: lambda:UpdateFunctionCode/})
          .waitFor({timeout: 15000});
      // Chromium's own editing code (no script source) tries style attributes inside the editor when
      // text is inserted natively into its contenteditable; the policy refuses them and CodeMirror
      // redraws its lines anyway (the saved code above is what was typed). Everything else counts.
      const nativeEditing = /^CSP violation: style-src-attr by <div class="editor" id="editor"><\/div> \(:0\)$/;
      const violations = problems.filter((p) => p.startsWith("CSP violation"));
      const onlyNative = violations.length > 0 && violations.every((p) => nativeEditing.test(p));
      const chromiumsLine = /^Applying inline style violates .*style attributes/;  // its console line for the same
      assert.deepEqual(
          problems.filter(
              (p) => !/Failed to load resource|403|401/.test(p) && !nativeEditing.test(p) &&
                  !(onlyNative && chromiumsLine.test(p))),
          []);
      await context.close();
    });

test("queues: create, send, poll, delete, purge; a message sent by the aws CLI shows up", {skip}, async () => {
  const {context, page, problems} = await openPage();
  await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
  await page.getByRole("link", {name: "Queues"}).click();
  await page.getByLabel("New queue").fill("console-q");
  await page.getByRole("button", {name: "Create queue"}).click();
  await page.locator("#queue-attributes").getByText("VisibilityTimeout").waitFor({timeout: 15000});
  await page.getByLabel("Message body").fill("hello from the console");
  await page.getByRole("button", {name: "Send message"}).click();
  await page.locator("#queue-status", {hasText: /^Sent /}).waitFor({timeout: 15000});
  const url = awsJson("sqs", "get-queue-url", "--queue-name", "console-q").QueueUrl;
  awsJson("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli");
  await page.getByRole("button", {name: "Poll for messages"}).click();
  await page.locator("#queue-status", {hasText: "Received 2 messages"}).waitFor({timeout: 15000});
  assert.deepEqual(
      (await page.locator("#queue-messages pre").allTextContents()).sort(), ["from the cli", "hello from the console"]);
  await shot(page, "queue");
  // Delete one; the other comes back after its visibility timeout, then Purge empties the queue.
  await page.locator("#queue-messages li", {hasText: "from the cli"}).getByRole("button", {name: "Delete"}).click();
  await page.locator("#queue-status", {hasText: /^Deleted /}).waitFor();
  awsJson("sqs", "set-queue-attributes", "--queue-url", url, "--attributes", "VisibilityTimeout=0");
  await page.getByRole("button", {name: "Purge"}).click();
  await page.locator("#queue-status", {hasText: "Purged"}).waitFor({timeout: 15000});
  const left = awsJson("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All").Attributes;
  assert.equal(Number(left.ApproximateNumberOfMessages) + Number(left.ApproximateNumberOfMessagesNotVisible), 0);
  // The list.
  await page.getByRole("link", {name: "Queues", exact: true}).first().click();
  await page.locator("#queues tr[data-queue=\"console-q\"]").waitFor({timeout: 15000});
  assert.deepEqual(problems.filter((p) => !/Failed to load resource|403|401/.test(p)), []);
  await context.close();
});

test("buckets: create, upload with progress, folders, download, delete", {skip}, async () => {
  const {context, page, problems} = await openPage({acceptDownloads: true});
  await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
  await page.getByRole("link", {name: "Buckets"}).click();
  await page.getByLabel("New bucket").fill("console-bucket");
  await page.getByRole("button", {name: "Create bucket"}).click();
  await page.locator("#objects-status", {hasText: "0 items"}).waitFor({timeout: 15000});
  const payload = Buffer.alloc(300 * 1024, "x");
  await page.getByLabel("Upload files").setInputFiles({name: "big.txt", mimeType: "text/plain", buffer: payload});
  await page.locator("#objects-status", {hasText: "Uploaded 1 file"}).waitFor({timeout: 30000});
  assert.equal(await page.locator("#upload-progress").getAttribute("value"), "100");
  const head = awsJson("s3api", "head-object", "--bucket", "console-bucket", "--key", "big.txt");
  assert.equal((head.ContentLength), payload.length);
  assert.equal(head.ContentType, "text/plain");
  // An object in a "folder", put by the aws CLI: the folder, then the object inside it.
  const local = path.join(f.tmp, "readme.txt");
  fs.writeFileSync(local, "read me");
  awsJson("s3api", "put-object", "--bucket", "console-bucket", "--key", "docs/readme.txt", "--body", local);
  await page.reload();
  await page.locator("#objects tr[data-key=\"docs/\"] a").click({timeout: 15000});
  await page.locator("#objects tr[data-key=\"docs/readme.txt\"]").waitFor({timeout: 15000});
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#objects tr[data-key=\"docs/readme.txt\"]").getByRole("button", {name: "Download"}).click(),
  ]);
  assert.equal(fs.readFileSync(await download.path(), "utf8"), "read me");
  await shot(page, "bucket");
  await page.locator("#objects tr[data-key=\"docs/readme.txt\"]").getByRole("button", {name: "Delete"}).click();
  await page.locator("#objects-status", {hasText: "0 items"}).waitFor({timeout: 15000});
  assert.deepEqual(problems.filter((p) => !/Failed to load resource|403|401|404/.test(p)), []);
  await context.close();
});

// A queue whose policy lets `service` send to it; its URL.
function queueFor(name, service) {
  const url = awsJson("sqs", "create-queue", "--queue-name", name).QueueUrl;
  const policy = {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: {Service: service},
      Action: "sqs:SendMessage",
      Resource: `arn:aws:sqs:us-east-1:000000000000:${name}`
    }]
  };
  awsJson(
      "sqs", "set-queue-attributes", "--queue-url", url, "--attributes",
      JSON.stringify({Policy: JSON.stringify(policy)}));
  return url;
}

function receiveOne(url) {
  for (let i = 0; i < 20; i++) {
    const r = awsJson("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "1");
    if (r.Messages?.length) return r.Messages[0];
  }
  return null;
}

test(
    "topics and rules: subscribe a queue and publish; a rule with a queue target and a test event", {skip},
    async () => {
      const {context, page, problems} = await openPage();
      await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
      // A topic with a queue subscribed, and a message published from the console.
      const subUrl = queueFor("console-sub-q", "sns.amazonaws.com");
      await page.getByRole("link", {name: "Topics"}).click();
      await page.getByLabel("New topic").fill("console-topic");
      await page.getByRole("button", {name: "Create topic"}).click();
      await page.getByLabel("Protocol").selectOption("sqs");
      await page.getByLabel("Endpoint").fill("arn:aws:sqs:us-east-1:000000000000:console-sub-q");
      await page.getByRole("button", {name: "Subscribe"}).click();
      await page
          .locator(
              "#subscriptions tr[data-endpoint=\"arn:aws:sqs:us-east-1:000000000000:console-sub-q\"]",
              {hasText: "confirmed"})
          .waitFor({timeout: 15000});
      await page.getByLabel("Subject").fill("hello");
      await page.getByLabel("Message", {exact: true}).fill("from the console topic");
      await page.getByRole("button", {name: "Publish message"}).click();
      await page.locator("#topic-status", {hasText: /^Published /}).waitFor({timeout: 15000});
      const envelope = JSON.parse(receiveOne(subUrl).Body);
      assert.deepEqual(
          [envelope.Type, envelope.Subject, envelope.Message], ["Notification", "hello", "from the console topic"]);
      await shot(page, "topic");

      // A rule on the default bus with a queue target, fed a test event from the console.
      const ruleUrl = queueFor("console-rule-q", "events.amazonaws.com");
      await page.getByRole("link", {name: "Rules"}).click();
      await page.getByLabel("New rule").fill("console-rule");
      await page.getByLabel("Pattern or schedule expression").fill("{\"source\": [\"console.test\"]}");
      await page.getByRole("button", {name: "Create rule"}).click();
      await page.locator("#rule-state", {hasText: "ENABLED"}).waitFor({timeout: 15000});
      await page.getByLabel("Target ARN").fill("arn:aws:sqs:us-east-1:000000000000:console-rule-q");
      await page.getByRole("button", {name: "Add target"}).click();
      await page.locator("#targets tr[data-target=\"target-1\"]").waitFor({timeout: 15000});
      await page.getByLabel("Source").fill("console.test");
      await page.getByRole("button", {name: "Send event"}).click();
      await page.locator("#rule-status", {hasText: /^Sent event /}).waitFor({timeout: 15000});
      const event = JSON.parse(receiveOne(ruleUrl).Body);
      assert.deepEqual(
          [event.source, event["detail-type"], event.detail],
          ["console.test", "Console Test", {hello: "from the console"}]);
      await shot(page, "rule");
      await page.getByRole("button", {name: "Disable"}).click();
      await page.locator("#rule-state", {hasText: "DISABLED"}).waitFor({timeout: 15000});

      // A function wired to the topic, the rule and a bucket (with the aws CLI) lists all three among
      // its triggers.
      const lambda = new LambdaClient(f.config);
      await lambda.send(new CreateFunctionCommand({
        FunctionName: "trigger-fn",
        Runtime: "python3.11",
        Handler: "app.handler",
        Role: "arn:aws:iam::000000000000:role/lambda-role",
        Code: {ZipFile: zipOf("app.py", "def handler(e, c):\n    return e\n")}
      }));
      const fnArn = "arn:aws:lambda:us-east-1:000000000000:function:trigger-fn";
      const topicArn = "arn:aws:sns:us-east-1:000000000000:console-topic";
      for (const [principal, source, id] of [
               ["sns.amazonaws.com", topicArn, "sns"],
               ["events.amazonaws.com", "arn:aws:events:us-east-1:000000000000:rule/console-rule", "events"],
               ["s3.amazonaws.com", "arn:aws:s3:::trigger-bucket", "s3"]]) {
        awsJson(
            "lambda", "add-permission", "--function-name", "trigger-fn", "--statement-id", id, "--action",
            "lambda:InvokeFunction", "--principal", principal, "--source-arn", source);
      }
      awsJson("sns", "subscribe", "--topic-arn", topicArn, "--protocol", "lambda", "--notification-endpoint", fnArn);
      awsJson("events", "put-targets", "--rule", "console-rule", "--targets", JSON.stringify([{Id: "fn", Arn: fnArn}]));
      awsJson("s3api", "create-bucket", "--bucket", "trigger-bucket");
      awsJson(
          "s3api", "put-bucket-notification-configuration", "--bucket", "trigger-bucket",
          "--notification-configuration", JSON.stringify({
            LambdaFunctionConfigurations: [{
              LambdaFunctionArn: fnArn,
              Events: ["s3:ObjectCreated:*"],
              Filter: {Key: {FilterRules: [{Name: "prefix", Value: "in/"}]}}
            }]
          }));
      await page.goto(f.config.endpoint + "/#/functions/trigger-fn/configuration");
      await page.locator("#other-triggers[data-loaded=\"true\"]").waitFor({timeout: 30000});
      assert.deepEqual((await page.locator("#other-triggers li").allTextContents()).sort(), [
        "EventBridge rule console-rule (bus default)",
        "S3 bucket trigger-bucket: s3:ObjectCreated:* (prefix in/)",
        `SNS topic ${topicArn}`,
      ]);
      assert.equal(awsJson("events", "describe-rule", "--name", "console-rule").State, "DISABLED");
      assert.deepEqual(problems.filter((p) => !/Failed to load resource|403|401|404/.test(p)), []);
      await context.close();
    });

test("the layout holds from 1280 px down to a 1024 px laptop screen: no page scrolls sideways", {skip}, async () => {
  const pages = [
    "#/functions", "#/create", "#/functions/hello-console/code", "#/functions/hello-console/test",
    "#/functions/hello-console/configuration", "#/functions/hello-console/versions",
    "#/functions/hello-console/monitoring", "#/functions/hello-console/logs", "#/queues", "#/queues/console-q",
    "#/buckets", "#/buckets/console-bucket", "#/topics", "#/topics/console-topic", "#/rules", "#/rules/console-rule"
  ];
  for (const width of [1280, 1024]) {
    const context = await browser.newContext({viewport: {width, height: 720}});
    const page = await context.newPage();
    await signIn(page, f.rootKey.accessKeyId, f.rootKey.secretAccessKey);
    await page.locator("#functions tbody tr").first().waitFor({timeout: 15000});
    for (const hash of pages) {
      await page.goto(f.config.endpoint + "/" + hash);
      await page.waitForLoadState("networkidle");
      const [scroll, client] =
          await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scroll <= client, `${hash} at ${width} px: ${scroll} px wide in ${client}`);
    }
    await context.close();
  }
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

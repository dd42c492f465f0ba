// EventBridge with the AWS SDK for JavaScript v3: a rule with a pattern and an input transformer,
// PutEvents with per-entry errors, the matching events received through SQS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fixture } from "./server.mjs";
import {
  EventBridgeClient, PutRuleCommand, PutTargetsCommand, PutEventsCommand, TestEventPatternCommand,
  DescribeRuleCommand, ResourceNotFoundException,
} from "@aws-sdk/client-eventbridge";
import { SQSClient, CreateQueueCommand, SetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";

const f = fixture("lambent-js-events-");
let events, sqs;

before(async () => {
  await f.start();
  events = new EventBridgeClient(f.config);
  sqs = new SQSClient(f.config);
});

after(() => f.stop());

test("rules, targets and PutEvents with the JS SDK v3", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-events" }));
  const queueArn = "arn:aws:sqs:us-east-1:000000000000:js-events";
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify({
    Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage", Resource: queueArn }] }) } }));
  const { RuleArn } = await events.send(new PutRuleCommand({ Name: "js-rule",
    EventPattern: JSON.stringify({ source: ["js.app"], detail: { level: [{ "equals-ignore-case": "error" }] } }) }));
  assert.match(RuleArn, /:rule\/js-rule$/);
  const put = await events.send(new PutTargetsCommand({ Rule: "js-rule", Targets: [{ Id: "q", Arn: queueArn,
    InputTransformer: { InputPathsMap: { m: "$.detail.message" }, InputTemplate: '{"alert": <m>}' } }] }));
  assert.equal(put.FailedEntryCount, 0);
  const r = await events.send(new PutEventsCommand({ Entries: [
    { Source: "js.app", DetailType: "log", Detail: JSON.stringify({ level: "ERROR", message: "disk full" }) },
    { Source: "js.app", DetailType: "log", Detail: JSON.stringify({ level: "info", message: "fine" }) },
    { Source: "js.app", DetailType: "log", Detail: "not json" },
  ] }));
  assert.equal(r.FailedEntryCount, 1);
  assert.equal(r.Entries[2].ErrorCode, "MalformedDetail");
  assert.match(r.Entries[0].EventId, /^[0-9a-f-]{36}$/);
  const bodies = [];
  for (let i = 0; i < 10 && bodies.length < 1; i++) {
    const m = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const x of m.Messages ?? []) bodies.push(JSON.parse(x.Body));
  }
  assert.deepEqual(bodies, [{ alert: "disk full" }]);
  const t = await events.send(new TestEventPatternCommand({ EventPattern: JSON.stringify({ source: ["a"] }),
    Event: JSON.stringify({ id: "1", account: "000000000000", source: "a", time: "2026-01-01T00:00:00Z",
      region: "us-east-1", resources: [], "detail-type": "x", detail: {} }) }));
  assert.equal(t.Result, true);
  await assert.rejects(events.send(new DescribeRuleCommand({ Name: "missing" })),
    (e) => e instanceof ResourceNotFoundException);
});

// SNS with the AWS SDK for JavaScript v3: a topic, an SQS subscription with a filter policy,
// Publish with message attributes and PublishBatch, received through the SQS client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fixture } from "./server.mjs";
import {
  SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand, PublishBatchCommand,
  GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, DeleteTopicCommand, NotFoundException,
} from "@aws-sdk/client-sns";
import {
  SQSClient, CreateQueueCommand, SetQueueAttributesCommand, ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";

const f = fixture("lambent-js-sns-");
let sns, sqs;

before(async () => {
  await f.start();
  sns = new SNSClient(f.config);
  sqs = new SQSClient(f.config);
});

after(() => f.stop());

test("topics, filtered subscriptions, Publish and PublishBatch with the JS SDK v3", async () => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "js-topic",
    Attributes: { DisplayName: "JS" }, Tags: [{ Key: "k", Value: "v" }] }));
  assert.match(TopicArn, /^arn:aws:sns:us-east-1:\d{12}:js-topic$/);
  const attrs = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
  assert.equal(attrs.Attributes.DisplayName, "JS");
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-sns-q" }));
  const queueArn = "arn:aws:sqs:us-east-1:000000000000:js-sns-q";
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify({
    Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "sns.amazonaws.com" },
      Action: "sqs:SendMessage", Resource: queueArn, Condition: { ArnEquals: { "aws:SourceArn": TopicArn } } }] }) } }));
  const sub = await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: queueArn,
    Attributes: { RawMessageDelivery: "true", FilterPolicy: JSON.stringify({ size: [{ numeric: [">", 10] }] }) },
    ReturnSubscriptionArn: true }));
  assert.ok(sub.SubscriptionArn.startsWith(TopicArn + ":"));
  const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
  assert.equal(listed.Subscriptions.length, 1);
  const one = await sns.send(new PublishCommand({ TopicArn, Message: "big",
    MessageAttributes: { size: { DataType: "Number", StringValue: "11" } } }));
  assert.match(one.MessageId, /^[0-9a-f-]{36}$/);
  await sns.send(new PublishCommand({ TopicArn, Message: "small",
    MessageAttributes: { size: { DataType: "Number", StringValue: "3" } } }));
  const batch = await sns.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: [
    { Id: "a", Message: "batch-big", MessageAttributes: { size: { DataType: "Number", StringValue: "99" } } },
    { Id: "b", Message: "" },
  ] }));
  assert.deepEqual(batch.Successful.map((s) => s.Id), ["a"]);
  assert.equal(batch.Failed[0].Id, "b");
  assert.equal(batch.Failed[0].Code, "InvalidParameter");
  const bodies = [];
  for (let i = 0; i < 10 && bodies.length < 2; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
      MessageAttributeNames: ["All"] }));
    for (const m of r.Messages ?? []) bodies.push(m);
  }
  assert.deepEqual(bodies.map((m) => m.Body).sort(), ["batch-big", "big"]);
  assert.equal(bodies[0].MessageAttributes.size.DataType, "Number");
  await sns.send(new DeleteTopicCommand({ TopicArn }));
  await assert.rejects(sns.send(new GetTopicAttributesCommand({ TopicArn })),
    (e) => e instanceof NotFoundException && e.$metadata.httpStatusCode === 404);
});

// Starting points for new functions, one set per runtime: a file name, the handler setting and
// the code. The same four shapes for each language: hello world, an SQS consumer (with partial
// batch failures), an S3 handler, and a function URL (payload format 2.0).
export interface Blueprint {
  id: string;
  title: string;
  file: string;
  handler: string;
  code: string;
}

const PY: Blueprint[] = [
  {
    id: "hello",
    title: "Hello world",
    file: "lambda_function.py",
    handler: "lambda_function.lambda_handler",
    code: `import json


def lambda_handler(event, context):
    print("received", json.dumps(event))
    return {"message": "Hello from Lambent!", "input": event}
`
  },
  {
    id: "sqs",
    title: "SQS consumer",
    file: "lambda_function.py",
    handler: "lambda_function.lambda_handler",
    code: `def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            print("message", record["messageId"], record["body"])
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
`
  },
  {
    id: "s3",
    title: "S3 handler",
    file: "lambda_function.py",
    handler: "lambda_function.lambda_handler",
    code: `import urllib.parse


def lambda_handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        print(record["eventName"], bucket, key, record["s3"]["object"].get("size"))
    return "ok"
`
  },
  {
    id: "url",
    title: "Function URL",
    file: "lambda_function.py",
    handler: "lambda_function.lambda_handler",
    code: `import json


def lambda_handler(event, context):
    http = event["requestContext"]["http"]
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"method": http["method"], "path": event["rawPath"]}),
    }
`
  },
];

const NODE: Blueprint[] = [
  {
    id: "hello",
    title: "Hello world",
    file: "index.mjs",
    handler: "index.handler",
    code: `export const handler = async (event) => {
  console.log("received", JSON.stringify(event));
  return { message: "Hello from Lambent!", input: event };
};
`
  },
  {
    id: "sqs",
    title: "SQS consumer",
    file: "index.mjs",
    handler: "index.handler",
    code: `export const handler = async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records) {
    try {
      console.log("message", record.messageId, record.body);
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
`
  },
  {
    id: "s3",
    title: "S3 handler",
    file: "index.mjs",
    handler: "index.handler",
    code: `export const handler = async (event) => {
  for (const record of event.Records) {
    const key = decodeURIComponent(record.s3.object.key.replace(/\\+/g, " "));
    console.log(record.eventName, record.s3.bucket.name, key, record.s3.object.size);
  }
  return "ok";
};
`
  },
  {
    id: "url",
    title: "Function URL",
    file: "index.mjs",
    handler: "index.handler",
    code: `export const handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ method: event.requestContext.http.method, path: event.rawPath }),
});
`
  },
];

const RUBY: Blueprint[] = [
  {
    id: "hello",
    title: "Hello world",
    file: "lambda_function.rb",
    handler: "lambda_function.lambda_handler",
    code: `require 'json'

def lambda_handler(event:, context:)
  puts "received #{JSON.generate(event)}"
  { message: 'Hello from Lambent!', input: event }
end
`
  },
  {
    id: "sqs",
    title: "SQS consumer",
    file: "lambda_function.rb",
    handler: "lambda_function.lambda_handler",
    code: `def lambda_handler(event:, context:)
  failures = []
  event['Records'].each do |record|
    puts "message #{record['messageId']} #{record['body']}"
  rescue StandardError
    failures << { itemIdentifier: record['messageId'] }
  end
  { batchItemFailures: failures }
end
`,
  },
  {
    id: "s3",
    title: "S3 handler",
    file: "lambda_function.rb",
    handler: "lambda_function.lambda_handler",
    code: `require 'cgi'

def lambda_handler(event:, context:)
  event['Records'].each do |record|
    key = CGI.unescape(record['s3']['object']['key'])
    puts "#{record['eventName']} #{record['s3']['bucket']['name']} #{key} #{record['s3']['object']['size']}"
  end
  'ok'
end
`,
  },
  {
    id: "url",
    title: "Function URL",
    file: "lambda_function.rb",
    handler: "lambda_function.lambda_handler",
    code: `require 'json'

def lambda_handler(event:, context:)
  http = event['requestContext']['http']
  { statusCode: 200, headers: { 'content-type' => 'application/json' },
    body: JSON.generate(method: http['method'], path: event['rawPath']) }
end
`,
  },
];

export const RUNTIMES: Record<string, Blueprint[]> = {
  "python3.11": PY,
  "nodejs20.x": NODE,
  "ruby3.2": RUBY,
};

/** Test event templates (Test tab), in the shapes Lambent's event sources deliver. */
export const TEST_EVENTS: Record<string, unknown> = {
  "Hello": {key1: "value1", key2: "value2"},
  "SQS": {
    Records: [{
      messageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
      receiptHandle: "AQEB...",
      body: "Hello from SQS!",
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1545082649183",
        SenderId: "000000000000",
        ApproximateFirstReceiveTimestamp: "1545082649185"
      },
      messageAttributes: {},
      md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:my-queue",
      awsRegion: "us-east-1"
    }]
  },
  "S3 put": {
    Records: [{
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2026-01-01T00:00:00.000Z",
      eventName: "ObjectCreated:Put",
      userIdentity: {principalId: "000000000000"},
      requestParameters: {sourceIPAddress: "127.0.0.1"},
      responseElements: {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
      },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "uploads",
        bucket: {name: "my-bucket", ownerIdentity: {principalId: "000000000000"}, arn: "arn:aws:s3:::my-bucket"},
        object: {
          key: "photos/cat.jpg",
          size: 1024,
          eTag: "d41d8cd98f00b204e9800998ecf8427e",
          sequencer: "0A1B2C3D4E5F678901"
        }
      }
    }]
  },
  "SNS": {
    Records: [{
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:us-east-1:000000000000:my-topic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
      Sns: {
        Type: "Notification",
        MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        TopicArn: "arn:aws:sns:us-east-1:000000000000:my-topic",
        Subject: "example subject",
        Message: "example message",
        Timestamp: "2026-01-01T00:00:00.000Z",
        SignatureVersion: "1",
        Signature: "EXAMPLE",
        SigningCertUrl: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
        UnsubscribeUrl: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        MessageAttributes: {}
      }
    }]
  },
  "Scheduled event": {
    version: "0",
    id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "000000000000",
    time: "2026-01-01T00:00:00Z",
    region: "us-east-1",
    resources: ["arn:aws:events:us-east-1:000000000000:rule/my-schedule"],
    detail: {}
  },
  "Function URL request": {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/my/path",
    rawQueryString: "a=1",
    cookies: [],
    headers: {"content-type": "application/json", host: "example.lambda-url.us-east-1.on.aws"},
    queryStringParameters: {a: "1"},
    requestContext: {
      accountId: "anonymous",
      apiId: "example",
      domainName: "example.lambda-url.us-east-1.on.aws",
      domainPrefix: "example",
      http: {method: "POST", path: "/my/path", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "console"},
      requestId: "id",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 1767225600000
    },
    body: "{\"hello\":\"world\"}",
    isBase64Encoded: false
  },
};

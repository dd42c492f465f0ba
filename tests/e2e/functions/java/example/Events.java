package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.S3Event;
import com.amazonaws.services.lambda.runtime.events.SNSEvent;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import com.amazonaws.services.lambda.runtime.events.models.s3.S3EventNotification;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Handlers taking AWS's event classes, fed by Lambent's real event sources; each logs what it read
 * as "<KIND> <json>" for the test to read back through CloudWatch Logs.
 */
public class Events {
  /** A JSON object from key, value pairs (strings, numbers, booleans, null). */
  static String json(Object... kv) {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < kv.length; i += 2) {
      if (i > 0) b.append(',');
      b.append('"').append(kv[i]).append("\":");
      Object v = kv[i + 1];
      if (v == null || v instanceof Number || v instanceof Boolean) {
        b.append(v);
      } else {
        b.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      }
    }
    return b.append('}').toString();
  }

  public SQSBatchResponse sqs(SQSEvent event, Context context) {
    List<SQSBatchResponse.BatchItemFailure> failures = new ArrayList<>();
    for (SQSEvent.SQSMessage m : event.getRecords()) {
      SQSEvent.MessageAttribute color = m.getMessageAttributes().get("color");
      context.getLogger().log("SQS "
          + json("id", m.getMessageId(), "body", m.getBody(), "arn", m.getEventSourceArn(),
              "source", m.getEventSource(), "receives",
              m.getAttributes().get("ApproximateReceiveCount"), "color",
              color == null ? null : color.getStringValue(), "md5", m.getMd5OfBody())
          + "\n");
      if (m.getBody().equals("fail")
          && m.getAttributes().get("ApproximateReceiveCount").equals("1")) {
        failures.add(new SQSBatchResponse.BatchItemFailure(m.getMessageId()));
      }
    }
    return new SQSBatchResponse(failures);
  }

  public void sns(SNSEvent event, Context context) {
    SNSEvent.SNS sns = event.getRecords().get(0).getSNS();
    context.getLogger().log("SNS "
        + json("subject", sns.getSubject(), "message", sns.getMessage(), "topic", sns.getTopicArn(),
            "millis", sns.getTimestamp().getMillis(), "type", sns.getType(), "attr",
            sns.getMessageAttributes().get("kind").getValue(), "subscription",
            event.getRecords().get(0).getEventSubscriptionArn())
        + "\n");
  }

  public String s3(S3Event event, Context context) {
    S3EventNotification.S3EventNotificationRecord r = event.getRecords().get(0);
    context.getLogger().log("S3 "
        + json("event", r.getEventName(), "bucket", r.getS3().getBucket().getName(), "key",
            r.getS3().getObject().getUrlDecodedKey(), "size", r.getS3().getObject().getSizeAsLong(),
            "etag", r.getS3().getObject().geteTag(), "millis", r.getEventTime().getMillis(),
            "requestId", r.getResponseElements().getxAmzRequestId())
        + "\n");
    return "ok";
  }

  public String bus(ScheduledEvent event, Context context) {
    context.getLogger().log("BUS "
        + json("detailType", event.getDetailType(), "source", event.getSource(), "millis",
            event.getTime().getMillis(), "k", event.getDetail().get("k"), "resources",
            event.getResources().size())
        + "\n");
    return "ok";
  }

  public APIGatewayV2HTTPResponse url(APIGatewayV2HTTPEvent event, Context context) {
    return APIGatewayV2HTTPResponse.builder()
        .withStatusCode(201)
        .withHeaders(Collections.singletonMap("x-path", event.getRawPath()))
        .withBody(json("method", event.getRequestContext().getHttp().getMethod(), "q",
            event.getQueryStringParameters().get("q"), "body", event.getBody()))
        .build();
  }
}

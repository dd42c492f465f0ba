package com.amazonaws.services.lambda.runtime.events;

import com.amazonaws.services.lambda.runtime.events.models.s3.S3EventNotification;
import java.util.List;

/** A bucket notification delivered to a function, as in aws-lambda-java-events. */
public class S3Event extends S3EventNotification {
  public S3Event() {}

  public S3Event(List<S3EventNotificationRecord> records) { super(records); }
}

package com.amazonaws.services.lambda.runtime.events;

import java.util.List;
import java.util.Map;
import org.joda.time.DateTime;

/** A topic's delivery to a function, as in aws-lambda-java-events. */
public class SNSEvent {
  private List<SNSRecord> records;

  public List<SNSRecord> getRecords() { return records; }

  public void setRecords(List<SNSRecord> records) { this.records = records; }

  public static class MessageAttribute {
    private String type;
    private String value;

    public String getType() { return type; }

    public void setType(String v) { type = v; }

    public String getValue() { return value; }

    public void setValue(String v) { value = v; }
  }

  public static class SNS {
    private Map<String, MessageAttribute> messageAttributes;
    private String signingCertUrl;
    private String messageId;
    private String message;
    private String subject;
    private String unsubscribeUrl;
    private String type;
    private String signatureVersion;
    private String signature;
    private DateTime timestamp;
    private String topicArn;

    public Map<String, MessageAttribute> getMessageAttributes() { return messageAttributes; }

    public void setMessageAttributes(Map<String, MessageAttribute> v) { messageAttributes = v; }

    public String getSigningCertUrl() { return signingCertUrl; }

    public void setSigningCertUrl(String v) { signingCertUrl = v; }

    public String getMessageId() { return messageId; }

    public void setMessageId(String v) { messageId = v; }

    public String getMessage() { return message; }

    public void setMessage(String v) { message = v; }

    public String getSubject() { return subject; }

    public void setSubject(String v) { subject = v; }

    public String getUnsubscribeUrl() { return unsubscribeUrl; }

    public void setUnsubscribeUrl(String v) { unsubscribeUrl = v; }

    public String getType() { return type; }

    public void setType(String v) { type = v; }

    public String getSignatureVersion() { return signatureVersion; }

    public void setSignatureVersion(String v) { signatureVersion = v; }

    public String getSignature() { return signature; }

    public void setSignature(String v) { signature = v; }

    public DateTime getTimestamp() { return timestamp; }

    public void setTimestamp(DateTime v) { timestamp = v; }

    public String getTopicArn() { return topicArn; }

    public void setTopicArn(String v) { topicArn = v; }
  }

  public static class SNSRecord {
    private SNS sns;
    private String eventVersion;
    private String eventSource;
    private String eventSubscriptionArn;

    public SNS getSNS() { return sns; }

    public void setSns(SNS v) { sns = v; }

    public String getEventVersion() { return eventVersion; }

    public void setEventVersion(String v) { eventVersion = v; }

    public String getEventSource() { return eventSource; }

    public void setEventSource(String v) { eventSource = v; }

    public String getEventSubscriptionArn() { return eventSubscriptionArn; }

    public void setEventSubscriptionArn(String v) { eventSubscriptionArn = v; }
  }
}

package com.amazonaws.services.lambda.runtime.events.models.s3;

import java.io.UnsupportedEncodingException;
import java.net.URLDecoder;
import java.util.List;
import org.joda.time.DateTime;

/** The S3 event notification document, as in aws-lambda-java-events (models.s3). */
public class S3EventNotification {
  private List<S3EventNotificationRecord> records;

  public S3EventNotification() {}

  public S3EventNotification(List<S3EventNotificationRecord> records) { this.records = records; }

  public List<S3EventNotificationRecord> getRecords() { return records; }

  public void setRecords(List<S3EventNotificationRecord> records) { this.records = records; }

  public static class UserIdentityEntity {
    private String principalId;

    public UserIdentityEntity() {}

    public UserIdentityEntity(String principalId) { this.principalId = principalId; }

    public String getPrincipalId() { return principalId; }

    public void setPrincipalId(String v) { principalId = v; }
  }

  public static class S3BucketEntity {
    private String name;
    private UserIdentityEntity ownerIdentity;
    private String arn;

    public S3BucketEntity() {}

    public S3BucketEntity(String name, UserIdentityEntity ownerIdentity, String arn) {
      this.name = name;
      this.ownerIdentity = ownerIdentity;
      this.arn = arn;
    }

    public String getName() { return name; }

    public void setName(String v) { name = v; }

    public UserIdentityEntity getOwnerIdentity() { return ownerIdentity; }

    public void setOwnerIdentity(UserIdentityEntity v) { ownerIdentity = v; }

    public String getArn() { return arn; }

    public void setArn(String v) { arn = v; }
  }

  public static class S3ObjectEntity {
    private String key;
    private Long size;
    private String eTag;
    private String versionId;
    private String sequencer;

    public S3ObjectEntity() {}

    public S3ObjectEntity(String key, Long size, String eTag, String versionId, String sequencer) {
      this.key = key;
      this.size = size;
      this.eTag = eTag;
      this.versionId = versionId;
      this.sequencer = sequencer;
    }

    public String getKey() { return key; }

    public void setKey(String v) { key = v; }

    /** The key as S3 encodes it in notifications (form-encoded), decoded. */
    public String getUrlDecodedKey() {
      if (key == null) return null;
      try {
        return URLDecoder.decode(key, "UTF-8");
      } catch (UnsupportedEncodingException e) {
        throw new IllegalStateException(e);
      }
    }

    public Long getSizeAsLong() { return size; }

    public Long getSize() { return size; }

    public void setSize(Long v) { size = v; }

    public String geteTag() { return eTag; }

    public void seteTag(String v) { eTag = v; }

    public String getVersionId() { return versionId; }

    public void setVersionId(String v) { versionId = v; }

    public String getSequencer() { return sequencer; }

    public void setSequencer(String v) { sequencer = v; }
  }

  public static class S3Entity {
    private String configurationId;
    private S3BucketEntity bucket;
    private S3ObjectEntity object;
    private String s3SchemaVersion;

    public S3Entity() {}

    public S3Entity(String configurationId, S3BucketEntity bucket, S3ObjectEntity object,
        String s3SchemaVersion) {
      this.configurationId = configurationId;
      this.bucket = bucket;
      this.object = object;
      this.s3SchemaVersion = s3SchemaVersion;
    }

    public String getConfigurationId() { return configurationId; }

    public void setConfigurationId(String v) { configurationId = v; }

    public S3BucketEntity getBucket() { return bucket; }

    public void setBucket(S3BucketEntity v) { bucket = v; }

    public S3ObjectEntity getObject() { return object; }

    public void setObject(S3ObjectEntity v) { object = v; }

    public String getS3SchemaVersion() { return s3SchemaVersion; }

    public void setS3SchemaVersion(String v) { s3SchemaVersion = v; }
  }

  public static class RequestParametersEntity {
    private String sourceIPAddress;

    public RequestParametersEntity() {}

    public RequestParametersEntity(String sourceIPAddress) {
      this.sourceIPAddress = sourceIPAddress;
    }

    public String getSourceIPAddress() { return sourceIPAddress; }

    public void setSourceIPAddress(String v) { sourceIPAddress = v; }
  }

  public static class ResponseElementsEntity {
    private String xAmzId2;
    private String xAmzRequestId;

    public ResponseElementsEntity() {}

    public ResponseElementsEntity(String xAmzId2, String xAmzRequestId) {
      this.xAmzId2 = xAmzId2;
      this.xAmzRequestId = xAmzRequestId;
    }

    public String getxAmzId2() { return xAmzId2; }

    public void setxAmzId2(String v) { xAmzId2 = v; }

    public String getxAmzRequestId() { return xAmzRequestId; }

    public void setxAmzRequestId(String v) { xAmzRequestId = v; }
  }

  public static class S3EventNotificationRecord {
    private String awsRegion;
    private String eventName;
    private String eventSource;
    private DateTime eventTime;
    private String eventVersion;
    private RequestParametersEntity requestParameters;
    private ResponseElementsEntity responseElements;
    private S3Entity s3;
    private UserIdentityEntity userIdentity;

    public S3EventNotificationRecord() {}

    public String getAwsRegion() { return awsRegion; }

    public void setAwsRegion(String v) { awsRegion = v; }

    public String getEventName() { return eventName; }

    public void setEventName(String v) { eventName = v; }

    public String getEventSource() { return eventSource; }

    public void setEventSource(String v) { eventSource = v; }

    public DateTime getEventTime() { return eventTime; }

    public void setEventTime(DateTime v) { eventTime = v; }

    public String getEventVersion() { return eventVersion; }

    public void setEventVersion(String v) { eventVersion = v; }

    public RequestParametersEntity getRequestParameters() { return requestParameters; }

    public void setRequestParameters(RequestParametersEntity v) { requestParameters = v; }

    public ResponseElementsEntity getResponseElements() { return responseElements; }

    public void setResponseElements(ResponseElementsEntity v) { responseElements = v; }

    public S3Entity getS3() { return s3; }

    public void setS3(S3Entity v) { s3 = v; }

    public UserIdentityEntity getUserIdentity() { return userIdentity; }

    public void setUserIdentity(UserIdentityEntity v) { userIdentity = v; }
  }
}

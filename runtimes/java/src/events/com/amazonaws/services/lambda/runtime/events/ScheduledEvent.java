package com.amazonaws.services.lambda.runtime.events;

import java.util.List;
import java.util.Map;
import org.joda.time.DateTime;

/** An EventBridge event (scheduled or from a rule), as in aws-lambda-java-events. */
public class ScheduledEvent {
  private String version;
  private String account;
  private String region;
  private Map<String, Object> detail;
  private String detailType;
  private String source;
  private String id;
  private DateTime time;
  private List<String> resources;

  public String getVersion() { return version; }

  public void setVersion(String v) { version = v; }

  public String getAccount() { return account; }

  public void setAccount(String v) { account = v; }

  public String getRegion() { return region; }

  public void setRegion(String v) { region = v; }

  public Map<String, Object> getDetail() { return detail; }

  public void setDetail(Map<String, Object> v) { detail = v; }

  public String getDetailType() { return detailType; }

  public void setDetailType(String v) { detailType = v; }

  public String getSource() { return source; }

  public void setSource(String v) { source = v; }

  public String getId() { return id; }

  public void setId(String v) { id = v; }

  public DateTime getTime() { return time; }

  public void setTime(DateTime v) { time = v; }

  public List<String> getResources() { return resources; }

  public void setResources(List<String> v) { resources = v; }
}

package com.amazonaws.services.lambda.runtime.events;

import java.util.List;
import java.util.Map;

/** A function URL's (or HTTP API's) request, payload format 2.0, as in aws-lambda-java-events. */
public class APIGatewayV2HTTPEvent {
  private String version;
  private String routeKey;
  private String rawPath;
  private String rawQueryString;
  private List<String> cookies;
  private Map<String, String> headers;
  private Map<String, String> queryStringParameters;
  private Map<String, String> pathParameters;
  private Map<String, String> stageVariables;
  private String body;
  private boolean isBase64Encoded;
  private RequestContext requestContext;

  public String getVersion() { return version; }

  public void setVersion(String v) { version = v; }

  public String getRouteKey() { return routeKey; }

  public void setRouteKey(String v) { routeKey = v; }

  public String getRawPath() { return rawPath; }

  public void setRawPath(String v) { rawPath = v; }

  public String getRawQueryString() { return rawQueryString; }

  public void setRawQueryString(String v) { rawQueryString = v; }

  public List<String> getCookies() { return cookies; }

  public void setCookies(List<String> v) { cookies = v; }

  public Map<String, String> getHeaders() { return headers; }

  public void setHeaders(Map<String, String> v) { headers = v; }

  public Map<String, String> getQueryStringParameters() { return queryStringParameters; }

  public void setQueryStringParameters(Map<String, String> v) { queryStringParameters = v; }

  public Map<String, String> getPathParameters() { return pathParameters; }

  public void setPathParameters(Map<String, String> v) { pathParameters = v; }

  public Map<String, String> getStageVariables() { return stageVariables; }

  public void setStageVariables(Map<String, String> v) { stageVariables = v; }

  public String getBody() { return body; }

  public void setBody(String v) { body = v; }

  public boolean getIsBase64Encoded() { return isBase64Encoded; }

  public void setIsBase64Encoded(boolean v) { isBase64Encoded = v; }

  public RequestContext getRequestContext() { return requestContext; }

  public void setRequestContext(RequestContext v) { requestContext = v; }

  public static class RequestContext {
    private String routeKey;
    private String accountId;
    private String stage;
    private String apiId;
    private String domainName;
    private String domainPrefix;
    private String time;
    private long timeEpoch;
    private Http http;
    private String requestId;
    private Authorizer authorizer;

    public String getRouteKey() { return routeKey; }

    public void setRouteKey(String v) { routeKey = v; }

    public String getAccountId() { return accountId; }

    public void setAccountId(String v) { accountId = v; }

    public String getStage() { return stage; }

    public void setStage(String v) { stage = v; }

    public String getApiId() { return apiId; }

    public void setApiId(String v) { apiId = v; }

    public String getDomainName() { return domainName; }

    public void setDomainName(String v) { domainName = v; }

    public String getDomainPrefix() { return domainPrefix; }

    public void setDomainPrefix(String v) { domainPrefix = v; }

    public String getTime() { return time; }

    public void setTime(String v) { time = v; }

    public long getTimeEpoch() { return timeEpoch; }

    public void setTimeEpoch(long v) { timeEpoch = v; }

    public Http getHttp() { return http; }

    public void setHttp(Http v) { http = v; }

    public String getRequestId() { return requestId; }

    public void setRequestId(String v) { requestId = v; }

    public Authorizer getAuthorizer() { return authorizer; }

    public void setAuthorizer(Authorizer v) { authorizer = v; }

    public static class Http {
      private String method;
      private String path;
      private String protocol;
      private String sourceIp;
      private String userAgent;

      public String getMethod() { return method; }

      public void setMethod(String v) { method = v; }

      public String getPath() { return path; }

      public void setPath(String v) { path = v; }

      public String getProtocol() { return protocol; }

      public void setProtocol(String v) { protocol = v; }

      public String getSourceIp() { return sourceIp; }

      public void setSourceIp(String v) { sourceIp = v; }

      public String getUserAgent() { return userAgent; }

      public void setUserAgent(String v) { userAgent = v; }
    }

    /** The IAM authorizer of an AWS_IAM function URL. */
    public static class Authorizer {
      private IAM iam;

      public IAM getIam() { return iam; }

      public void setIam(IAM v) { iam = v; }
    }

    public static class IAM {
      private String accessKey;
      private String accountId;
      private String callerId;
      private String principalOrgId;
      private String userArn;
      private String userId;

      public String getAccessKey() { return accessKey; }

      public void setAccessKey(String v) { accessKey = v; }

      public String getAccountId() { return accountId; }

      public void setAccountId(String v) { accountId = v; }

      public String getCallerId() { return callerId; }

      public void setCallerId(String v) { callerId = v; }

      public String getPrincipalOrgId() { return principalOrgId; }

      public void setPrincipalOrgId(String v) { principalOrgId = v; }

      public String getUserArn() { return userArn; }

      public void setUserArn(String v) { userArn = v; }

      public String getUserId() { return userId; }

      public void setUserId(String v) { userId = v; }
    }
  }
}

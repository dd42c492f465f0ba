package com.amazonaws.services.lambda.runtime.events;

import java.util.List;
import java.util.Map;

/** A function URL's (or HTTP API's) response, payload format 2.0, as in aws-lambda-java-events. */
public class APIGatewayV2HTTPResponse {
  private int statusCode;
  private Map<String, String> headers;
  private Map<String, List<String>> multiValueHeaders;
  private List<String> cookies;
  private String body;
  private boolean isBase64Encoded;

  public APIGatewayV2HTTPResponse() {}

  public APIGatewayV2HTTPResponse(int statusCode, Map<String, String> headers,
      Map<String, List<String>> multiValueHeaders, List<String> cookies, String body,
      boolean isBase64Encoded) {
    this.statusCode = statusCode;
    this.headers = headers;
    this.multiValueHeaders = multiValueHeaders;
    this.cookies = cookies;
    this.body = body;
    this.isBase64Encoded = isBase64Encoded;
  }

  public static Builder builder() { return new Builder(); }

  public int getStatusCode() { return statusCode; }

  public void setStatusCode(int v) { statusCode = v; }

  public Map<String, String> getHeaders() { return headers; }

  public void setHeaders(Map<String, String> v) { headers = v; }

  public Map<String, List<String>> getMultiValueHeaders() { return multiValueHeaders; }

  public void setMultiValueHeaders(Map<String, List<String>> v) { multiValueHeaders = v; }

  public List<String> getCookies() { return cookies; }

  public void setCookies(List<String> v) { cookies = v; }

  public String getBody() { return body; }

  public void setBody(String v) { body = v; }

  public boolean getIsBase64Encoded() { return isBase64Encoded; }

  public void setIsBase64Encoded(boolean v) { isBase64Encoded = v; }

  /** The builder Lombok generates for AWS's class. */
  public static class Builder {
    private final APIGatewayV2HTTPResponse r = new APIGatewayV2HTTPResponse();

    public Builder withStatusCode(int v) {
      r.statusCode = v;
      return this;
    }

    public Builder withHeaders(Map<String, String> v) {
      r.headers = v;
      return this;
    }

    public Builder withMultiValueHeaders(Map<String, List<String>> v) {
      r.multiValueHeaders = v;
      return this;
    }

    public Builder withCookies(List<String> v) {
      r.cookies = v;
      return this;
    }

    public Builder withBody(String v) {
      r.body = v;
      return this;
    }

    public Builder withIsBase64Encoded(boolean v) {
      r.isBase64Encoded = v;
      return this;
    }

    public APIGatewayV2HTTPResponse build() { return r; }
  }
}

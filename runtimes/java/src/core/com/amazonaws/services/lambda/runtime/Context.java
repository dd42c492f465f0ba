package com.amazonaws.services.lambda.runtime;

/** The invocation's context, as in AWS's aws-lambda-java-core (same package, same methods). */
public interface Context {
  String getAwsRequestId();

  String getLogGroupName();

  String getLogStreamName();

  String getFunctionName();

  String getFunctionVersion();

  String getInvokedFunctionArn();

  CognitoIdentity getIdentity();

  ClientContext getClientContext();

  int getRemainingTimeInMillis();

  int getMemoryLimitInMB();

  LambdaLogger getLogger();
}

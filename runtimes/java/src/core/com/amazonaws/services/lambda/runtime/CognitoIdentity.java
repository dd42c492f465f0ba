package com.amazonaws.services.lambda.runtime;

/**
 * The Amazon Cognito identity of the caller (mobile SDK invocations), as in aws-lambda-java-core.
 */
public interface CognitoIdentity {
  String getIdentityId();

  String getIdentityPoolId();
}

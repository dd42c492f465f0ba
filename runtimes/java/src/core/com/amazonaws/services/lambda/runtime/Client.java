package com.amazonaws.services.lambda.runtime;

/** The client application of a mobile SDK invocation, as in aws-lambda-java-core. */
public interface Client {
  String getInstallationId();

  String getAppTitle();

  String getAppVersionName();

  String getAppVersionCode();

  String getAppPackageName();
}

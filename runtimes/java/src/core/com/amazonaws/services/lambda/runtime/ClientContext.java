package com.amazonaws.services.lambda.runtime;

import java.util.Map;

/** The client context of a mobile SDK invocation, as in aws-lambda-java-core. */
public interface ClientContext {
  Client getClient();

  Map<String, String> getCustom();

  Map<String, String> getEnvironment();
}

package com.amazonaws.services.lambda.runtime;

import java.nio.charset.StandardCharsets;

/** The logger outside a handler (static initialisers, helpers), as in aws-lambda-java-core. */
public final class LambdaRuntime {
  private LambdaRuntime() {}

  private static final LambdaLogger LOGGER = new LambdaLogger() {
    @Override
    public void log(String message) {
      System.out.print(message);
      System.out.flush();
    }

    @Override
    public void log(byte[] message) {
      log(new String(message, StandardCharsets.UTF_8));
    }
  };

  public static LambdaLogger getLogger() { return LOGGER; }
}

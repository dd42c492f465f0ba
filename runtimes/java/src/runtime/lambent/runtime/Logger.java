package lambent.runtime;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The context's LambdaLogger. Text format: the message as given, on stdout (the log stream).
 * JSON format (AWS_LAMBDA_LOG_FORMAT=JSON): one object per call, {"timestamp", "level",
 * "message", "AWSRequestId"}, messages below AWS_LAMBDA_LOG_LEVEL dropped, as AWS's runtime does.
 */
final class Logger implements LambdaLogger {
  private final PrintStream out;
  private final boolean json;
  private final LogLevel minimum;
  volatile String requestId = "";

  Logger(PrintStream out) {
    this.out = out;
    json = "JSON".equals(System.getenv("AWS_LAMBDA_LOG_FORMAT"));
    LogLevel min = LogLevel.INFO;
    String level = System.getenv("AWS_LAMBDA_LOG_LEVEL");
    if (level != null && !level.isEmpty()) {
      try {
        min = LogLevel.fromString(level);
      } catch (IllegalArgumentException ignored) {
        // an unknown level logs at INFO
      }
    }
    minimum = min;
  }

  @Override
  public void log(String message) {
    log(message, LogLevel.UNDEFINED);
  }

  @Override
  public void log(byte[] message) {
    log(new String(message, StandardCharsets.UTF_8), LogLevel.UNDEFINED);
  }

  @Override
  public void log(byte[] message, LogLevel level) {
    log(new String(message, StandardCharsets.UTF_8), level);
  }

  @Override
  public void log(String message, LogLevel level) {
    if (!json) {
      synchronized (out) {
        out.print(message);
        out.flush();
      }
      return;
    }
    if (level != LogLevel.UNDEFINED && level.ordinal() < minimum.ordinal()) return;
    StringWriter w = new StringWriter(message.length() + 128);
    try (JsonGenerator g = Json.FACTORY.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField("timestamp", Instant.now().toString());
      g.writeStringField("level", (level == LogLevel.UNDEFINED ? LogLevel.INFO : level).name());
      g.writeStringField("message", message);
      g.writeStringField("AWSRequestId", requestId);
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    synchronized (out) {
      out.println(w);
      out.flush();
    }
  }
}

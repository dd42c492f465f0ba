package lambent.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The Context of one invocation, from the Runtime API's headers and the environment. */
final class LambdaContext implements Context {
  private static final String FUNCTION_NAME = System.getenv("AWS_LAMBDA_FUNCTION_NAME");
  private static final String FUNCTION_VERSION = System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
  private static final String LOG_GROUP = System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
  private static final String LOG_STREAM = System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
  private static final int MEMORY = parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"));

  private final String requestId;
  private final String functionArn;
  private final long deadlineMs;
  private final CognitoIdentity identity;
  private final ClientContext clientContext;
  private final LambdaLogger logger;

  LambdaContext(Map<String, String> headers, LambdaLogger logger) {
    requestId = headers.getOrDefault("lambda-runtime-aws-request-id", "");
    functionArn = headers.getOrDefault("lambda-runtime-invoked-function-arn", "");
    long deadline = 0;
    try {
      deadline = Long.parseLong(headers.getOrDefault("lambda-runtime-deadline-ms", "0"));
    } catch (NumberFormatException ignored) {
      // no deadline: remaining time reads as 0
    }
    deadlineMs = deadline;
    identity = cognito(headers.get("lambda-runtime-cognito-identity"));
    clientContext = client(headers.get("lambda-runtime-client-context"));
    this.logger = logger;
  }

  private static int parseInt(String s) {
    try {
      return s == null ? 0 : Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static Map<?, ?> object(String json) {
    if (json == null || json.isEmpty()) return null;
    try {
      Object v = Json.parse(json.getBytes(StandardCharsets.UTF_8));
      return v instanceof Map ? (Map<?, ?>) v : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String str(Map<?, ?> m, String key) {
    Object v = m == null ? null : m.get(key);
    return v == null ? null : v.toString();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> strings(Object v) {
    if (!(v instanceof Map)) return null;
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
      out.put(String.valueOf(e.getKey()), e.getValue() == null ? null : e.getValue().toString());
    }
    return out;
  }

  private static CognitoIdentity cognito(String json) {
    Map<?, ?> m = object(json);
    final String id = str(m, "cognitoIdentityId");
    final String pool = str(m, "cognitoIdentityPoolId");
    return new CognitoIdentity() {
      @Override
      public String getIdentityId() {
        return id == null ? "" : id;
      }

      @Override
      public String getIdentityPoolId() {
        return pool == null ? "" : pool;
      }
    };
  }

  private static ClientContext client(String json) {
    Map<?, ?> m = object(json);
    if (m == null) return null;
    Object c = m.get("client");
    final Map<?, ?> cm = c instanceof Map ? (Map<?, ?>) c : null;
    final Client client = new Client() {
      @Override
      public String getInstallationId() {
        return str(cm, "installation_id");
      }

      @Override
      public String getAppTitle() {
        return str(cm, "app_title");
      }

      @Override
      public String getAppVersionName() {
        return str(cm, "app_version_name");
      }

      @Override
      public String getAppVersionCode() {
        return str(cm, "app_version_code");
      }

      @Override
      public String getAppPackageName() {
        return str(cm, "app_package_name");
      }
    };
    final Map<String, String> custom = strings(m.get("custom"));
    final Map<String, String> env = strings(m.get("env"));
    return new ClientContext() {
      @Override
      public Client getClient() {
        return client;
      }

      @Override
      public Map<String, String> getCustom() {
        return custom;
      }

      @Override
      public Map<String, String> getEnvironment() {
        return env;
      }
    };
  }

  @Override
  public String getAwsRequestId() {
    return requestId;
  }

  @Override
  public String getLogGroupName() {
    return LOG_GROUP;
  }

  @Override
  public String getLogStreamName() {
    return LOG_STREAM;
  }

  @Override
  public String getFunctionName() {
    return FUNCTION_NAME;
  }

  @Override
  public String getFunctionVersion() {
    return FUNCTION_VERSION;
  }

  @Override
  public String getInvokedFunctionArn() {
    return functionArn;
  }

  @Override
  public CognitoIdentity getIdentity() {
    return identity;
  }

  @Override
  public ClientContext getClientContext() {
    return clientContext;
  }

  @Override
  public int getRemainingTimeInMillis() {
    long left = deadlineMs - System.currentTimeMillis();
    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, left));
  }

  @Override
  public int getMemoryLimitInMB() {
    return MEMORY;
  }

  @Override
  public LambdaLogger getLogger() {
    return logger;
  }
}

package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/** A RequestHandler over maps: the context, a layer's jar, the package's lib/*.jar. */
public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  static { LambdaRuntime.getLogger().log("INIT Hello\n"); }

  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    if (event.get("sleep") instanceof Number) {
      try {
        Thread.sleep(((Number) event.get("sleep")).longValue());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("echo", event);
    out.put("requestId", context.getAwsRequestId());
    out.put("function", context.getFunctionName());
    out.put("version", context.getFunctionVersion());
    out.put("memory", context.getMemoryLimitInMB());
    out.put("remaining", context.getRemainingTimeInMillis());
    out.put("arn", context.getInvokedFunctionArn());
    out.put("logGroup", context.getLogGroupName());
    out.put("java", System.getProperty("java.specification.version"));
    out.put("trace", System.getProperty("com.amazonaws.xray.traceHeader"));
    out.put("toolOption", System.getProperty("lambent.option"));
    out.put("greeting", lib.Greeter.greet());
    out.put("util", util.Strings.shout("hi"));
    out.put("cwd", System.getProperty("user.dir"));
    context.getLogger().log("HELLO " + context.getAwsRequestId() + "\n");
    return out;
  }
}

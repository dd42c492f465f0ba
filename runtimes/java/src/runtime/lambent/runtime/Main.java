package lambent.runtime;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lambent's runtime interface client for Java (java17, java21): started inside the environment by
 * the catalogue (`java ... lambent.runtime.Main`). Loads the handler named by _HANDLER from the
 * function's class path (Init), then loops over the Runtime API: GET /next, call the handler,
 * POST /response or /error. The function's classes load in a class loader of their own whose
 * parent holds this runtime and aws-lambda-java-core, so a jar built against AWS's interfaces
 * (or a fat jar bundling them) meets the same Context and RequestHandler types.
 */
public final class Main {
  private Main() {}

  /** The function's class path, as on AWS: /var/task, its lib/*.jar, then the layers' jars. */
  static ClassLoader functionLoader(String taskRoot) throws MalformedURLException {
    List<URL> urls = new ArrayList<>();
    urls.add(new File(taskRoot).toURI().toURL());
    addJars(urls, new File(taskRoot, "lib"));
    addJars(urls, new File("/opt/java/lib"));
    // Lambent's event classes (and the Joda-Time they use) come last: a package bundling AWS's
    // own wins.
    String lib = System.getProperty("lambent.runtime.lib", "/var/runtime/lib");
    for (String jar :
        new String[] {lib + "/aws-lambda-java-events.jar", "/usr/share/java/joda-time.jar"}) {
      File f = new File(jar);
      if (f.isFile()) urls.add(f.toURI().toURL());
    }
    return new FunctionClassLoader(urls.toArray(new URL[0]), Main.class.getClassLoader());
  }

  private static void addJars(List<URL> urls, File dir) throws MalformedURLException {
    // No lambdas here, nor string concatenation by invokedynamic (build.sh): each call site's
    // bootstrap costs the cold start milliseconds.
    String[] names = dir.list();
    if (names == null) return;
    Arrays.sort(names);
    for (String name : names) {
      if (name.endsWith(".jar")) urls.add(new File(dir, name).toURI().toURL());
    }
  }

  /** AWS's error document: errorMessage, errorType, stackTrace and the cause chain. */
  static byte[] errorBody(Throwable t) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = Json.FACTORY.createGenerator(out)) {
      writeError(g, t, 0);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static void writeError(JsonGenerator g, Throwable t, int depth) throws IOException {
    g.writeStartObject();
    String message = t.getLocalizedMessage();
    if (message != null) g.writeStringField("errorMessage", message);
    g.writeStringField("errorType", t.getClass().getName());
    g.writeArrayFieldStart("stackTrace");
    for (StackTraceElement e : t.getStackTrace()) {
      String cls = e.getClassName();
      if (cls.startsWith("lambent.runtime.") || cls.startsWith("jdk.internal.reflect.")) break;
      if (cls.equals("java.lang.reflect.Method") && e.getMethodName().equals("invoke")) break;
      g.writeString(cls + "." + e.getMethodName() + "("
          + (e.getFileName() == null
                  ? "Unknown Source"
                  : e.getFileName() + (e.getLineNumber() >= 0 ? ":" + e.getLineNumber() : ""))
          + ")");
    }
    g.writeEndArray();
    Throwable cause = t.getCause();
    if (cause != null && cause != t && depth < 16) {
      g.writeFieldName("cause");
      writeError(g, cause, depth + 1);
    }
    g.writeEndObject();
  }

  /**
   * What the caller sees for a failure: the handler's throwable, or for a payload or result
   * that does not convert, AWS's RuntimeException("An error occurred during JSON parsing")
   * caused by an UncheckedIOException wrapping Jackson's exception.
   */
  static Throwable reported(Throwable failure) {
    if (!(failure instanceof Handler.SerializationError)) return failure;
    Throwable jackson = failure.getCause();
    IOException io =
        jackson instanceof IOException ? (IOException) jackson : new IOException(jackson);
    java.io.UncheckedIOException unchecked =
        new java.io.UncheckedIOException(jackson.toString(), io);
    unchecked.setStackTrace(new StackTraceElement[0]);
    RuntimeException shown = new RuntimeException(failure.getMessage(), unchecked);
    shown.setStackTrace(new StackTraceElement[0]);
    return shown;
  }

  static void logError(PrintStream err, Throwable t) {
    synchronized (err) {
      t.printStackTrace(err);
      err.flush();
    }
  }

  /**
   * Serves invocations until the Runtime API goes away (never, inside an environment) or
   * `limit` invocations have run (the class-data-sharing training run).
   */
  static void serve(RuntimeApi api, String handlerSpec, ClassLoader loader, int limit)
      throws IOException {
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    Logger logger = new Logger(stdout);
    Thread.currentThread().setContextClassLoader(loader);
    Handler handler;
    try {
      handler = Handler.load(handlerSpec, loader);
    } catch (Throwable t) {
      byte[] body = errorBody(t);
      logError(stderr, t);
      api.post("/init/error", body, t.getClass().getName());
      if (limit > 0) return;
      System.exit(1);
      return;
    }
    for (int n = 0; limit == 0 || n < limit; ++n) {
      RuntimeApi.Response next = api.next();
      String requestId = next.headers.getOrDefault("lambda-runtime-aws-request-id", "");
      String trace = next.headers.get("lambda-runtime-trace-id");
      if (trace != null && !trace.isEmpty()) {
        System.setProperty("com.amazonaws.xray.traceHeader", trace);
      } else {
        System.clearProperty("com.amazonaws.xray.traceHeader");
      }
      logger.requestId = requestId;
      LambdaContext context = new LambdaContext(next.headers, logger);
      byte[] response;
      Throwable failure = null;
      try {
        response = handler.invoke(next.body, context);
      } catch (Throwable t) {
        failure = t;
        response = null;
      }
      stdout.flush();
      stderr.flush();
      if (failure == null) {
        api.post("/invocation/" + requestId + "/response", response, null);
      } else {
        Throwable shown = reported(failure);
        logError(stderr, shown);
        api.post(
            "/invocation/" + requestId + "/error", errorBody(shown), shown.getClass().getName());
      }
      if (failure instanceof Error && !(failure instanceof StackOverflowError)
          && !(failure instanceof AssertionError)) {
        // OutOfMemoryError and the like leave the JVM unusable: end the environment, as AWS's
        // runtime does, after reporting the failure.
        System.exit(1);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--train")) {
      Trainer.run();
      return;
    }
    String api = System.getenv("AWS_LAMBDA_RUNTIME_API");
    String taskRoot = System.getenv().getOrDefault("LAMBDA_TASK_ROOT", "/var/task");
    serve(new RuntimeApi(api), System.getenv("_HANDLER"), functionLoader(taskRoot), 0);
  }
}

package lambent.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The class-data-sharing training run (`make build`): the runtime serves a few invocations from a
 * Runtime API of its own on loopback — plain JSON, a POJO, a stream, a failure, an Init error —
 * while the JVM records the classes it loads (-XX:ArchiveClassesAtExit), so that a function's
 * JVM maps them instead of loading and verifying them at every cold start.
 */
final class Trainer {
  private Trainer() {}

  /** Handlers for the training invocations. */
  public static final class Functions {
    public Map<String, Object> plain(Map<String, Object> event, Context context) {
      context.getLogger().log("training " + context.getAwsRequestId() + "\n");
      event.put("remaining", context.getRemainingTimeInMillis());
      return event;
    }

    public Order pojo(Order order, Context context) {
      order.setCount(order.getCount() + 1);
      return order;
    }

    public static void stream(InputStream in, OutputStream out, Context context)
        throws IOException {
      out.write(in.readAllBytes());
    }

    public String fail(String input) { throw new IllegalStateException("training failure"); }
  }

  /** A POJO for databind's training. */
  public static final class Order {
    private String id;
    private int count;
    private List<String> items;

    public String getId() { return id; }

    public void setId(String v) { id = v; }

    public int getCount() { return count; }

    public void setCount(int v) { count = v; }

    public List<String> getItems() { return items; }

    public void setItems(List<String> v) { items = v; }
  }

  private static final String[][] INVOCATIONS = {
      {"lambent.runtime.Trainer$Functions::plain", "{\"a\":[1,2.5,true,null,\"x\"],\"b\":{}}"},
      {"lambent.runtime.Trainer$Functions::pojo", "{\"Id\":\"o-1\",\"count\":1,\"items\":[\"x\"]}"},
      {"lambent.runtime.Trainer$Functions::stream", "{\"raw\":1}"},
      {"lambent.runtime.Trainer$Functions::fail", "\"x\""},
      {"lambent.runtime.Trainer$Functions::pojo", "[1]"},
      {"lambent.runtime.NoSuchHandler", null},
  };

  static void run() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<String> payloads = new ArrayList<>();
      for (String[] inv : INVOCATIONS)
        if (inv[1] != null) payloads.add(inv[1]);
      Thread api = new Thread(new Runnable() {
        @Override
        public void run() {
          fakeApi(server, payloads);
        }
      });
      api.setDaemon(true);
      api.start();
      RuntimeApi client = new RuntimeApi("127.0.0.1:" + server.getLocalPort());
      ClassLoader loader = Main.functionLoader(System.getProperty("java.io.tmpdir"));
      for (String[] inv : INVOCATIONS) Main.serve(client, inv[0], loader, 1);
    }
  }

  private static void fakeApi(ServerSocket server, List<String> payloads) {
    try (Socket s = server.accept()) {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      int served = 0;
      while (true) {
        String head = readHead(in);
        if (head == null) return;
        int length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase().startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        in.readNBytes(length);
        String response;
        if (head.startsWith("GET") && served < payloads.size()) {
          byte[] body = payloads.get(served).getBytes(StandardCharsets.UTF_8);
          ++served;
          response = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: training-" + served
              + "\r\nLambda-Runtime-Deadline-Ms: " + (System.currentTimeMillis() + 60000)
              + "\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:"
              + "function:training\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000"
              + "\r\nContent-Length: " + body.length + "\r\n\r\n" + payloads.get(served - 1);
        } else {
          response = "HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
        }
        out.write(response.getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException e) {
      // the training run is over
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    int state = 0;
    while ((c = in.read()) != -1) {
      b.write(c);
      state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
          ? state + 1
          : 0;
      if (state == 4) return b.toString(StandardCharsets.ISO_8859_1);
    }
    return null;
  }
}

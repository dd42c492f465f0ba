package lambent.runtime;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A keep-alive HTTP/1.1 client of the Runtime API (2018-06-01) over a plain socket: the JDK's
 * HttpClient and HttpURLConnection load hundreds of classes (tens of milliseconds of Init).
 */
final class RuntimeApi {
  static final String BASE = "/2018-06-01/runtime";

  /** One Runtime API response: status, lower-cased headers, body. */
  static final class Response {
    int status;
    final Map<String, String> headers = new HashMap<>();
    byte[] body;
  }

  private final String host;
  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  RuntimeApi(String address) {
    int colon = address.lastIndexOf(':');
    host = colon < 0 ? address : address.substring(0, colon);
    port = colon < 0 ? 80 : Integer.parseInt(address.substring(colon + 1));
  }

  Response next() throws IOException {
    while (true) {
      Response r = request("GET", BASE + "/invocation/next", null, null);
      if (r.status == 200) return r;
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  Response post(String path, byte[] body, String errorType) throws IOException {
    return request("POST", BASE + path, body, errorType);
  }

  private Response request(String method, String path, byte[] body, String errorType)
      throws IOException {
    for (int attempt = 0;; ++attempt) {
      try {
        if (socket == null) connect();
        StringBuilder head = new StringBuilder(160);
        head.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host);
        head.append("\r\nContent-Length: ").append(body == null ? 0 : body.length);
        if (body != null) head.append("\r\nContent-Type: application/json");
        if (errorType != null) {
          head.append("\r\nLambda-Runtime-Function-Error-Type: ").append(errorType);
        }
        head.append("\r\n\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) out.write(body);
        out.flush();
        return readResponse();
      } catch (IOException e) {
        close();
        if (attempt == 1) throw e;
      }
    }
  }

  private void connect() throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(host, port));
    in = new BufferedInputStream(socket.getInputStream(), 65536);
    out = socket.getOutputStream();
  }

  private void close() {
    try {
      if (socket != null) socket.close();
    } catch (IOException ignored) {
      // the connection is being dropped anyway
    }
    socket = null;
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') break;
      if (c != '\r') line.write(c);
    }
    if (c == -1 && line.size() == 0) throw new IOException("the Runtime API closed the connection");
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  private Response readResponse() throws IOException {
    Response r = new Response();
    String status = readLine();
    int sp = status.indexOf(' ');
    r.status = Integer.parseInt(status.substring(sp + 1, sp + 4));
    String line;
    while (!(line = readLine()).isEmpty()) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        r.headers.put(
            line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
      }
    }
    String length = r.headers.get("content-length");
    int n = length == null ? 0 : Integer.parseInt(length);
    r.body = in.readNBytes(n);
    if (r.body.length != n) throw new IOException("the Runtime API closed the connection");
    return r;
  }
}

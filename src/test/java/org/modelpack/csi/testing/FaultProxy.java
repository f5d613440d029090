package org.modelpack.csi.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fault-injecting HTTP/1.1 reverse proxy on 127.0.0.1 in front of a real registry. The client
 * under test talks to {@link #host()} as if it were the registry (loopback, so plain HTTP).
 *
 * <p>Every request is forwarded on a fresh upstream connection and answered with {@code
 * Connection: close}, so one client connection carries exactly one request: per-connection
 * bandwidth limits and per-request byte counts are exact. Faults are {@link Rule}s matched per
 * request (any request, or GETs of one blob digest) that fire a given number of times: a
 * connection reset, a stall or an early close after N body bytes, a flipped byte, an error
 * status (500/503/429 with {@code Retry-After}, 401, 403) answered by the proxy itself, or a
 * registry that ignores {@code Range}. Each request is recorded with its {@code Range} header,
 * status and the body bytes sent ({@link #requests()}); a record is complete once {@link
 * Exchange#done()} (the proxy finishes it just after the client got its last byte, so assert
 * on counts with Awaitility).
 */
public final class FaultProxy implements AutoCloseable {

  /** What a rule does to a matching request. */
  public enum Action { RESET, STALL, TRUNCATE, FLIP, STATUS, IGNORE_RANGE, RESET_BEFORE_ANSWER }

  /** A fault for matching requests; fires {@code times} times (negative = always). */
  public static final class Rule {
    final String blobDigest;
    final Action action;
    final long bytes;
    final int status;
    final String retryAfter;
    private int remaining;

    private Rule(String blobDigest, Action action, long bytes, int status, String retryAfter,
        int times) {
      this.blobDigest = blobDigest;
      this.action = action;
      this.bytes = bytes;
      this.status = status;
      this.retryAfter = retryAfter;
      this.remaining = times;
    }

    boolean matches(String method, String path) {
      if (MANIFEST_HEADS.equals(blobDigest)) {
        return method.equals("HEAD") && path.contains("/manifests/");
      }
      return blobDigest == null
          || (method.equals("GET") && path.matches(".*/blobs/" + blobDigest + "(\\?.*)?"));
    }

    synchronized boolean take() {
      if (remaining == 0) {
        return false;
      }
      if (remaining > 0) {
        remaining--;
      }
      return true;
    }
  }

  /** Starts rules for GETs of blob {@code digest} ({@code null} = every request). */
  public static RuleBuilder on(String digest) {
    return new RuleBuilder(digest);
  }

  private static final String MANIFEST_HEADS = "HEAD of manifests";

  /** Starts rules for HEAD requests of manifests. */
  public static RuleBuilder onManifestHeads() {
    return new RuleBuilder(MANIFEST_HEADS);
  }

  /** Builds a {@link Rule}; fires once unless {@link #times} says otherwise. */
  public static final class RuleBuilder {
    private final String digest;
    private int times = 1;

    RuleBuilder(String digest) {
      this.digest = digest;
    }

    /** {@code n} times; negative = every matching request. */
    public RuleBuilder times(int n) {
      this.times = n;
      return this;
    }

    public RuleBuilder always() {
      return times(-1);
    }

    /** Reset (RST) the connection after {@code n} body bytes. */
    public Rule resetAfter(long n) {
      return new Rule(digest, Action.RESET, n, 0, null, times);
    }

    /** Stop sending after {@code n} body bytes, keeping the connection open. */
    public Rule stallAfter(long n) {
      return new Rule(digest, Action.STALL, n, 0, null, times);
    }

    /** Close normally after {@code n} body bytes although Content-Length promised more. */
    public Rule truncateAfter(long n) {
      return new Rule(digest, Action.TRUNCATE, n, 0, null, times);
    }

    /** Invert the byte at body offset {@code n} of the answer. */
    public Rule flipByteAt(long n) {
      return new Rule(digest, Action.FLIP, n, 0, null, times);
    }

    /** Answer {@code status} with a JSON error body instead of forwarding. */
    public Rule status(int status) {
      return new Rule(digest, Action.STATUS, 0, status, null, times);
    }

    /** Answer 429 with {@code Retry-After: value}. */
    public Rule tooManyRequests(String retryAfter) {
      return new Rule(digest, Action.STATUS, 0, 429, retryAfter, times);
    }

    /** Drop the {@code Range} header: the registry answers 200 with the whole blob. */
    public Rule ignoreRange() {
      return new Rule(digest, Action.IGNORE_RANGE, 0, 0, null, times);
    }

    /** Reset the connection before any answer (a connection-level error). */
    public Rule resetBeforeAnswer() {
      return new Rule(digest, Action.RESET_BEFORE_ANSWER, 0, 0, null, times);
    }
  }

  /** One proxied request. */
  public static final class Exchange {
    private final String method;
    private final String path;
    private final String range;
    private volatile int status;
    private final AtomicLong bodyBytes = new AtomicLong();
    private volatile boolean done;

    Exchange(String method, String path, String range) {
      this.method = method;
      this.path = path;
      this.range = range;
    }

    public String method() {
      return method;
    }

    public String path() {
      return path;
    }

    /** The request's {@code Range} header, or null. */
    public String range() {
      return range;
    }

    /** Status sent to the client; 0 if none was (reset before the answer). */
    public int status() {
      return status;
    }

    /** Body bytes written to the client socket. */
    public long bodyBytes() {
      return bodyBytes.get();
    }

    public boolean done() {
      return done;
    }

    @Override
    public String toString() {
      return method + " " + path + (range == null ? "" : " [" + range + "]") + " -> " + status
          + ", " + bodyBytes + " body bytes" + (done ? "" : " (running)");
    }
  }

  private static final int BUFFER = 64 * 1024;
  private static final int CLIENT_TIMEOUT_MS = 120_000;

  private final ServerSocket server;
  private final String upstreamHost;
  private final int upstreamPort;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-proxy");
    t.setDaemon(true);
    return t;
  });
  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile long bytesPerSecond;
  private volatile long sharedBytesPerSecond;
  /** When the shared link is free again (nanoTime). Guarded by {@link #sharedLink}. */
  private long sharedFreeAt;
  private final Object sharedLink = new Object();

  private FaultProxy(ServerSocket server, String upstream) {
    this.server = server;
    int colon = upstream.lastIndexOf(':');
    this.upstreamHost = upstream.substring(0, colon);
    this.upstreamPort = Integer.parseInt(upstream.substring(colon + 1));
  }

  /** A proxy on a free loopback port forwarding to {@code upstream} ({@code host:port}). */
  public static FaultProxy start(String upstream) throws IOException {
    ServerSocket s = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    FaultProxy p = new FaultProxy(s, upstream);
    p.threads.execute(p::acceptLoop);
    return p;
  }

  /** {@code 127.0.0.1:<port>}, usable as the registry part of a reference. */
  public String host() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  public FaultProxy inject(Rule rule) {
    rules.add(rule);
    return this;
  }

  /** Body bytes per second per connection; 0 = unlimited. */
  public FaultProxy bandwidthLimit(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
    return this;
  }

  /**
   * Body bytes per second for all connections together (a link whose bandwidth every
   * connection shares, unlike {@link #bandwidthLimit}); 0 = unlimited.
   */
  public FaultProxy sharedBandwidthLimit(long bytesPerSecond) {
    this.sharedBytesPerSecond = bytesPerSecond;
    return this;
  }

  /** Forgets rules and records (between tests). */
  public void reset() {
    rules.clear();
    exchanges.clear();
    bytesPerSecond = 0;
    sharedBytesPerSecond = 0;
  }

  public List<Exchange> requests() {
    return List.copyOf(exchanges);
  }

  /** Requests (any method) whose path names blob {@code digest}. */
  public List<Exchange> requestsFor(String digest) {
    return exchanges.stream().filter(e -> e.path.contains("/blobs/" + digest)).toList();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket c = server.accept();
        open.add(c);
        threads.execute(() -> {
          try {
            handle(c);
          } catch (IOException e) {
            // the client went away or a fault ended the exchange
          } finally {
            closeQuietly(c);
            open.remove(c);
          }
        });
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void handle(Socket client) throws IOException {
    client.setSoTimeout(CLIENT_TIMEOUT_MS);
    client.setTcpNoDelay(true);
    InputStream cin = new BufferedInputStream(client.getInputStream());
    List<String> head = readHead(cin);
    if (head.isEmpty()) {
      return;
    }
    String[] requestLine = head.get(0).split(" ", 3);
    String method = requestLine[0];
    String path = requestLine.length > 1 ? requestLine[1] : "/";
    Exchange ex = new Exchange(method, path, header(head, "Range"));
    exchanges.add(ex);
    try {
      List<Rule> fired = new ArrayList<>();
      for (Rule r : rules) {
        if (r.matches(method, path) && r.take()) {
          fired.add(r);
        }
      }
      proxy(client, cin, head, ex, fired);
    } finally {
      ex.done = true;
    }
  }

  private void proxy(Socket client, InputStream cin, List<String> head, Exchange ex,
      List<Rule> fired) throws IOException {
    OutputStream cout = client.getOutputStream();
    Rule body = null;
    boolean ignoreRange = false;
    for (Rule r : fired) {
      switch (r.action) {
        case RESET_BEFORE_ANSWER -> {
          reset(client);
          return;
        }
        case STATUS -> {
          byte[] json = ("{\"errors\":[{\"code\":\"" + code(r.status)
              + "\",\"message\":\"injected by FaultProxy\"}]}").getBytes(StandardCharsets.UTF_8);
          String resp = "HTTP/1.1 " + r.status + " Injected\r\n"
              + "Content-Type: application/json\r\nContent-Length: " + json.length + "\r\n"
              + (r.retryAfter == null ? "" : "Retry-After: " + r.retryAfter + "\r\n")
              + "Connection: close\r\n\r\n";
          ex.status = r.status;
          cout.write(resp.getBytes(StandardCharsets.ISO_8859_1));
          if (!ex.method.equals("HEAD")) {
            cout.write(json);
            ex.bodyBytes.addAndGet(json.length);
          }
          cout.flush();
          return;
        }
        case IGNORE_RANGE -> ignoreRange = true;
        default -> body = r;
      }
    }
    long requestBody = parseLong(header(head, "Content-Length"));
    try (Socket up = new Socket(upstreamHost, upstreamPort)) {
      up.setSoTimeout(CLIENT_TIMEOUT_MS);
      OutputStream uout = up.getOutputStream();
      StringBuilder req = new StringBuilder(head.get(0)).append("\r\n");
      for (String h : head.subList(1, head.size())) {
        String name = h.substring(0, Math.max(0, h.indexOf(':'))).trim()
            .toLowerCase(Locale.ROOT);
        if (name.equals("connection") || name.equals("keep-alive")
            || (ignoreRange && name.equals("range"))) {
          continue;
        }
        req.append(h).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      uout.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (requestBody > 0) {
        copyExactly(cin, uout, requestBody);
      }
      uout.flush();
      InputStream uin = new BufferedInputStream(up.getInputStream(), BUFFER);
      List<String> answer = readHead(uin);
      if (answer.isEmpty()) {
        reset(client);
        return;
      }
      String[] statusLine = answer.get(0).split(" ", 3);
      ex.status = Integer.parseInt(statusLine[1]);
      StringBuilder resp = new StringBuilder(answer.get(0)).append("\r\n");
      for (String h : answer.subList(1, answer.size())) {
        if (!h.toLowerCase(Locale.ROOT).startsWith("connection:")) {
          resp.append(h).append("\r\n");
        }
      }
      resp.append("Connection: close\r\n\r\n");
      cout.write(resp.toString().getBytes(StandardCharsets.ISO_8859_1));
      cout.flush();
      relayBody(client, cin, uin, cout, ex, body);
    }
  }

  private void relayBody(Socket client, InputStream cin, InputStream uin, OutputStream cout,
      Exchange ex, Rule fault) throws IOException {
    long limit = bytesPerSecond;
    long shared = sharedBytesPerSecond;
    long slowest = limit > 0 && shared > 0 ? Math.min(limit, shared) : Math.max(limit, shared);
    byte[] buf = new byte[slowest > 0 ? (int) Math.max(4096, Math.min(BUFFER, slowest / 200))
        : BUFFER];
    long sent = 0;
    long started = System.nanoTime();
    boolean cut = fault != null && fault.action != Action.FLIP;
    while (true) {
      int want = buf.length;
      if (cut) {
        if (sent >= fault.bytes) {
          break;
        }
        want = (int) Math.min(want, fault.bytes - sent);
      }
      int n = uin.read(buf, 0, want);
      if (n < 0) {
        cout.flush();
        return; // the whole answer went through: close normally
      }
      if (fault != null && fault.action == Action.FLIP && fault.bytes >= sent
          && fault.bytes < sent + n) {
        buf[(int) (fault.bytes - sent)] ^= (byte) 0xFF;
      }
      cout.write(buf, 0, n);
      cout.flush();
      sent += n;
      ex.bodyBytes.addAndGet(n);
      if (limit > 0) {
        parkUntil(started + sent * 1_000_000_000L / limit);
      }
      if (shared > 0) {
        long due;
        synchronized (sharedLink) {
          // Each connection's bytes take their turn on the one link: no burst credit.
          sharedFreeAt = Math.max(sharedFreeAt, System.nanoTime()) + n * 1_000_000_000L / shared;
          due = sharedFreeAt;
        }
        parkUntil(due);
      }
    }
    switch (fault.action) {
      case RESET -> reset(client);
      case TRUNCATE -> client.close();
      case STALL -> {
        // Send nothing more; wait for the client to give up (its read timeout) and close.
        try {
          while (cin.read() >= 0) {
            // a client sends nothing after its request; drain anything anyway
          }
        } catch (IOException e) {
          // timeout or reset: the stall is over
        }
      }
      default -> throw new IllegalStateException(fault.action.toString());
    }
  }

  private static void parkUntil(long due) {
    long now;
    while ((now = System.nanoTime()) < due) {
      LockSupport.parkNanos(due - now);
    }
  }

  private static void reset(Socket s) throws IOException {
    s.setSoLinger(true, 0);
    s.close();
  }

  private static String code(int status) {
    return switch (status) {
      case 401 -> "UNAUTHORIZED";
      case 403 -> "DENIED";
      case 404 -> "BLOB_UNKNOWN";
      case 429 -> "TOOMANYREQUESTS";
      default -> "UNAVAILABLE";
    };
  }

  /** Lines of a request or response head, without the blank line; empty at EOF. */
  private static List<String> readHead(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int prev = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        return lines.isEmpty() && line.size() == 0 ? List.of() : lines;
      }
      if (b == '\n' && prev == '\r') {
        byte[] raw = line.toByteArray();
        String s = new String(raw, 0, raw.length - 1, StandardCharsets.ISO_8859_1);
        if (s.isEmpty()) {
          return lines;
        }
        lines.add(s);
        line.reset();
      } else {
        line.write(b);
      }
      prev = b;
    }
  }

  private static String header(List<String> head, String name) {
    for (String h : head.subList(1, head.size())) {
      int colon = h.indexOf(':');
      if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return h.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static void copyExactly(InputStream in, OutputStream out, long n) throws IOException {
    byte[] buf = new byte[BUFFER];
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) {
        throw new SocketException("request body ended early");
      }
      out.write(buf, 0, r);
      n -= r;
    }
  }

  private static void closeQuietly(java.io.Closeable s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closeQuietly(server);
    open.forEach(FaultProxy::closeQuietly);
    threads.shutdownNow();
  }
}

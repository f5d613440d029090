package org.modelpack.csi.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A real CNCF distribution registry ({@code /usr/bin/docker-registry}, v2.8) run as a child
 * process on 127.0.0.1 with filesystem storage under a test's work directory.
 *
 * <p>Access log: with {@code log.accesslog.disabled: false} distribution 2.8 writes one Apache
 * "combined" line per request to its output (verified with 2.8.2), e.g.
 *
 * <pre>
 * 127.0.0.1 - - [23/Nov/2026:22:46:41 +0000] "GET /v2/a/b/blobs/sha256:00..00 HTTP/1.1" 404 157 "" "curl/7.88.1"
 * </pre>
 *
 * {@link #countBlobGets} counts those request lines. A line is written after the response has
 * been sent, so a test should read it with Awaitility, not immediately after a download.
 */
public final class RegistryServer implements AutoCloseable {
  public static final Path BINARY = Path.of("/usr/bin/docker-registry");
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final String host;
  private final Path logFile;
  private final Path storage;

  private RegistryServer(Process process, String host, Path logFile, Path storage) {
    this.process = process;
    this.host = host;
    this.logFile = logFile;
    this.storage = storage;
  }

  /** An anonymous registry. */
  public static RegistryServer start(Path workDir) throws IOException {
    return launch(workDir, "");
  }

  /**
   * A pull-through cache of {@code originHost} (distribution's proxy mode): what a mirror or a
   * Dragonfly-style proxy in front of a registry looks like to the driver.
   */
  public static RegistryServer startPullThroughMirror(Path workDir, String originHost)
      throws IOException {
    return launch(workDir, "proxy:\n  remoteurl: http://" + originHost + "\n");
  }

  /** A registry that demands HTTP Basic auth for {@code user}/{@code password}. */
  public static RegistryServer startWithHtpasswd(Path workDir, String user, String password)
      throws IOException {
    Files.createDirectories(workDir);
    Path htpasswd = workDir.resolve("htpasswd");
    Process p = new ProcessBuilder("/usr/bin/htpasswd", "-Bbn", user, password)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    byte[] out = p.getInputStream().readAllBytes();
    try {
      if (p.waitFor() != 0) {
        throw new IOException("htpasswd failed with exit " + p.exitValue());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    Files.write(htpasswd, out);
    return launch(workDir, """
        auth:
          htpasswd:
            realm: test-registry
            path: %s
        """.formatted(htpasswd));
  }

  private static RegistryServer launch(Path workDir, String extraConfig) throws IOException {
    Files.createDirectories(workDir);
    int port = freePort();
    String host = "127.0.0.1:" + port;
    Path storage = workDir.resolve("storage");
    Path config = workDir.resolve("registry-config.yml");
    Path log = workDir.resolve("registry.log");
    Files.writeString(config, """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: false
        storage:
          filesystem:
            rootdirectory: %s
          delete:
            enabled: true
        http:
          addr: %s
          secret: test-secret
        """.formatted(storage, host) + extraConfig);
    Process process = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    RegistryServer server = new RegistryServer(process, host, log, storage);
    try {
      server.awaitReady();
    } catch (RuntimeException e) {
      server.close();
      throw new IOException("registry did not start on " + host + "; log:\n" + server.log(), e);
    }
    return server;
  }

  private void awaitReady() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest ping = HttpRequest.newBuilder(URI.create("http://" + host + "/v2/"))
        .timeout(Duration.ofSeconds(2)).build();
    await().atMost(STARTUP_TIMEOUT).pollInterval(Duration.ofMillis(50))
        .ignoreExceptionsMatching(e -> e instanceof IOException)
        .until(() -> {
          if (!process.isAlive()) {
            throw new IllegalStateException("registry exited with " + process.exitValue());
          }
          // 200 anonymous, 401 with htpasswd: either way it is serving the API.
          int status = http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode();
          return status == 200 || status == 401;
        });
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** {@code 127.0.0.1:<port>}, usable as the registry part of a reference. */
  public String host() {
    return host;
  }

  public Path logFile() {
    return logFile;
  }

  /** Filesystem storage root (tests may corrupt blobs here). */
  public Path storageDir() {
    return storage;
  }

  /** Number of GET requests (any status) for {@code /v2/<name>/blobs/<digest>} so far. */
  public long countBlobGets(String digest) throws IOException {
    Pattern line = Pattern.compile(
        "\"GET /v2/\\S+/blobs/" + Pattern.quote(digest) + "(\\?\\S*)? HTTP/[0-9.]+\"");
    List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
    return lines.stream().filter(l -> line.matcher(l).find()).count();
  }

  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "<cannot read " + logFile + ": " + e + ">";
    }
  }

  public void stop() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }

  @Override
  public void close() {
    stop();
  }
}

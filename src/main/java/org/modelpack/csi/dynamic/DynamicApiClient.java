package org.modelpack.csi.dynamic;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * HTTP over a dynamic volume's socket ({@code <workdir>/csi/csi.sock}), for the CLI in a pod
 * and for tests: Jetty's client on its unix-domain transport. Answers are returned as they
 * come; reading them is the caller's business.
 */
public final class DynamicApiClient implements AutoCloseable {
  private final HttpClient http;
  private final Path socket;

  /** What the API answered. */
  public record Answer(int status, String body) {}

  private DynamicApiClient(HttpClient http, Path socket) {
    this.http = http;
    this.socket = socket;
  }

  public static DynamicApiClient connect(Path socket) throws IOException {
    QueuedThreadPool threads = new QueuedThreadPool(4, 1);
    threads.setName("dynamic-api-client");
    threads.setDaemon(true);
    HttpClient http = new HttpClient();
    http.setExecutor(threads);
    try {
      http.start();
    } catch (Exception e) {
      throw new IOException("cannot start an HTTP client: " + e, e);
    }
    return new DynamicApiClient(http, socket);
  }

  public Path socket() {
    return socket;
  }

  /**
   * Sends {@code method path} with a JSON body (null for none) and waits up to {@code timeout}.
   *
   * @throws IOException when the socket does not answer (not there, refused, timed out)
   */
  public Answer send(String method, String path, String json, Duration timeout)
      throws IOException, InterruptedException {
    Request request = http.newRequest("http://localhost" + path).method(method)
        .transport(new Transport.TCPUnix(socket)).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (json != null) {
      request.body(new StringRequestContent("application/json", json));
    }
    try {
      ContentResponse r = request.send();
      return new Answer(r.getStatus(), r.getContentAsString());
    } catch (TimeoutException e) {
      throw new IOException("no answer from " + socket + " within " + timeout.toSeconds()
          + " s", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IOException("cannot reach " + socket + ": " + cause.getMessage(), cause);
    }
  }

  @Override
  public void close() {
    try {
      http.stop();
    } catch (Exception e) {
      // closing: nothing left to do with it
    }
  }
}

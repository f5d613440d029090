package org.modelpack.csi.metrics;

import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.config.MetricsAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code /metrics} and {@code /healthz} on each listener of {@code metrics_addr}, one
 * thread each: a scrape every few seconds needs no more, and a slow scraper cannot take
 * threads from anything else.
 */
final class MetricsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);
  static final String HEALTHZ = "/healthz";

  private final List<HTTPServer> servers;

  private MetricsServer(List<HTTPServer> servers) {
    this.servers = servers;
  }

  /** Listens on every address; when one cannot be bound, none stays open. */
  static MetricsServer start(MetricsAddress address, PrometheusRegistry registry,
      BooleanSupplier ready) throws IOException {
    List<HTTPServer> servers = new ArrayList<>();
    try {
      for (MetricsAddress.Listener l : address.listeners()) {
        servers.add(HTTPServer.builder().hostname(l.host()).port(l.port()).registry(registry)
            .executorService(Executors.newSingleThreadExecutor(
                DaemonThreads.named("metrics-http-" + l.port())))
            .defaultHandler(exchange -> healthzOrNotFound(exchange, ready)).buildAndStart());
        log.info("metrics served on http://{}/metrics", l);
      }
    } catch (IOException | RuntimeException e) {
      new MetricsServer(servers).close();
      throw new IOException("cannot listen on metrics_addr " + address.listeners() + ": " + e,
          e);
    }
    return new MetricsServer(servers);
  }

  /**
   * {@code /healthz}: 200 "ok" when the node is ready, 503 "not ready" when it is not (the answer
   * CSI Probe gives); anything else unknown is 404.
   */
  private static void healthzOrNotFound(HttpExchange exchange, BooleanSupplier ready)
      throws IOException {
    try (exchange) {
      boolean healthz = exchange.getRequestURI().getPath().equals(HEALTHZ);
      boolean ok = healthz && ready.getAsBoolean();
      byte[] body = (ok ? "ok" : healthz ? "not ready" : "not found")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(ok ? 200 : healthz ? 503 : 404, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    for (HTTPServer s : servers) {
      s.close();
    }
  }
}

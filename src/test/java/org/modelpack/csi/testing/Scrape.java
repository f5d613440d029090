package org.modelpack.csi.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * One scrape of a Prometheus text exposition, parsed into {@code name{labels}} → value, plus
 * plain HTTP calls against the metrics server.
 */
public record Scrape(Map<String, Double> samples, String text) {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  public static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static Scrape of(URI metrics) throws IOException, InterruptedException {
    HttpResponse<String> response = get(metrics);
    if (response.statusCode() != 200) {
      throw new IOException(metrics + " answered " + response.statusCode());
    }
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return new Scrape(Map.copyOf(samples), response.body());
  }

  /** The sample's value; {@code series} as exposed, e.g. {@code x_total} or {@code x{op="a"}}. */
  public OptionalDouble value(String series) {
    Double v = samples.get(series);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  public double valueOr0(String series) {
    return value(series).orElse(0);
  }

  /** Whether a {@code # TYPE} line names the family. */
  public boolean hasFamily(String name) {
    return text.contains("# TYPE " + name + " ");
  }

  /** A loopback port free now, for a metrics listener a test is about to start. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}

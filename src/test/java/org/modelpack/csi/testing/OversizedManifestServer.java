package org.modelpack.csi.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A registry endpoint that answers every manifest request with a valid model manifest of
 * {@code size} bytes (padded with an annotation), streamed. distribution 2.8 refuses to store or
 * serve a manifest over 4 MiB, so a registry that does not bound them is played by this
 * server; everything else is 404.
 */
public final class OversizedManifestServer implements AutoCloseable {
  private final HttpServer server;

  private OversizedManifestServer(HttpServer server) {
    this.server = server;
  }

  public static OversizedManifestServer start(long size) throws IOException {
    HttpServer server = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v2/", exchange -> {
      try (exchange) {
        if (!exchange.getRequestURI().getPath().contains("/manifests/")) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        byte[] head = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest"
            + ".v1+json\",\"artifactType\":\"application/vnd.cncf.model.manifest.v1+json\","
            + "\"config\":{\"mediaType\":\"application/vnd.cncf.model.config.v1+json\","
            + "\"digest\":\"sha256:" + "0".repeat(64) + "\",\"size\":2},\"layers\":[],"
            + "\"annotations\":{\"pad\":\"").getBytes(StandardCharsets.US_ASCII);
        byte[] tail = "\"}}".getBytes(StandardCharsets.US_ASCII);
        exchange.getResponseHeaders().set("Content-Type",
            "application/vnd.oci.image.manifest.v1+json");
        exchange.sendResponseHeaders(200, size);
        OutputStream out = exchange.getResponseBody();
        out.write(head);
        byte[] pad = new byte[64 * 1024];
        Arrays.fill(pad, (byte) 'a');
        for (long left = size - head.length - tail.length; left > 0; ) {
          int k = (int) Math.min(pad.length, left);
          out.write(pad, 0, k);
          left -= k;
        }
        out.write(tail);
      } catch (IOException e) {
        // the client stopped reading at its bound: expected
      }
    });
    server.start();
    return new OversizedManifestServer(server);
  }

  /** {@code 127.0.0.1:<port>}, usable as the registry part of a reference. */
  public String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

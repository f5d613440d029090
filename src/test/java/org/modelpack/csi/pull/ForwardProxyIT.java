package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.RegistryServer;

/** {@code pull_config.proxy_url}: every registry request goes through the HTTP proxy. */
class ForwardProxyIT {
  @TempDir static Path tmp;
  static RegistryServer registry;
  static ServerSocket proxy;
  static final List<String> requestLines = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    proxy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(ForwardProxyIT::acceptLoop, "test-forward-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterAll
  static void stop() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    proxy.close();
    registry.close();
  }

  /**
   * A minimal forward proxy for plain HTTP: it reads the first request line (absolute form, as
   * clients send to a proxy), connects to that host and pipes both directions. Every request
   * line seen on the client side is recorded.
   */
  static void acceptLoop() {
    while (!proxy.isClosed()) {
      try {
        Socket client = proxy.accept();
        Thread t = new Thread(() -> serve(client), "test-forward-proxy-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  static void serve(Socket client) {
    try (client; InputStream in = client.getInputStream()) {
      ByteArrayOutputStream first = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        first.write(b);
      }
      String line = first.toString(StandardCharsets.US_ASCII).trim();
      requestLines.add(line);
      URI target = URI.create(line.split(" ")[1]);
      try (Socket upstream = new Socket(target.getHost(), target.getPort())) {
        OutputStream up = upstream.getOutputStream();
        up.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        Thread toUpstream = new Thread(() -> pipe(in, up));
        toUpstream.setDaemon(true);
        toUpstream.start();
        pipe(upstream.getInputStream(), client.getOutputStream());
      }
    } catch (IOException | RuntimeException e) {
      // connection ended
    }
  }

  static void pipe(InputStream from, OutputStream to) {
    byte[] buf = new byte[64 * 1024];
    try {
      int n;
      while ((n = from.read(buf)) >= 0) {
        to.write(buf, 0, n);
        to.flush();
        String chunk = new String(buf, 0, Math.min(n, 200), StandardCharsets.US_ASCII);
        if (chunk.startsWith("GET http://") || chunk.startsWith("HEAD http://")) {
          requestLines.add(chunk.substring(0, chunk.indexOf(' ', chunk.indexOf(' ') + 1)));
        }
      }
    } catch (IOException e) {
      // closed
    }
  }

  @Test
  void registryRequestsGoThroughTheConfiguredHttpProxy() throws Exception {
    PushedArtifact a;
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")))) {
      a = ModelArtifactBuilder.create(tmp.resolve("artifact"))
          .rawFile("model.safetensors", 200_000, 3)
          .push(pusher, Reference.parse(registry.host() + "/models/proxied:v1"));
    }
    Path root = tmp.resolve("root");
    try (NodePlugin plugin = NodePlugin.start(new ConfigLoader(Map.of(), () -> "n", tmp).parse("""
            root_dir: %s
            csi_endpoint: unix://%s/csi.sock
            pull_config:
              docker_config_dir: %s
              proxy_url: http://127.0.0.1:%d
            """.formatted(root, root, tmp.resolve("docker"), proxy.getLocalPort())));
        CsiClient csi = new CsiClient(plugin.config().csiEndpoint())) {
      Path target = tmp.resolve("pods/proxied/model");
      csi.node().nodePublishVolume(publish("csi-proxied", target,
          registry.host() + "/models/proxied:v1").build());
      assertThat(sha256(target.resolve("model.safetensors")))
          .isEqualTo(a.files().get(0).sha256());
      csi.node().nodeUnpublishVolume(unpublish("csi-proxied", target));
    }
    String base = "http://" + registry.host() + "/v2/models/proxied/";
    assertThat(requestLines).anyMatch(l -> l.startsWith("GET " + base + "manifests/v1"));
    assertThat(requestLines).anyMatch(l -> l.equals("GET " + base + "blobs/sha256:"
        + a.files().get(0).sha256()) || l.startsWith("GET " + base + "blobs/sha256:"
        + a.files().get(0).sha256() + " "));
  }
}

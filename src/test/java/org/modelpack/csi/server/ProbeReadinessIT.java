package org.modelpack.csi.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import csi.v1.Csi.ProbeRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.Scrape;
import org.modelpack.csi.testing.TestNode;
import org.slf4j.LoggerFactory;

/**
 * CSI Probe and the metrics port's {@code /healthz} say "not ready" while root_dir cannot be
 * written, with a log line saying why, and "ready" again once it can. The kernel refuses to
 * remount a mount read-only while a file on it is open for writing (the driver's root_dir lock
 * is), so the test bind-mounts root_dir's scratch area (where the readiness check writes) onto
 * itself read-only, as an ext4 {@code errors=remount-ro} would make all of root_dir. Requires
 * root.
 */
class ProbeReadinessIT extends NodesWithRegistry {
  private static final Duration WITHIN = WritableRoot.TTL.multipliedBy(5);

  @Test
  void probeAndHealthzSayNotReadyWhileRootDirIsReadOnlyAndReadyAgainAfter() throws Exception {
    int port = Scrape.freePort();
    TestNode node = startNode("root", "", "metrics_addr: tcp://127.0.0.1:" + port);
    URI healthz = URI.create("http://127.0.0.1:" + port + "/healthz");
    Path scratch = node.root.resolve("staging").toRealPath();
    assertThat(probe(node)).isTrue();
    assertThat(healthz(healthz)).isEqualTo(200);

    Logger logger = (Logger) LoggerFactory.getLogger(WritableRoot.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      Commands.run("mount", "--bind", scratch.toString(), scratch.toString());
      closeAfterTest(() -> Commands.run("umount", scratch.toString()));
      Commands.run("mount", "-o", "remount,bind,ro", scratch.toString());

      await().atMost(WITHIN).until(() -> !probe(node));
      assertThat(healthz(healthz)).isEqualTo(503);
      assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).startsWith("not ready: cannot write in ")
              .contains("Read-only file system"));

      Commands.run("mount", "-o", "remount,bind,rw", scratch.toString());
      await().atMost(WITHIN).until(() -> probe(node));
      assertThat(healthz(healthz)).isEqualTo(200);
      assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).startsWith("ready again: ").endsWith("is writable"));
    } finally {
      logger.detachAppender(lines);
    }
  }

  private static boolean probe(TestNode node) {
    return node.csi.identity().probe(ProbeRequest.getDefaultInstance()).getReady().getValue();
  }

  private static int healthz(URI uri) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

}

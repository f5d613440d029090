package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.RegistryServer;

/**
 * Ranged downloads add streams only while they add throughput (decision 1211): through a
 * {@link FaultProxy} in front of a real registry, a link that caps each connection grows to the
 * maximum of 4 streams, a link whose bandwidth all connections share stays at one. The counts
 * come from the client's {@link RegistryStats}; the rates are low enough (a few MB/s) that the
 * machine's load does not decide the outcome.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdaptiveStreamsIT {
  Path work;
  RegistryServer registry;
  FaultProxy proxy;
  RegistryClient pusher;
  long seed = 5000;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    work = dir;
    registry = RegistryServer.start(work.resolve("registry"));
    proxy = FaultProxy.start(registry.host());
    pusher = new RegistryClient(RegistrySettings.defaults());
  }

  @AfterAll
  void stop() {
    pusher.close();
    proxy.close();
    registry.close();
  }

  @BeforeEach
  void clean() {
    proxy.reset();
  }

  /** Pushes {@code size} pseudo-random bytes; returns the descriptor. */
  Descriptor blob(long size) throws Exception {
    Path file = work.resolve("src-" + (++seed));
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] buf = new byte[1 << 16];
    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), md)) {
      for (long left = size; left > 0; left -= buf.length) {
        rnd.nextBytes(buf);
        out.write(buf, 0, (int) Math.min(buf.length, left));
      }
    }
    String digest = "sha256:" + HexFormat.of().formatHex(md.digest());
    pusher.pushBlob(Reference.parse(registry.host() + "/adaptive/blobs:v1"), file, digest);
    Files.delete(file);
    return new Descriptor("application/octet-stream", digest, size, null);
  }

  /** Downloads through the proxy with up to 4 ranged streams; returns the client's stats. */
  RegistryStats download(Descriptor blob) throws Exception {
    RegistrySettings settings = RegistrySettings.defaults().withParallelDownload(1 << 20, 4);
    try (RegistryClient client = new RegistryClient(settings)) {
      Path dest = work.resolve("out-" + seed);
      client.downloadBlob(Reference.parse(proxy.host() + "/adaptive/blobs:v1"), blob, dest);
      assertThat(Files.size(dest)).isEqualTo(blob.size()); // verified by digest before this
      Files.delete(dest);
      return client.stats();
    }
  }

  @Test
  void aLinkThatCapsEachConnectionGrowsToFourStreams() throws Exception {
    Descriptor b = blob(32L << 20);
    proxy.bandwidthLimit(4_000_000);
    RegistryStats stats = download(b);
    assertThat(stats.rangeStreamsAdded()).isEqualTo(3);
    assertThat(stats.rangeStreamsRetired()).isZero();
  }

  @Test
  void aLinkAllConnectionsShareStaysAtOneStream() throws Exception {
    Descriptor b = blob(16L << 20);
    proxy.sharedBandwidthLimit(8_000_000);
    RegistryStats stats = download(b);
    // One stream more is tried, brings nothing, and is stopped after its chunk.
    assertThat(stats.rangeStreamsAdded()).isEqualTo(1);
    assertThat(stats.rangeStreamsRetired()).isEqualTo(1);
  }
}

package org.modelpack.csi.bench;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.FaultProxy;

/**
 * Parallel ranged download against one stream, for bench/parallel-ranges.sh.
 *
 * <pre>
 * ParallelRangesBench REGISTRY WORK_DIR SIZE_MIB BYTES_PER_SECOND_PER_CONNECTION CONNECTIONS ROUNDS
 * </pre>
 *
 * Pushes to the registry at REGISTRY ({@code host:port}, plain HTTP) SIZE_MIB of pseudo-random bytes as one blob,
 * puts a {@link FaultProxy} limited to BYTES_PER_SECOND per connection in front and downloads
 * the blob through it with {@link RegistryClient#downloadBlob}, alternating single stream
 * (parallel threshold 0) and CONNECTIONS ranges (threshold 1 MiB), ROUNDS times each. Every
 * download is digest-verified by the client (the parallel time includes its hashing pass).
 * Prints one line per download and "ratio" = median single / median parallel.
 */
public final class ParallelRangesBench {
  private ParallelRangesBench() {}

  public static void main(String[] args) throws Exception {
    String registry = args[0];
    Path work = Path.of(args[1]);
    long size = Long.parseLong(args[2]) << 20;
    long rate = Long.parseLong(args[3]);
    int connections = Integer.parseInt(args[4]);
    int rounds = Integer.parseInt(args[5]);
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults())) {
      Path src = work.resolve("blob");
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      SplittableRandom rnd = new SplittableRandom(42);
      byte[] buf = new byte[1 << 20];
      try (OutputStream out = new DigestOutputStream(Files.newOutputStream(src), md)) {
        for (long left = size; left > 0; left -= buf.length) {
          for (int i = 0; i < buf.length; i += 8) {
            long v = rnd.nextLong();
            for (int j = 0; j < 8; j++) {
              buf[i + j] = (byte) (v >>> (8 * j));
            }
          }
          out.write(buf, 0, (int) Math.min(buf.length, left));
        }
      }
      String digest = "sha256:" + HexFormat.of().formatHex(md.digest());
      pusher.pushBlob(Reference.parse(registry + "/bench/big:v1"), src, digest);
      Files.delete(src);
      Descriptor blob = new Descriptor("application/octet-stream", digest, size, null);
      try (FaultProxy proxy = FaultProxy.start(registry).bandwidthLimit(rate)) {
        Reference ref = Reference.parse(proxy.host() + "/bench/big:v1");
        long[] single = new long[rounds];
        long[] parallel = new long[rounds];
        for (int r = 0; r < rounds; r++) {
          single[r] = timed(ref, blob, work, 0, connections, "single", r);
          parallel[r] = timed(ref, blob, work, 1 << 20, connections, "parallel", r);
        }
        java.util.Arrays.sort(single);
        java.util.Arrays.sort(parallel);
        long s = single[rounds / 2];
        long p = parallel[rounds / 2];
        System.out.printf("median single %d ms, parallel(%d) %d ms, ratio %.2f%n", s,
            connections, p, (double) s / p);
      }
    }
  }

  private static long timed(Reference ref, Descriptor blob, Path work, long threshold,
      int connections, String label, int round) throws Exception {
    Path dest = work.resolve("out");
    RegistrySettings settings = RegistrySettings.defaults()
        .withParallelDownload(threshold, connections);
    long start = System.nanoTime();
    try (RegistryClient c = new RegistryClient(settings)) {
      c.downloadBlob(ref, blob, dest);
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("round %d %s: %d ms, %.1f MB/s%n", round + 1, label, ms,
        blob.size() / 1e3 / ms);
    Files.delete(dest);
    return ms;
  }
}

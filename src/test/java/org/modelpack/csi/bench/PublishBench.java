package org.modelpack.csi.bench;

import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.ProbeRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.testing.CsiRequests;

/**
 * A kubelet stand-in for the bench scripts: one JVM, one connection, and the time of each
 * NodePublishVolume RPC alone (the CLI's "in N ms" also counts its own gRPC/Netty start).
 *
 * <pre>
 * java -cp target/test-classes:target/model-csi-driver.jar org.modelpack.csi.bench.PublishBench \
 *     SOCKET TARGETS_DIR REFERENCE OP...
 *   publish:ID[,ID...]    publish the listed volumes at once (threads released by a barrier);
 *                         prints "publish ID[,ID...] WALL_MS [EACH_MS ...]"
 *   unpublish:ID[,ID...]  unpublish them one after the other; prints "unpublish ID... WALL_MS"
 *   warmclient:N          N untimed NodeGetCapabilities calls (warms this client JVM; prints
 *                         nothing)
 * </pre>
 * Targets are TARGETS_DIR/ID. Before the first operation a Probe opens the connection (waiting
 * for the driver to be ready), so no timed call pays for connecting.
 */
public final class PublishBench {
  private PublishBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: PublishBench SOCKET TARGETS_DIR REFERENCE OP...");
      System.exit(2);
    }
    Path socket = Path.of(args[0]);
    Path targets = Path.of(args[1]);
    String reference = args[2];
    try (CsiClient client = new CsiClient(socket)) {
      client.identity().withWaitForReady().withDeadlineAfter(60, TimeUnit.SECONDS)
          .probe(ProbeRequest.getDefaultInstance());
      for (int i = 3; i < args.length; i++) {
        String[] op = args[i].split(":", 2);
        List<String> ids = List.of(op[1].split(","));
        switch (op[0]) {
          case "publish" -> publish(client, targets, reference, ids);
          case "unpublish" -> unpublish(client, targets, ids);
          case "warmclient" -> warmClient(client, Integer.parseInt(op[1]));
          default -> throw new IllegalArgumentException("unknown operation " + args[i]);
        }
      }
    }
  }

  private static void publish(CsiClient client, Path targets, String reference, List<String> ids)
      throws Exception {
    int n = ids.size();
    CyclicBarrier barrier = new CyclicBarrier(n + 1);
    long[] each = new long[n];
    Throwable[] errors = new Throwable[n];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      Thread t = new Thread(() -> {
        var request = CsiRequests.publish(ids.get(k), targets.resolve(ids.get(k)), reference)
            .build();
        try {
          barrier.await();
          long s = System.nanoTime();
          client.node().withDeadlineAfter(1, TimeUnit.HOURS).nodePublishVolume(request);
          each[k] = System.nanoTime() - s;
        } catch (Throwable e) {
          errors[k] = e;
        }
      }, "publish-" + ids.get(k));
      t.start();
      threads.add(t);
    }
    barrier.await();
    long start = System.nanoTime();
    for (Thread t : threads) {
      t.join();
    }
    long wall = System.nanoTime() - start;
    for (int i = 0; i < n; i++) {
      if (errors[i] != null) {
        System.err.println("publish " + ids.get(i) + " failed: " + errors[i]);
        System.exit(1);
      }
    }
    StringBuilder line = new StringBuilder("publish " + String.join(",", ids) + " " + ms(wall));
    for (long e : each) {
      line.append(' ').append(ms(e));
    }
    System.out.println(line);
  }

  /**
   * N untimed NodeGetCapabilities calls, so the timed calls do not pay for this client JVM's
   * own warm-up (interpreted gRPC and Netty code): kubelet is a long-running, compiled client.
   */
  private static void warmClient(CsiClient client, int calls) {
    for (int i = 0; i < calls; i++) {
      client.node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance());
    }
  }

  private static void unpublish(CsiClient client, Path targets, List<String> ids) {
    long start = System.nanoTime();
    for (String id : ids) {
      client.node().withDeadlineAfter(10, TimeUnit.MINUTES)
          .nodeUnpublishVolume(CsiRequests.unpublish(id, targets.resolve(id)));
    }
    System.out.println("unpublish " + String.join(",", ids) + " " + ms(System.nanoTime() - start));
  }

  private static String ms(long nanos) {
    return String.format("%.1f", nanos / 1e6);
  }
}

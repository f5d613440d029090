package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.pull.PullPlan;
import org.modelpack.csi.pull.VolumePull;
import org.modelpack.csi.registry.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Node prefetch: pulls a model into the layer store with no volume to show it in, so that the
 * publishes that come later find it warm (docs/decisions/1141-node-prefetch.md).
 *
 * <p>A prefetch is an ordinary pull into a short-lived internal volume under {@code
 * root_dir/prefetch}, released when the pull ends: the same manifest resolution, the same
 * singleflight per layer (a publish of the same model meanwhile joins its downloads, and it
 * theirs), the same node credentials and mirrors, and the manifest recorded for warm
 * publishes. Once released, its entries are unreferenced warm cache under the usual eviction
 * rules. Its volume ids contain '~', which {@link VolumeIds} refuses, so they can never be
 * a CSI volume's. Their records are not under {@code volumes/}, so a restart holds no
 * reference for them; it clears the directory a crash left.
 */
public final class Prefetcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Prefetcher.class);
  static final String ID_PREFIX = "prefetch~";

  private final Path dir;
  private final Supplier<ModelPuller> puller;
  private final ConcurrentHashMap<String, Prefetch> running = new ConcurrentHashMap<>();
  private final ExecutorService threads = Executors.newCachedThreadPool(
      DaemonThreads.named("prefetch"));
  private final AtomicLong sequence = new AtomicLong();

  private Prefetcher(Path dir, Supplier<ModelPuller> puller) {
    this.dir = dir;
    this.puller = puller;
  }

  /**
   * The prefetcher working in {@code dir} (its own, inside root_dir; made by the first
   * prefetch, so a node that never prefetches has none); what a previous process left there is
   * removed first.
   */
  public static Prefetcher open(Path dir, Supplier<ModelPuller> puller) throws IOException {
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      FileTrees.delete(dir);
    }
    return new Prefetcher(dir, puller);
  }

  /**
   * Starts the prefetch of {@code reference} without {@code filter}'s layers, or joins the one
   * running for the same reference and filter.
   *
   * @throws DriverException INVALID_ARGUMENT naming a reference that is not one
   */
  public Joined pull(String reference, LayerFilter filter) {
    Reference parsed;
    try {
      parsed = Reference.parse(reference);
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT,
          "model reference '" + reference + "' is invalid: " + e.getMessage(), e);
    }
    String key = reference + "\n" + filter;
    boolean[] started = new boolean[1];
    Prefetch p = running.computeIfAbsent(key, k -> {
      started[0] = true;
      return new Prefetch(reference, filter);
    });
    if (started[0]) {
      try {
        threads.execute(() -> run(p, parsed, key));
      } catch (RejectedExecutionException e) {
        running.remove(key, p);
        throw new DriverException(ErrorKind.UNAVAILABLE, "the driver is stopping; prefetch of "
            + reference + " was not started", e);
      }
    }
    return new Joined(p, !started[0]);
  }

  /** A prefetch as one caller sees it: {@code joined} when it was already running. */
  public record Joined(Prefetch prefetch, boolean joined) {}

  private void run(Prefetch p, Reference reference, String key) {
    long n = sequence.incrementAndGet();
    String volumeId = ID_PREFIX + n;
    Path volumeDir = dir.resolve(Long.toString(n));
    ModelPuller pull = puller.get();
    long start = System.nanoTime();
    try {
      Dirs.own(dir, Dirs.PRIVATE);
      Dirs.create(volumeDir, Dirs.PRIVATE);
      PullPlan plan = pull.pull(new VolumePull(reference, p.filter(), volumeId, volumeDir,
          volumeDir.resolve("model"), false, false), p.progress());
      log.info("prefetched {} ({}, {} layers) in {} ms", p.reference(), plan.manifestDigest(),
          plan.layers().size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      finish(p, key, volumeId, volumeDir);
      p.succeeded(plan);
    } catch (DriverException e) {
      finish(p, key, volumeId, volumeDir);
      log.warn("prefetch of {} failed: {} {}", p.reference(), e.kind(), e.getMessage());
      p.failed(e);
    } catch (IOException | RuntimeException e) {
      finish(p, key, volumeId, volumeDir);
      log.error("prefetch of {} failed", p.reference(), e);
      p.failed(new DriverException(ErrorKind.INTERNAL, "prefetch of " + p.reference() + ": "
          + e, e));
    }
  }

  /**
   * Removes the internal volume and lets go of its entries, before callers hear the outcome:
   * whoever sees a prefetch end sees its entries unreferenced and nothing left behind.
   */
  private void finish(Prefetch p, String key, String volumeId, Path volumeDir) {
    try {
      FileTrees.delete(volumeDir);
    } catch (IOException e) {
      log.warn("cannot remove prefetch directory {}: {}", volumeDir, e.toString());
    }
    puller.get().release(volumeId);
    running.remove(key, p);
  }

  /** Interrupts every prefetch and waits a little for each to clean up. */
  @Override
  public void close() {
    threads.shutdownNow();
    try {
      if (!threads.awaitTermination(30, TimeUnit.SECONDS)) {
        log.warn("prefetches did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

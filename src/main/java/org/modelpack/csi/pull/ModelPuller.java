package org.modelpack.csi.pull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.materialize.RawLayerPlacer;
import org.modelpack.csi.materialize.TarLayerExtractor;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls a model into a directory: resolve the reference, plan the layers, then download and
 * place layers in parallel. Every blob is verified before any file from it becomes visible, and
 * a failure removes everything this pull wrote.
 */
public final class ModelPuller {
  private static final Logger log = LoggerFactory.getLogger(ModelPuller.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final RegistryClient client;
  private final PullPlanner planner = new PullPlanner();
  private final int concurrency;

  public ModelPuller(RegistryClient client, int concurrency) {
    this.client = client;
    this.concurrency = concurrency;
  }

  /** Fetches the manifest and plans the pull. */
  public PullPlan resolve(Reference reference) {
    try {
      return planner.plan(client.fetchManifest(reference));
    } catch (Exception e) {
      throw Failures.classify("model " + reference, e);
    }
  }

  /**
   * Downloads every layer of {@code plan} into {@code modelDir}. Blobs are first written under
   * {@code ingestDir}, which must be on the same filesystem so placing a verified file is a link.
   */
  public void materialize(PullPlan plan, Path modelDir, Path ingestDir) {
    String context = "model " + plan.reference();
    try {
      Files.createDirectories(modelDir);
      Files.createDirectories(ingestDir);
    } catch (IOException e) {
      throw Failures.classify(context, e);
    }
    ExecutorService pool = Executors.newFixedThreadPool(
        Math.max(1, Math.min(concurrency, plan.layers().size())), r -> {
          Thread t = new Thread(r, "pull-" + THREADS.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    List<Future<?>> futures = new ArrayList<>();
    try {
      for (LayerPlan layer : plan.layers()) {
        futures.add(pool.submit(() -> {
          pullLayer(plan.reference(), layer, modelDir, ingestDir);
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (ExecutionException e) {
      throw Failures.classify(context, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DriverException(ErrorKind.ABORTED, context + ": pull was interrupted", e);
    } finally {
      futures.forEach(f -> f.cancel(true));
      pool.shutdownNow();
      awaitQuietly(pool);
      deleteTree(ingestDir);
    }
  }

  private void pullLayer(Reference ref, LayerPlan layer, Path modelDir, Path ingestDir)
      throws IOException {
    Path blob = ingestDir.resolve(layer.index() + "-"
        + layer.layer().digest().replace(':', '-') + ".partial");
    long started = System.nanoTime();
    try {
      client.downloadBlob(ref, layer.layer(), blob);
      if (layer.format() == LayerFormat.RAW) {
        RawLayerPlacer.place(blob, modelDir, layer.path(), layer.metadata(), layer.layer().digest());
      } else {
        TarLayerExtractor.extract(blob, layer.format(), modelDir, layer.layer().digest());
      }
    } catch (IOException | RuntimeException e) {
      throw Failures.classify("model " + ref + ", " + layer.describe(), e);
    } finally {
      Files.deleteIfExists(blob);
    }
    log.info("pulled {} {} ({} bytes) in {} ms", ref, layer.describe(), layer.layer().size(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  private static void awaitQuietly(ExecutorService pool) {
    try {
      if (!pool.awaitTermination(5, TimeUnit.MINUTES)) {
        log.warn("layer downloads did not stop within 5 minutes after cancellation");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void deleteTree(Path dir) {
    try {
      FileTrees.delete(dir);
    } catch (IOException e) {
      log.warn("could not remove {}: {}", dir, e.getMessage());
    }
  }
}

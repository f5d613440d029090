package org.modelpack.csi.pull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.oci.BlobSource;
import org.modelpack.csi.store.LayerPlacer;
import org.modelpack.csi.store.Placement;
import org.modelpack.csi.store.PlacementMethod;
import org.modelpack.csi.unpack.SafeDirs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every layer of a plan appear in a volume's model directory, one store call per layer.
 * Layers already in the store are placed on the caller's thread (unless they are to be copied);
 * the others go to a pool, up to the pull's concurrency at once, and are placed as the store
 * gets them. The first failing layer fails the whole plan at once.
 */
final class PlanPlacer {
  private static final Logger log = LoggerFactory.getLogger(PlanPlacer.class);

  private final LayerPlacer store;
  private final int concurrency;

  PlanPlacer(LayerPlacer store, int concurrency) {
    this.store = store;
    this.concurrency = concurrency;
  }

  /** Whether the store holds every layer of {@code plan} now. */
  boolean allStored(PullPlan plan) {
    return plan.layers().stream().allMatch(l -> store.isStored(l.storeRequest().key()));
  }

  /** Places the plan's layers; the caller releases the volume's references on failure. */
  void place(PullPlan plan, VolumePull v, BlobSource source, PullProgress progress) {
    progress.total(plan.totalBytes());
    String context = "model " + plan.reference();
    ExecutorService pool = null;
    List<Future<Set<PlacementMethod>>> futures = new ArrayList<>();
    try {
      // Pods see the model directory's own mode through the mount; the umask has no say.
      Dirs.create(v.modelDir(), Dirs.SHARED);
      // One view of the model directory for all layers: each directory is checked once.
      SafeDirs modelDirs = new SafeDirs(v.modelDir());
      Map<PlacementMethod, Integer> methods = new EnumMap<>(PlacementMethod.class);
      // Results are taken in completion order, so the first failing layer fails the pull at once
      // instead of after every layer submitted before it.
      CompletionService<Set<PlacementMethod>> done = null;
      List<LayerPlan> stored = new ArrayList<>();
      int onNode = 0;
      long onNodeBytes = 0;
      for (LayerPlan layer : plan.layers()) {
        boolean isStored = store.isStored(layer.storeRequest().key());
        if (isStored) {
          onNode++;
          onNodeBytes += layer.layer().size();
        }
        // A stored layer is a few links, placed here; private copies are real work, for the pool.
        if (!v.privateCopies() && isStored) {
          stored.add(layer);
          continue;
        }
        if (pool == null) {
          pool = Executors.newFixedThreadPool(Math.max(1,
              Math.min(concurrency, plan.layers().size())), DaemonThreads.named("pull"));
          done = new ExecutorCompletionService<>(pool);
        }
        futures.add(done.submit(() -> placeLayer(plan, layer, v, modelDirs, source, progress)));
      }
      progress.planned(new PullStart(plan.totalBytes(), plan.layers().size(), onNode,
          onNodeBytes));
      // The downloads are under way; the stored layers are placed meanwhile, on this thread.
      for (LayerPlan layer : stored) {
        placeLayer(plan, layer, v, modelDirs, source, progress)
            .forEach(m -> methods.merge(m, 1, Integer::sum));
      }
      for (int i = 0; i < futures.size(); i++) {
        done.take().get().forEach(m -> methods.merge(m, 1, Integer::sum));
      }
      log.info("volume {}: {} layers of {} placed ({})", v.volumeId(), plan.layers().size(),
          plan.reference(), methods);
    } catch (ExecutionException e) {
      throw Failures.classify(context, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DriverException(ErrorKind.ABORTED, context + ": pull was interrupted", e);
    } catch (IOException e) {
      throw Failures.classify(context, e);
    } finally {
      futures.forEach(f -> f.cancel(true));
      if (pool != null) {
        pool.shutdownNow();
        awaitQuietly(pool);
      }
    }
  }

  private Set<PlacementMethod> placeLayer(PullPlan plan, LayerPlan layer, VolumePull v,
      SafeDirs modelDirs, BlobSource source, PullProgress progress)
      throws IOException, InterruptedException {
    long started = System.nanoTime();
    try {
      Set<PlacementMethod> used = store.place(new Placement(v.volumeId(), layer.storeRequest(),
          modelDirs, layer.path(), v.privateCopies()), source, progress);
      if (log.isDebugEnabled()) {
        log.debug("volume {}: {} ready in {} ms via {}", v.volumeId(), layer.describe(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), used);
      }
      return used;
    } catch (IOException | RuntimeException e) {
      throw Failures.classify("model " + plan.reference() + ", " + layer.describe(), e);
    }
  }

  private static void awaitQuietly(ExecutorService pool) {
    try {
      if (!pool.awaitTermination(5, TimeUnit.MINUTES)) {
        log.warn("layer placement did not stop within 5 minutes after cancellation");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package org.modelpack.csi.volume;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.modelpack.csi.concurrent.Futures;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.pull.PullPlan;
import org.modelpack.csi.pull.PullProgress;

/**
 * One node prefetch running in the background: a model pulled into the store for no volume.
 * Any number of callers watch it; none of them owns it, so none going away stops it.
 */
public final class Prefetch {
  private final String reference;
  private final LayerFilter filter;
  private final PullProgress progress = new PullProgress();
  private final CompletableFuture<PullPlan> result = new CompletableFuture<>();

  Prefetch(String reference, LayerFilter filter) {
    this.reference = reference;
    this.filter = filter;
  }

  public String reference() {
    return reference;
  }

  LayerFilter filter() {
    return filter;
  }

  public PullProgress progress() {
    return progress;
  }

  void succeeded(PullPlan plan) {
    result.complete(plan);
  }

  void failed(DriverException e) {
    result.completeExceptionally(e);
  }

  /** Waits up to {@code wait}; true once the prefetch has ended, either way. */
  public boolean await(Duration wait) throws InterruptedException {
    return Futures.endedWithin(result, wait);
  }

  /** What was pulled, or the pull's error. Only call once {@link #await} said it ended. */
  public PullPlan outcome() {
    try {
      return result.getNow(null);
    } catch (CompletionException e) {
      if (e.getCause() instanceof DriverException d) {
        throw d;
      }
      throw new DriverException(ErrorKind.INTERNAL, "prefetch of " + reference + ": "
          + e.getCause(), e.getCause());
    }
  }
}

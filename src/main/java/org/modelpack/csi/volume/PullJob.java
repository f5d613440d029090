package org.modelpack.csi.volume;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.modelpack.csi.concurrent.Futures;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.pull.PullProgress;

/**
 * A volume's pull running in the background, independent of any one RPC: kubelet's calls join
 * it until it is done, and its outcome waits for the next call to collect it.
 */
final class PullJob {
  final String volumeId;
  final String reference;
  final LayerFilter filter;
  final PullProgress progress = new PullProgress();
  /** When the publish that started it came: a mount reports how long the pod waited. */
  final long startNanos = System.nanoTime();
  private final CompletableFuture<VolumeStatus> result = new CompletableFuture<>();
  private final Clock clock;
  private volatile Instant lastAsked;
  private volatile Future<?> task;
  /** Set once, by whoever comes first: the pull starting, or a cancel preventing the start. */
  private final java.util.concurrent.atomic.AtomicBoolean gate =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** Cancelled by unpublish or the reaper: a pull that finishes anyway must not keep anything. */
  private volatile boolean abandoned;
  /** The targets publishes of this pull asked for: only their unpublish may cancel it. */
  private final java.util.Set<String> targets = java.util.concurrent.ConcurrentHashMap.newKeySet();

  PullJob(String volumeId, String reference, LayerFilter filter, Clock clock) {
    this.volumeId = volumeId;
    this.reference = reference;
    this.filter = filter;
    this.clock = clock;
    this.lastAsked = clock.instant();
  }

  void started(Future<?> task) {
    this.task = task;
  }

  /** The pull may start; false when a cancel came first. */
  boolean tryStart() {
    return gate.compareAndSet(false, true);
  }

  boolean abandoned() {
    return abandoned;
  }

  void succeeded(VolumeStatus status) {
    result.complete(status);
  }

  void failed(DriverException error) {
    result.completeExceptionally(error);
  }

  /** Somebody (kubelet) still wants this volume, at {@code target}. */
  void touch(String target) {
    targets.add(target);
    lastAsked = clock.instant();
  }

  /** True when a publish of this pull asked for {@code target}. */
  boolean askedFor(String target) {
    return targets.contains(target);
  }

  boolean unaskedFor(Duration timeout) {
    return Duration.between(lastAsked, clock.instant()).compareTo(timeout) > 0;
  }

  boolean isDone() {
    return result.isDone();
  }

  /** Waits up to {@code wait}; true when the pull has finished (either way). */
  boolean await(Duration wait) throws InterruptedException {
    return Futures.endedWithin(result, wait);
  }

  /** The pulled volume's status, or the pull's error. Only call once {@link #isDone()}. */
  VolumeStatus outcome() {
    try {
      return result.getNow(null);
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof DriverException d) {
        throw d;
      }
      throw new DriverException(ErrorKind.INTERNAL, "volume " + volumeId + ": " + e.getCause(),
          e.getCause());
    }
  }

  /** Interrupts the pull without waiting for it. */
  void cancel() {
    abandoned = true;
    if (gate.compareAndSet(false, true)) {
      failed(new DriverException(ErrorKind.ABORTED, "pull of volume " + volumeId
          + " was cancelled before it started"));
      return;
    }
    Future<?> t = task;
    if (t != null) {
      t.cancel(true);
    }
  }

  /** Interrupts the pull and waits (bounded) for it to clean up after itself. */
  void cancelAndWait() {
    cancel();
    try {
      result.get(2, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
      // cancelled, failed or stuck: the caller removes what is left either way
    }
  }

  VolumeStatus.Progress progressNow() {
    return new VolumeStatus.Progress(progress.doneBytes(), Math.max(0, progress.totalBytes()));
  }

  String progressMessage() {
    long total = progress.totalBytes();
    if (total < 0) {
      return "pull in progress: resolving " + reference;
    }
    return "pull in progress: " + ByteSize.format(progress.doneBytes()) + " of "
        + ByteSize.format(total);
  }
}

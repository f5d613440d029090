package org.modelpack.csi.volume;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.PullProgress;
import org.modelpack.csi.pull.PullStart;
import org.modelpack.csi.volume.NodeOps.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times operations and reports them to {@link NodeOps}, with the Go driver's op names. A
 * recorder that throws is logged and ignored: metrics and events hang off the path, never sit
 * in it.
 */
final class ObservedOps {
  private static final Logger log = LoggerFactory.getLogger(ObservedOps.class);
  static final String PULL_IMAGE = "pull_image";

  private final NodeOps ops;

  ObservedOps(NodeOps ops) {
    this.ops = ops;
  }

  /**
   * The Go driver names a publish of a {@code pvc-} volume {@code publish_volume} and every
   * other (inline) one {@code publish_dynamic_volume}; unpublish likewise.
   */
  static String opName(String verb, String volumeId) {
    return verb + (volumeId.startsWith("pvc-") ? "_volume" : "_dynamic_volume");
  }

  /**
   * Runs a publish or unpublish ({@code verb}), reports it as {@link #opName} and logs one line
   * with the volume, the reference ({@code reference} is read after the call, so a call can
   * supply what it read anyway; "-" when it cannot be), the outcome and the time taken; a
   * failure's line carries its error.
   */
  <T> T observe(String verb, String volumeId, Supplier<String> reference, Supplier<T> call) {
    long start = System.nanoTime();
    Outcome outcome = Outcome.FAILED;
    String error = "";
    try {
      T result = call.get();
      outcome = Outcome.SUCCEEDED;
      return result;
    } catch (DriverException e) {
      if (e.kind() == ErrorKind.ABORTED) {
        outcome = Outcome.PENDING;
      }
      error = " error=" + e.kind() + ": " + e.getMessage();
      throw e;
    } catch (RuntimeException | Error e) {
      error = " error=" + e;
      throw e;
    } finally {
      long nanos = System.nanoTime() - start;
      record(opName(verb, volumeId), outcome, nanos);
      String line = "{} volume={} reference={} outcome={} time_ms={}{}";
      Object[] args = {verb, volumeId, referenceOrDash(reference), outcome.name().toLowerCase(Locale.ROOT),
          nanos / 1_000_000, error};
      if (outcome == Outcome.FAILED) {
        log.warn(line, args);
      } else {
        log.info(line, args);
      }
    }
  }

  void observe(String verb, String volumeId, Supplier<String> reference, Runnable call) {
    observe(verb, volumeId, reference, () -> {
      call.run();
      return null;
    });
  }

  private static String referenceOrDash(Supplier<String> reference) {
    try {
      String ref = reference.get();
      return ref == null || ref.isEmpty() ? "-" : ref;
    } catch (RuntimeException e) {
      return "-";
    }
  }

  /** A publish failed for good (not ABORTED, which means still pulling: reported as progress). */
  void publishFailed(PublishRequest req, RuntimeException e) {
    ErrorKind kind = e instanceof DriverException d ? d.kind() : ErrorKind.INTERNAL;
    if (kind != ErrorKind.ABORTED) {
      event(new VolumeEvent.Failed(req.pod(), req.volumeId(), req.reference(), kind,
          e.getMessage()));
    }
  }

  /** The volume is served at the request's target; {@code pulled} is null when nothing was. */
  void mounted(PublishRequest req, long sinceNanos, PullStart pulled) {
    event(new VolumeEvent.Mounted(req.pod(), req.volumeId(), req.reference(),
        Duration.ofNanos(System.nanoTime() - sinceNanos), pulled));
  }

  void pullStarted(PublishRequest req, PullStart planned) {
    event(new VolumeEvent.PullStarted(req.pod(), req.volumeId(), req.reference(), planned));
  }

  void pullProgressed(PublishRequest req, PullProgress progress) {
    event(new VolumeEvent.PullProgressed(req.pod(), req.volumeId(), req.reference(),
        progress.doneBytes(), progress.totalBytes()));
  }

  void event(VolumeEvent event) {
    try {
      ops.event(event);
    } catch (RuntimeException e) {
      log.debug("reporting {} failed: {}", event.getClass().getSimpleName(), e.toString());
    }
  }

  void record(String op, Outcome outcome, long nanos) {
    try {
      ops.record(op, outcome, nanos);
    } catch (RuntimeException e) {
      log.debug("recording {} {} failed: {}", op, outcome, e.toString());
    }
  }
}

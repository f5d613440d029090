package org.modelpack.csi.volume;

import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
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

  <T> T observe(String op, Supplier<T> call) {
    long start = System.nanoTime();
    Outcome outcome = Outcome.FAILED;
    try {
      T result = call.get();
      outcome = Outcome.SUCCEEDED;
      return result;
    } catch (DriverException e) {
      if (e.kind() == ErrorKind.ABORTED) {
        outcome = Outcome.PENDING;
      }
      throw e;
    } finally {
      record(op, outcome, System.nanoTime() - start);
    }
  }

  void observe(String op, Runnable call) {
    observe(op, () -> {
      call.run();
      return null;
    });
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

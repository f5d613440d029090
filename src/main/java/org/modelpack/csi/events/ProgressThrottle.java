package org.modelpack.csi.events;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * At most one progress Event per volume in each {@link #INTERVAL_NANOS}: kubelet may retry a
 * pending publish far more often, and a pod's event list is for people.
 */
final class ProgressThrottle {
  static final long INTERVAL_NANOS = 30_000_000_000L;

  private final ConcurrentHashMap<String, Long> lastSent = new ConcurrentHashMap<>();
  private final LongSupplier nanoTime;

  ProgressThrottle(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** True (and remembered) when the volume may report progress now. */
  boolean allow(String volumeId) {
    long now = nanoTime.getAsLong();
    boolean[] allowed = {false};
    lastSent.compute(volumeId, (id, last) -> {
      allowed[0] = last == null || now - last >= INTERVAL_NANOS;
      return allowed[0] ? now : last;
    });
    return allowed[0];
  }

  /** The volume's pull is over (mounted or failed): forget it. */
  void ended(String volumeId) {
    lastSent.remove(volumeId);
  }
}

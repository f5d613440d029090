package org.modelpack.csi.registry;

import java.time.Duration;

/**
 * Waits between retries. Injected so tests can record the requested waits instead of spending
 * them in real time.
 */
@FunctionalInterface
public interface Sleeper {
  Sleeper SYSTEM = d -> {
    if (!d.isNegative() && !d.isZero()) {
      Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
    }
  };

  void sleep(Duration duration) throws InterruptedException;
}

package org.modelpack.csi.concurrent;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting on background work whose outcome is read separately. */
public final class Futures {
  private Futures() {}

  /** Waits up to {@code wait}; true once {@code future} has ended, either way. */
  public static boolean endedWithin(Future<?> future, Duration wait) throws InterruptedException {
    try {
      future.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    }
    return true;
  }
}

package org.modelpack.csi.concurrent;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named daemon threads, so the driver's pools never keep the JVM alive on shutdown. */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory for threads named {@code <prefix>-1}, {@code <prefix>-2}, … */
  public static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}

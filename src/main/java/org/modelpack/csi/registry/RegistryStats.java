package org.modelpack.csi.registry;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Retries and resumes of one registry client (and the clients derived from it with other
 * credentials), by cause, and the streams its ranged downloads added and retired. Counted where they happen; read at scrape time by the metrics, which
 * the registry package does not know.
 */
public final class RegistryStats {
  private static final int CAUSES = RetryCause.values().length;

  private final AtomicLongArray retries = new AtomicLongArray(CAUSES);
  private final AtomicLongArray resumes = new AtomicLongArray(CAUSES);
  private final AtomicLong rangeStreamsAdded = new AtomicLong();
  private final AtomicLong rangeStreamsRetired = new AtomicLong();

  /** A request is about to be sent again after {@code cause}. */
  void retried(RetryCause cause) {
    retries.incrementAndGet(cause.ordinal());
  }

  /** A transfer that broke for {@code cause} goes on from the bytes it had (a 206 answer). */
  void resumed(RetryCause cause) {
    resumes.incrementAndGet(cause.ordinal());
  }

  /** A ranged download opened one stream more than it had (decision 1211). */
  void rangeStreamAdded() {
    rangeStreamsAdded.incrementAndGet();
  }

  /** A stream added to a ranged download did not add throughput and was stopped. */
  void rangeStreamRetired() {
    rangeStreamsRetired.incrementAndGet();
  }

  public long rangeStreamsAdded() {
    return rangeStreamsAdded.get();
  }

  public long rangeStreamsRetired() {
    return rangeStreamsRetired.get();
  }

  public long retries(RetryCause cause) {
    return retries.get(cause.ordinal());
  }

  public long resumes(RetryCause cause) {
    return resumes.get(cause.ordinal());
  }
}

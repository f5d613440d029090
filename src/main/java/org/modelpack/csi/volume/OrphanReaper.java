package org.modelpack.csi.volume;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels and removes the pulls nobody asked about within the orphan timeout: kubelet stops
 * calling for a pod that went away, and nothing else would ever remove its volume.
 */
final class OrphanReaper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OrphanReaper.class);

  /** Removes a volume's directory and its references to the store. */
  interface VolumeRemoval {
    void remove(String volumeId) throws IOException;
  }

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      DaemonThreads.named("orphan-reaper"));
  private final PullJobs jobs;
  private final VolumeLocks locks;
  private final Duration timeout;
  private final VolumeRemoval removal;

  private OrphanReaper(PullJobs jobs, VolumeLocks locks, Duration timeout,
      VolumeRemoval removal) {
    this.jobs = jobs;
    this.locks = locks;
    this.timeout = timeout;
    this.removal = removal;
  }

  /** Looks every quarter of the timeout (1 to 30 s): an orphan goes soon after its timeout. */
  static OrphanReaper start(PullJobs jobs, VolumeLocks locks, Duration timeout,
      VolumeRemoval removal) {
    OrphanReaper reaper = new OrphanReaper(jobs, locks, timeout, removal);
    long period = Math.max(1, Math.min(30, timeout.toSeconds() / 4));
    reaper.timer.scheduleWithFixedDelay(reaper::reap, period, period, TimeUnit.SECONDS);
    return reaper;
  }

  /** Cancels and removes every pull that nobody has asked about within the timeout. */
  void reap() {
    for (PullJob job : jobs.unaskedFor(timeout)) {
      try {
        locks.withLock(job.volumeId, () -> {
          // Still registered? A publish may have collected it, or unpublish cancelled it.
          if (jobs.remove(job)) {
            log.warn("volume {}: nobody asked for its pull of {} in {}; removing it",
                job.volumeId, job.reference, timeout);
            job.cancelAndWait();
            removal.remove(job.volumeId);
          }
          return null;
        });
      } catch (RuntimeException e) {
        log.warn("volume {}: orphan cleanup failed: {}", job.volumeId, e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}

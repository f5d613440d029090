package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.pull.PullPlan;
import org.modelpack.csi.pull.VolumePull;
import org.modelpack.csi.registry.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a volume's pull in the background, from its volume directory and {@code PULLING}
 * status to {@code PULL_SUCCEEDED} in status.json, or to nothing kept at all: kubelet may
 * never call unpublish for a volume whose pull failed. The job's monitor orders the pull's
 * final status write against a cancel and against the progress a waiting publish records.
 */
final class PullRunner {
  private static final Logger log = LoggerFactory.getLogger(PullRunner.class);

  private final VolumeDirs dirs;
  private final StatusStore statuses;
  private final PullJobs jobs;
  private final Supplier<ModelPuller> puller;
  private final ObservedOps ops;
  private final Clock clock;
  private final OrphanReaper.VolumeRemoval removal;

  PullRunner(VolumeDirs dirs, StatusStore statuses, PullJobs jobs, Supplier<ModelPuller> puller,
      ObservedOps ops, Clock clock, OrphanReaper.VolumeRemoval removal) {
    this.dirs = dirs;
    this.statuses = statuses;
    this.jobs = jobs;
    this.puller = puller;
    this.ops = ops;
    this.clock = clock;
    this.removal = removal;
  }

  /** Creates the volume's directory in {@code PULLING} and starts its pull. Under its lock. */
  PullJob start(PublishRequest req, Reference reference, Path volumeDir, Path modelDir)
      throws IOException {
    dirs.create(req.volumeId());
    VolumeStatus status = VolumeStatus.pulling(req.volumeId(), req.reference(), req.filter(),
        clock.instant());
    statuses.write(volumeDir, status);
    return jobs.start(req, job -> run(job, req, reference, volumeDir, modelDir, status));
  }

  /** Writes the progress of a pull still running into its volume's status.json. */
  void recordProgress(PullJob job) {
    synchronized (job) {
      if (!job.isDone()) {
        statuses.writeProgress(dirs.dir(job.volumeId), job.progressNow(), clock.instant());
      }
    }
  }

  private void run(PullJob job, PublishRequest req, Reference reference, Path volumeDir,
      Path modelDir, VolumeStatus pulling) {
    if (!job.tryStart()) {
      return;
    }
    long start = System.nanoTime();
    job.progress.onPlanned(planned -> ops.pullStarted(req, planned));
    try {
      PullPlan plan = puller.get().withPodCredentials(req.podCredentials(), reference.registry())
          .pull(new VolumePull(reference, req.filter(), req.volumeId(), volumeDir, modelDir,
              req.writable(), req.checkDiskQuota()), job.progress);
      synchronized (job) {
        if (job.abandoned()) {
          // Unpublish or the reaper gave up on this pull while it finished: keep nothing.
          removal.remove(req.volumeId());
          job.failed(new DriverException(ErrorKind.ABORTED, "pull of volume " + req.volumeId()
              + " was cancelled"));
          return;
        }
        VolumeStatus pulled = pulling.pulled(plan.manifestDigest(), clock.instant());
        statuses.write(volumeDir, pulled);
        job.succeeded(pulled);
      }
      ops.record(ObservedOps.PULL_IMAGE, NodeOps.Outcome.SUCCEEDED, System.nanoTime() - start);
    } catch (Throwable e) {
      DriverException error = e instanceof DriverException d ? d
          : new DriverException(ErrorKind.INTERNAL, "volume " + req.volumeId() + ": " + e, e);
      // Nothing of a failed pull is kept: kubelet may never call unpublish for it.
      synchronized (job) {
        try {
          removal.remove(req.volumeId());
        } catch (IOException | RuntimeException cleanup) {
          log.warn("volume {}: cleanup after a failed pull failed: {}", req.volumeId(),
              cleanup.toString());
        }
        log.warn("volume {}: pull of {} failed: {}", req.volumeId(), reference,
            error.getMessage());
        job.failed(error);
      }
      ops.record(ObservedOps.PULL_IMAGE, NodeOps.Outcome.FAILED, System.nanoTime() - start);
    }
  }
}

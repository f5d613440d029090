package org.modelpack.csi.dynamic;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.volume.PublishRequest;
import org.modelpack.csi.volume.VolumeManager;
import org.modelpack.csi.volume.VolumeStatus;

/**
 * Drives one API mount to its end, independent of the HTTP request that asked for it: it
 * publishes the mount's internal volume again each time the volume manager answers ABORTED
 * (pull still running), as kubelet does for an inline volume. So a client that times out does
 * not stop the pull, the pull is asked about far more often than the orphan timeout, and it is
 * mounted when it completes; a repeated POST waits on the same future (decision 1124). Once
 * the volume is mounted, its files are linked into the workspace before the future completes,
 * so a 201 means the pod sees them (decision 1127).
 */
final class MountWaiter implements Runnable {
  /**
   * Least time between two publishes of the mount: with a short {@code publish_wait_seconds}
   * (0 is allowed) ABORTED comes back at once, and each publish records the pull's progress in
   * status.json; asking again without a pause would spin a core and the disk for the whole pull.
   */
  static final Duration MIN_ASK_INTERVAL = Duration.ofSeconds(1);

  final String mountId;
  final PublishRequest request;
  final CompletableFuture<VolumeStatus> outcome = new CompletableFuture<>();
  private final VolumeManager volumes;
  private final Linking linking;
  private volatile boolean cancelled;

  /** What makes the mounted model visible in the workspace; run after each publish. */
  interface Linking {
    void link() throws IOException;
  }

  MountWaiter(String mountId, PublishRequest request, VolumeManager volumes, Linking linking) {
    this.mountId = mountId;
    this.request = request;
    this.volumes = volumes;
    this.linking = linking;
  }

  boolean sameContent(String reference, LayerFilter filter) {
    return request.reference().equals(reference) && request.filter().equals(filter);
  }

  /** Stops asking; the caller unpublishes the mount's volume, which cancels its pull. */
  void cancel() {
    cancelled = true;
  }

  @Override
  public void run() {
    while (!cancelled && !Thread.currentThread().isInterrupted()) {
      long asked = System.nanoTime();
      try {
        VolumeStatus mounted = volumes.publish(request);
        if (!cancelled) { // else the DELETE that cancelled it removes the mount anyway
          link();
        }
        outcome.complete(mounted);
        return;
      } catch (DriverException e) {
        // ABORTED: the pull runs on (or the volume was busy); anything else ends the mount.
        if (e.kind() != ErrorKind.ABORTED || cancelled) {
          outcome.completeExceptionally(e);
          return;
        }
        if (!pauseAfter(asked)) {
          break;
        }
      } catch (RuntimeException | Error e) {
        outcome.completeExceptionally(e);
        return;
      }
    }
    outcome.completeExceptionally(new DriverException(ErrorKind.ABORTED, "mount " + mountId
        + " was removed while it was pulling"));
  }

  /** Waits out the rest of {@link #MIN_ASK_INTERVAL} since {@code asked}; false if interrupted. */
  private static boolean pauseAfter(long asked) {
    long left = MIN_ASK_INTERVAL.toNanos() - (System.nanoTime() - asked);
    if (left > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /**
   * Links the files in, or takes the mount down: a mount the pod cannot see is a failure, and
   * a failed mount leaves nothing (the caller removes its directory).
   */
  private void link() {
    try {
      linking.link();
    } catch (IOException | RuntimeException e) {
      try {
        volumes.unpublish(request.volumeId(), request.targetPath());
      } catch (RuntimeException undo) {
        e.addSuppressed(undo);
      }
      throw new DriverException(ErrorKind.INTERNAL, "mount " + mountId + ": cannot link the "
          + "model's files into the workspace: " + e, e);
    }
  }
}

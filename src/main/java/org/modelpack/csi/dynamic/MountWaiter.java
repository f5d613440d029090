package org.modelpack.csi.dynamic;

import java.util.concurrent.CompletableFuture;
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
 * mounted when it completes; a repeated POST waits on the same future (decision 1124).
 */
final class MountWaiter implements Runnable {
  final String mountId;
  final PublishRequest request;
  final CompletableFuture<VolumeStatus> outcome = new CompletableFuture<>();
  private final VolumeManager volumes;
  private volatile boolean cancelled;

  MountWaiter(String mountId, PublishRequest request, VolumeManager volumes) {
    this.mountId = mountId;
    this.request = request;
    this.volumes = volumes;
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
      try {
        outcome.complete(volumes.publish(request));
        return;
      } catch (DriverException e) {
        // ABORTED: the pull runs on (or the volume was busy); anything else ends the mount.
        if (e.kind() != ErrorKind.ABORTED || cancelled) {
          outcome.completeExceptionally(e);
          return;
        }
      } catch (RuntimeException | Error e) {
        outcome.completeExceptionally(e);
        return;
      }
    }
    outcome.completeExceptionally(new DriverException(ErrorKind.ABORTED, "mount " + mountId
        + " was removed while it was pulling"));
  }
}

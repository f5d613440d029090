package org.modelpack.csi.volume;

import java.time.Duration;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.PullStart;

/**
 * What happened to a volume that its pod's owner wants to know, reported to
 * {@link NodeOps#event}. {@code pod} is null when kubelet did not say which pod asked.
 */
public sealed interface VolumeEvent {
  PodRef pod();

  String volumeId();

  String reference();

  /** The pull resolved the model and began placing it. */
  record PullStarted(PodRef pod, String volumeId, String reference, PullStart plan)
      implements VolumeEvent {}

  /** A publish answered ABORTED: the pull goes on; {@code totalBytes} is -1 until resolved. */
  record PullProgressed(PodRef pod, String volumeId, String reference, long doneBytes,
      long totalBytes) implements VolumeEvent {}

  /**
   * The model is mounted at the pod's target.
   *
   * @param took since the publish that started the pull (or since this publish when the
   *     volume was pulled before)
   * @param pulled what the pull found on the node; null when this publish pulled nothing
   */
  record Mounted(PodRef pod, String volumeId, String reference, Duration took, PullStart pulled)
      implements VolumeEvent {}

  /** The publish failed with {@code kind} (also its gRPC code) and {@code message}. */
  record Failed(PodRef pod, String volumeId, String reference, ErrorKind kind, String message)
      implements VolumeEvent {}
}

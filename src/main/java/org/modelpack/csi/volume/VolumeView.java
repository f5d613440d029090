package org.modelpack.csi.volume;

import java.util.List;
import java.util.Optional;
import org.modelpack.csi.error.DriverException;

/**
 * What the driver knows about one volume right now, for operators and the CLI: its
 * {@code status.json}, or while its pull runs the live progress of that pull (which
 * {@code status.json} only records when a publish gives up waiting).
 *
 * @param state {@link VolumeState#PULL_FAILED} for a failed pull whose error no publish has
 *     collected yet (its directory is already gone)
 * @param doneBytes bytes of the model on the node so far; 0 when not pulling
 * @param totalBytes the model's size; -1 while the manifest is resolved, and when not known
 *     (a volume that is not pulling)
 * @param error why the pull failed, else null
 */
public record VolumeView(String volumeId, VolumeState state, String reference,
    List<String> targetPaths, long doneBytes, long totalBytes, String error) {

  public VolumeView {
    targetPaths = targetPaths == null ? List.of() : List.copyOf(targetPaths);
  }

  /** Combines the volume's record with its pull job (null when it has none). */
  static Optional<VolumeView> of(String volumeId, Optional<VolumeStatus> status, PullJob job) {
    List<String> targets = status.map(VolumeStatus::targetPaths).orElse(List.of());
    if (job != null) {
      long total = job.progress.totalBytes();
      long done = job.progress.doneBytes();
      if (!job.isDone()) {
        return Optional.of(new VolumeView(volumeId, VolumeState.PULLING, job.reference, targets,
            done, total, null));
      }
      try {
        VolumeStatus pulled = job.outcome();
        // Done but not collected: the next publish mounts it.
        return Optional.of(new VolumeView(volumeId, status.orElse(pulled).state(),
            job.reference, targets, done, total, null));
      } catch (DriverException e) {
        return Optional.of(new VolumeView(volumeId, VolumeState.PULL_FAILED, job.reference,
            targets, done, total, e.getMessage()));
      }
    }
    return status.map(s -> new VolumeView(volumeId, s.state(), s.reference(), targets,
        s.progress() == null ? 0 : s.progress().doneBytes(),
        s.progress() == null ? -1 : s.progress().totalBytes(), s.error()));
  }
}

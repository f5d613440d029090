package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.mount.Mounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume's targets: the checks before a mount, the mount, and the unmount, with the volume's
 * {@code status.json} as the record of which targets it serves and which directories it made.
 * The mount table is the other record: a bind of the volume's model directory at a target is
 * the driver's own mount, whatever the status says (a crash may fall between the two), and
 * anything else mounted there is not.
 */
final class VolumeTargets {
  private static final Logger log = LoggerFactory.getLogger(VolumeTargets.class);

  private final Mounter mounter;
  private final TargetGuard guard;
  private final StatusStore statuses;
  private final Clock clock;

  VolumeTargets(Mounter mounter, TargetGuard guard, StatusStore statuses, Clock clock) {
    this.mounter = mounter;
    this.guard = guard;
    this.statuses = statuses;
    this.clock = clock;
  }

  /** Refuses a target the driver must never mount at (see {@link TargetGuard}). */
  void check(Path target) {
    guard.check(target);
  }

  /** Refuses a target directory with files in it; call when nothing is mounted there. */
  void requireEmpty(Path target) {
    guard.requireEmpty(target);
  }

  /**
   * The status with {@code target} among its targets: a mount of the volume found there that
   * the status does not list was made by a process that died before recording it.
   */
  VolumeStatus remember(Path volumeDir, VolumeStatus status, String target) throws IOException {
    if (status.targetPaths().contains(target)) {
      return status;
    }
    VolumeStatus updated = status.addTarget(target, false, clock.instant());
    statuses.write(volumeDir, updated);
    return updated;
  }

  /** Bind-mounts the volume's model at the request's target and records it. */
  VolumeStatus mount(PublishRequest req, Path volumeDir, VolumeStatus status) throws IOException {
    Path modelDir = volumeDir.resolve(VolumeManager.MODEL_DIR);
    Path target = req.targetPath();
    boolean created = guard.createIfMissing(target);
    try {
      if (req.writable()) {
        mounter.bindWritable(modelDir, target);
      } else {
        mounter.bindReadOnly(modelDir, target);
      }
    } catch (IOException | RuntimeException e) {
      removeCreated(created, target);
      throw new DriverException(ErrorKind.INTERNAL, "volume " + req.volumeId()
          + ": cannot mount the model at " + target + ": " + e.getMessage(), e);
    }
    VolumeStatus mounted = status.addTarget(target.toString(), created, clock.instant());
    try {
      statuses.write(volumeDir, mounted);
    } catch (IOException | RuntimeException e) {
      // A mount the status does not record is found again by its source, but a directory the
      // status does not say was made here would never be removed: undo both.
      mounter.unmountBindOf(modelDir, target);
      removeCreated(created, target);
      throw e;
    }
    return mounted;
  }

  /**
   * Unmounts the volume's mount at {@code target} if there is one, and forgets the target.
   * Returns the targets the volume still serves, or empty when the call changed nothing (the
   * target was never the volume's).
   *
   * @throws DriverException FAILED_PRECONDITION when the volume's mount there is covered by
   *     someone else's, which is left in place (removing it is not the driver's call)
   */
  Optional<List<String>> unmount(String volumeId, Path modelDir, Path target,
      Optional<VolumeStatus> status) throws IOException {
    String t = target.toString();
    boolean recorded = status.map(s -> s.targetPaths().contains(t)).orElse(false);
    Mounter.Unmount result = mounter.unmountBindOf(modelDir, target);
    switch (result) {
      case COVERED -> throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume "
          + volumeId + ": its mount at " + t + " is covered by another mount, which is not the"
          + " driver's to remove; unmount that one first");
      case NOT_OURS -> {
        if (!recorded) {
          log.info("volume {}: not published at {} (something else is mounted there); "
              + "leaving it", volumeId, t);
          return Optional.empty();
        }
        log.warn("volume {}: {} is now mounted by something else; leaving it and forgetting "
            + "the target", volumeId, t);
      }
      case NOT_MOUNTED -> {
        if (!recorded) {
          log.info("volume {}: not published at {}; nothing to do", volumeId, t);
          return Optional.empty();
        }
      }
      case UNMOUNTED -> log.debug("volume {}: unmounted {}", volumeId, t);
    }
    if (result != Mounter.Unmount.NOT_OURS && status.map(s -> s.createdTarget(t)).orElse(false)) {
      removeCreated(true, target);
    }
    if (status.isEmpty()) {
      return Optional.of(List.of()); // a mount of the volume whose record is gone
    }
    List<String> remaining = new ArrayList<>(status.get().targetPaths());
    remaining.remove(t);
    remaining.removeIf(other -> !mounter.isBindOf(modelDir, Path.of(other)));
    Path volumeDir = modelDir.getParent();
    statuses.write(volumeDir, status.get().withTargets(remaining, clock.instant()));
    if (!remaining.isEmpty()) {
      log.info("volume {} unpublished from {}; still published at {}", volumeId, t, remaining);
    }
    return Optional.of(remaining);
  }

  /**
   * Removes a target directory the driver made, if it is still an empty directory with nothing
   * mounted on it; anything else found there stays.
   */
  private void removeCreated(boolean created, Path target) {
    if (!created || !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)
        || mounter.table().isMountPoint(target)) {
      return;
    }
    try {
      Files.delete(target); // rmdir: fails on a directory with anything in it
    } catch (DirectoryNotEmptyException e) {
      log.warn("target {} is not empty; leaving it", target);
    } catch (IOException e) {
      log.warn("cannot remove target {}: {}", target, e.toString());
    }
  }
}

package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.function.Function;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.mount.MountEntry;
import org.modelpack.csi.mount.Mounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part of a PVC's volume that staging adds (docs/decisions/1102). Staging itself is a
 * {@link VolumeManager#publish} whose target is the staging path, so the pull, the deadline, the
 * reaping and the checks of a publish all apply to it; unstaging is an
 * {@link VolumeManager#unpublish} of the staging path. What is left is here: binding a staged
 * volume's model at a pod's target (one more target of the same volume, so the records and the
 * unmount rules of every target apply) and the volume's usage.
 */
public final class StagedVolumes {
  private static final Logger log = LoggerFactory.getLogger(StagedVolumes.class);

  private final Function<String, Path> volumeDirs;
  private final VolumeLocks locks;
  private final StatusStore statuses;
  private final VolumeTargets targets;
  private final Mounter mounter;

  StagedVolumes(Function<String, Path> volumeDirs, VolumeLocks locks, StatusStore statuses,
      VolumeTargets targets, Mounter mounter) {
    this.volumeDirs = volumeDirs;
    this.locks = locks;
    this.statuses = statuses;
    this.targets = targets;
    this.mounter = mounter;
  }

  /** How much of the node a volume's model takes: bytes of its files, and its inodes. */
  public record Usage(long bytes, long inodes) {}

  /**
   * Binds the model of the volume staged at {@code staging} at the request's target.
   * Idempotent for the same target.
   *
   * @throws DriverException FAILED_PRECONDITION when the volume is not staged there (CSI's
   *     code for a publish before its stage), or is staged with another model; ALREADY_EXISTS
   *     when something else is mounted at the target
   */
  public VolumeStatus publish(PublishRequest req, Path staging) {
    targets.check(req.targetPath());
    return locks.withLock(req.volumeId(), () -> {
      Path volumeDir = volumeDirs.apply(req.volumeId());
      Path modelDir = volumeDir.resolve(VolumeManager.MODEL_DIR);
      String target = req.targetPath().toString();
      VolumeStatus status = statuses.read(volumeDir)
          .filter(s -> s.targetPaths().contains(staging.toString()))
          .filter(s -> mounter.isBindOf(modelDir, staging))
          .orElseThrow(() -> new DriverException(ErrorKind.FAILED_PRECONDITION, "volume "
              + req.volumeId() + " is not staged at " + staging + "; NodeStageVolume must "
              + "succeed there first"));
      if (!status.sameContent(req.reference(), req.filter())) {
        throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + req.volumeId()
            + " is staged with " + status.reference() + " (" + status.filter() + "), not "
            + req.reference() + " (" + req.filter() + ")");
      }
      if (req.writable() && mounter.table().find(staging).map(MountEntry::readOnly)
          .orElse(true)) {
        throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + req.volumeId()
            + " was staged read-only and cannot be published writable");
      }
      if (mounter.table().isMountPoint(req.targetPath())) {
        if (mounter.isBindOf(modelDir, req.targetPath())) {
          log.info("volume {} is already published at {}", req.volumeId(), target);
          return targets.remember(volumeDir, status, target);
        }
        throw new DriverException(ErrorKind.ALREADY_EXISTS, "target path " + target
            + " is already a mount point that does not belong to volume " + req.volumeId());
      }
      targets.requireEmpty(req.targetPath());
      if (req.singleWriter() && status.targetPaths().stream()
          .anyMatch(t -> !t.equals(staging.toString()) && !t.equals(target))) {
        throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + req.volumeId()
            + " has access mode SINGLE_NODE_SINGLE_WRITER and is already published at "
            + status.targetPaths());
      }
      VolumeStatus mounted = targets.mount(req, volumeDir, status);
      log.info("volume {} (staged at {}) serves {} at {}", req.volumeId(), staging,
          req.reference(), target);
      return mounted;
    });
  }

  /**
   * The usage of the volume's model, for a path it is published or staged at.
   *
   * @throws DriverException NOT_FOUND for a volume this node does not have, or a path it is
   *     not published at
   */
  public Usage usage(String volumeId, String path) {
    Path volumeDir = volumeDirs.apply(volumeId);
    Optional<VolumeStatus> status = statuses.read(volumeDir);
    if (status.isEmpty()) {
      throw new DriverException(ErrorKind.NOT_FOUND, "volume " + volumeId
          + " is not on this node");
    }
    if (!status.get().targetPaths().contains(path)) {
      throw new DriverException(ErrorKind.NOT_FOUND, "volume " + volumeId
          + " is not published at " + path);
    }
    try {
      return walk(volumeDir.resolve(VolumeManager.MODEL_DIR));
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "volume " + volumeId
          + ": cannot measure its model: " + e.getMessage(), e);
    }
  }

  /** A walk of the model's own tree (links are not followed); a model has few files. */
  private static Usage walk(Path modelDir) throws IOException {
    long[] totals = new long[2];
    Files.walkFileTree(modelDir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        totals[1]++;
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        totals[0] += attrs.isRegularFile() ? attrs.size() : 0;
        totals[1]++;
        return FileVisitResult.CONTINUE;
      }
    });
    return new Usage(totals[0], totals[1]);
  }
}

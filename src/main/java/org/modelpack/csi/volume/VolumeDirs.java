package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.fs.TempFiles;
import org.modelpack.csi.mount.MountTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The volume directories under {@code <root>/volumes}, created private and removed so that a
 * crash at any point leaves either the whole volume or nothing under its name: the directory
 * is first renamed aside to {@code .removing-<id>-<n>} (one atomic rename), and only then
 * deleted. A start finishes what a crash interrupted ({@link #recover}). Nothing is removed
 * while anything mounts from it, or is mounted in it.
 */
final class VolumeDirs {
  private static final Logger log = LoggerFactory.getLogger(VolumeDirs.class);
  static final String REMOVING = ".removing-";

  private final Path volumesDir;
  private final MountTable mounts;
  private final StatusStore statuses;

  /** @param volumesDir a real path: volumes are matched against the mount table by it */
  VolumeDirs(Path volumesDir, MountTable mounts, StatusStore statuses) {
    this.volumesDir = volumesDir;
    this.mounts = mounts;
    this.statuses = statuses;
  }

  Path dir(String volumeId) {
    VolumeIds.requireSafe(volumeId);
    return volumesDir.resolve(volumeId);
  }

  /** A fresh, empty, private directory for the volume (whatever was there is removed first). */
  Path create(String volumeId) throws IOException {
    remove(volumeId);
    return Dirs.create(dir(volumeId), Dirs.PRIVATE);
  }

  /**
   * Removes the volume's directory: renamed aside, then deleted. Refused while it is in use
   * (its model bind-mounted anywhere, or anything mounted inside it): deleting would reach
   * through a mount, and a pod would lose its files.
   */
  void remove(String volumeId) throws IOException {
    Path dir = dir(volumeId);
    if (!Files.exists(dir)) {
      return;
    }
    if (mounts.isInUse(dir)) {
      throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + volumeId
          + " is still mounted somewhere (its model, or something inside " + dir
          + ", is in the mount table); it is kept until nothing mounts it");
    }
    Path aside = volumesDir.resolve(REMOVING + volumeId + "-" + System.nanoTime());
    Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
    FileTrees.fsyncDirectory(volumesDir);
    FileTrees.delete(aside);
  }

  /**
   * At start: finishes removals a crash interrupted, removes volumes whose pull or mount was
   * cut short (kubelet's retry starts them afresh) and the temporary files of status and
   * record writes. A directory in use is kept.
   */
  void recover() throws IOException {
    List<Path> dirs;
    try (Stream<Path> list = Files.list(volumesDir)) {
      dirs = list.toList();
    }
    for (Path dir : dirs) {
      String name = dir.getFileName().toString();
      if (!Files.isDirectory(dir) || Files.isSymbolicLink(dir)) {
        log.warn("ignoring {} in the volumes directory: not a volume", dir);
        continue;
      }
      TempFiles.sweep(dir);
      if (mounts.isInUse(dir)) {
        continue;
      }
      if (name.startsWith(REMOVING)) {
        log.info("finishing the removal of {}, interrupted by a restart", dir);
        FileTrees.delete(dir);
        continue;
      }
      if (!VolumeIds.isSafe(name)) {
        log.warn("ignoring {} in the volumes directory: not a volume id", dir);
        continue;
      }
      boolean interrupted = statuses.read(dir)
          .map(s -> s.state() != VolumeState.MOUNTED).orElse(true);
      if (interrupted) {
        log.warn("removing volume {}: its pull or mount was interrupted by a restart", name);
        remove(name);
      }
    }
  }
}

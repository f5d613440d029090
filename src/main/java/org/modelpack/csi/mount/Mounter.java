package org.modelpack.csi.mount;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.modelpack.csi.fs.Dirs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bind mounts for volumes: always {@code nosuid,nodev}, read-only unless a volume asked for a
 * private writable copy. Uses mount(2) directly where libc can be called, mount(8) otherwise.
 *
 * <p>A target is never bind-mounted and then remounted read-only: where the target's mount is
 * shared (the driver in a container with Bidirectional propagation, as CSI node plugins run),
 * the bind also appears at every peer (the host's view, which kubelet hands to the pod), and a
 * remount does not follow it there. Instead the source is first bind-mounted at a staging
 * point under {@code root_dir} (which pods never see) and given its flags there; the target is
 * then a bind of that mount, and a bind copies its source mount's flags when it is created, so
 * the target and every copy propagation makes of it are read-only from their first moment. The
 * staging mount goes right after (decision 0011).
 */
public final class Mounter {
  private static final Logger log = LoggerFactory.getLogger(Mounter.class);
  /** More mounts stacked at a staging point than this means something keeps mounting there. */
  private static final int MAX_STACKED = 64;

  private final MountTable table;
  private final MountCalls calls;
  private final Path stagingDir;

  Mounter(MountTable table, MountCalls calls, Path stagingDir) throws IOException {
    this.table = table;
    this.calls = calls;
    // The mount table shows real paths: a symlink on the way must not hide a staging mount.
    this.stagingDir = Dirs.create(stagingDir, Dirs.PRIVATE).toRealPath();
  }

  /**
   * System calls through libc when JNA supports this platform, mount(8) otherwise. Staging
   * points go in {@code stagingDir}; whatever a previous process left there is removed now.
   */
  public static Mounter forThisNode(MountTable table, Path stagingDir) throws IOException {
    MountCalls calls;
    try {
      calls = SyscallMounts.load();
    } catch (LinkageError | RuntimeException e) {
      log.warn("cannot call mount(2) directly ({}); using mount(8), which is slower",
          e.toString());
      calls = new CommandMounts(table);
    }
    log.info("mounting with {}", calls.describe());
    Mounter m = new Mounter(table, calls, stagingDir);
    m.clearStaging();
    return m;
  }

  public MountTable table() {
    return table;
  }

  /**
   * Bind-mounts {@code source} at {@code target} with {@code ro,nosuid,nodev}. The target is
   * then checked: a mount still writable there is undone, so none is ever left behind.
   */
  public void bindReadOnly(Path source, Path target) throws IOException {
    bindThroughStaging(source, target, true);
    // access(2) answers EROFS for a read-only mount, even for root.
    if (Files.isWritable(target)) {
      calls.unmountTop(target); // the mount this call just made
      throw new IOException("bind mount at " + target + " did not become read-only");
    }
    log.debug("bind-mounted {} at {} read-only", source, target);
  }

  /** Bind-mounts a volume's private copy read-write (still {@code nosuid,nodev}). */
  public void bindWritable(Path source, Path target) throws IOException {
    bindThroughStaging(source, target, false);
    log.debug("bind-mounted {} at {} read-write", source, target);
  }

  /**
   * Bind-mounts {@code source} read-only at {@code target} (as {@link #bindReadOnly}) and makes
   * that mount shared, so that mounts the driver adds below the target later reach the copies
   * that follow it: a pod's view of a dynamic volume's workspace receives each model mounted
   * into it after the pod started (with {@code mountPropagation: HostToContainer}).
   */
  public void bindReadOnlyShared(Path source, Path target) throws IOException {
    bindReadOnly(source, target);
    try {
      calls.makeShared(target);
    } catch (IOException | RuntimeException e) {
      calls.unmountTop(target); // the mount this call just made
      throw e;
    }
  }

  /** What {@link #unmountBindOf} found at a target, and did. */
  public enum Unmount {
    /** The target's topmost mount was a bind of the source; it is gone. */
    UNMOUNTED,
    /** Nothing is mounted at the target. */
    NOT_MOUNTED,
    /** Something else is mounted at the target, and no bind of the source: left as it is. */
    NOT_OURS,
    /** A bind of the source is there, under someone else's mount: everything left as it is. */
    COVERED
  }

  /** True when the topmost mount at {@code target} is a bind of {@code source}. */
  public boolean isBindOf(Path source, Path target) {
    BindSource ours = table.bindSourceOf(source);
    return table.find(target).filter(ours::isSourceOf).isPresent();
  }

  /**
   * Removes the mount at {@code target} only if it is a bind of {@code source} (a real path):
   * whatever else is mounted there (another volume, a tmpfs, a system mount) is not this
   * driver's to remove. One mount at most is removed; a busy one of ours is detached lazily.
   */
  public Unmount unmountBindOf(Path source, Path target) throws IOException {
    List<MountEntry> stack = table.stackAt(target);
    if (stack.isEmpty()) {
      return Unmount.NOT_MOUNTED;
    }
    BindSource ours = table.bindSourceOf(source);
    if (!ours.isSourceOf(stack.get(stack.size() - 1))) {
      return stack.stream().anyMatch(ours::isSourceOf) ? Unmount.COVERED : Unmount.NOT_OURS;
    }
    calls.unmountTop(target);
    return Unmount.UNMOUNTED;
  }

  private void bindThroughStaging(Path source, Path target, boolean readOnly)
      throws IOException {
    Dirs.create(stagingDir, Dirs.PRIVATE);
    Path staging = Files.createTempDirectory(stagingDir, "bind-");
    try {
      calls.bind(source, staging);
      calls.restrict(staging, readOnly);
      calls.bind(staging, target);
    } finally {
      removeStaging(staging);
    }
  }

  /** Never fails the mount it served: a staging point left behind goes at the next start. */
  private void removeStaging(Path staging) {
    try {
      unmountAll(staging);
      Files.deleteIfExists(staging);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot remove the staging mount {}: {}", staging, e.toString());
    }
  }

  /** Every mount at a staging point is this driver's: staging points are its own. */
  private void unmountAll(Path staging) throws IOException {
    for (int i = 0; calls.unmountTop(staging); i++) {
      if (i == MAX_STACKED) {
        throw new IOException(staging + " still has mounts after " + MAX_STACKED + " unmounts");
      }
    }
  }

  /**
   * Unmounts and removes every staging point (left by a process that died mid-mount). Only
   * empty directories are removed, one by one: a recursive delete could reach through a mount
   * into a volume's files.
   */
  void clearStaging() throws IOException {
    List<Path> mounts = new ArrayList<>(table.mountsUnder(stagingDir));
    mounts.sort(Comparator.comparing(Path::getNameCount).reversed());
    for (Path p : mounts) {
      unmountAll(p);
    }
    try (DirectoryStream<Path> points = Files.newDirectoryStream(stagingDir)) {
      for (Path p : points) {
        try {
          Files.delete(p);
        } catch (IOException e) {
          log.warn("leaving {} in the staging directory: {}", p, e.toString());
        }
      }
    }
  }
}

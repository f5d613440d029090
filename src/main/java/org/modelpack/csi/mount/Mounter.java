package org.modelpack.csi.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bind mounts for volumes: always {@code nosuid,nodev}, read-only unless a volume asked for a
 * private writable copy. Uses mount(2) directly where libc can be called, mount(8) otherwise.
 */
public final class Mounter {
  private static final Logger log = LoggerFactory.getLogger(Mounter.class);
  /** More mounts stacked at one target than this means something else keeps mounting there. */
  private static final int MAX_STACKED = 64;

  private final MountTable table;
  private final MountCalls calls;

  Mounter(MountTable table, MountCalls calls) {
    this.table = table;
    this.calls = calls;
  }

  /** System calls through libc when JNA supports this platform, mount(8) otherwise. */
  public static Mounter forThisNode(MountTable table) {
    MountCalls calls;
    try {
      calls = SyscallMounts.load();
    } catch (LinkageError | RuntimeException e) {
      log.warn("cannot call mount(2) directly ({}); using mount(8), which is slower",
          e.toString());
      calls = new CommandMounts(table);
    }
    log.info("mounting with {}", calls.describe());
    return new Mounter(table, calls);
  }

  /** Always through mount(8) and umount(8). */
  public static Mounter withCommands(MountTable table) {
    return new Mounter(table, new CommandMounts(table));
  }

  public MountTable table() {
    return table;
  }

  /**
   * Bind-mounts {@code source} at {@code target} with {@code ro,nosuid,nodev}. The target is
   * then checked: a mount still writable there is undone, so none is ever left behind.
   */
  public void bindReadOnly(Path source, Path target) throws IOException {
    calls.bind(source, target, true);
    // access(2) answers EROFS for a read-only mount, even for root.
    if (Files.isWritable(target)) {
      unmount(target);
      throw new IOException("bind mount at " + target + " did not become read-only");
    }
    log.debug("bind-mounted {} at {} read-only", source, target);
  }

  /** Bind-mounts a volume's private copy read-write (still {@code nosuid,nodev}). */
  public void bindWritable(Path source, Path target) throws IOException {
    calls.bind(source, target, false);
    log.debug("bind-mounted {} at {} read-write", source, target);
  }

  /** Unmounts everything mounted at {@code target}; a busy mount is detached lazily. */
  public void unmount(Path target) throws IOException {
    for (int i = 0; calls.unmountTop(target); i++) {
      if (i == MAX_STACKED) {
        throw new IOException(target + " still has mounts after " + MAX_STACKED + " unmounts");
      }
    }
  }
}

package org.modelpack.csi.mount;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only bind mounts through the system's mount(8)/umount(8), which handle the kernel's
 * remount dance and mtab details portably.
 */
public final class Mounter {
  private static final Logger log = LoggerFactory.getLogger(Mounter.class);
  private final MountTable table;

  public Mounter(MountTable table) {
    this.table = table;
  }

  public MountTable table() {
    return table;
  }

  /**
   * Bind-mounts {@code source} at {@code target} with {@code ro,nosuid,nodev}. The kernel ignores
   * flags on the bind itself; util-linux's mount (2.27+) applies them with a second, internal
   * remount. The result is checked in the mount table, and an older mount(8) gets the explicit
   * remount; if the flags cannot be applied the bind is undone, so no writable mount is ever
   * left behind.
   */
  public void bindReadOnly(Path source, Path target) throws IOException {
    run("mount", "--bind", "-o", "ro,nosuid,nodev", source.toString(), target.toString());
    try {
      if (!table.find(target).map(e -> e.readOnly() && e.options().contains("nosuid")
          && e.options().contains("nodev")).orElse(false)) {
        run("mount", "-o", "remount,bind,ro,nosuid,nodev", target.toString());
      }
      if (!table.find(target).map(MountEntry::readOnly).orElse(false)) {
        throw new IOException("bind mount at " + target + " did not become read-only");
      }
    } catch (IOException e) {
      unmount(target);
      throw e;
    }
    log.debug("bind-mounted {} at {} read-only", source, target);
  }

  /** Bind-mounts a volume's private copy read-write (still {@code nosuid,nodev}). */
  public void bindWritable(Path source, Path target) throws IOException {
    run("mount", "--bind", "-o", "nosuid,nodev", source.toString(), target.toString());
    log.debug("bind-mounted {} at {} read-write", source, target);
  }

  /** Unmounts {@code target} if it is a mount point; a busy mount is detached lazily. */
  public void unmount(Path target) throws IOException {
    while (table.isMountPoint(target)) {
      try {
        run("umount", target.toString());
      } catch (IOException e) {
        if (!table.isMountPoint(target)) {
          return;
        }
        if (String.valueOf(e.getMessage()).contains("busy")) {
          log.warn("{} is busy; detaching it lazily", target);
          run("umount", "--lazy", target.toString());
        } else {
          throw e;
        }
      }
    }
  }

  private static void run(String... command) throws IOException {
    Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    }
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + " did not finish within 60 s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", command) + " was interrupted", e);
    }
    if (p.exitValue() != 0) {
      List<String> shown = new ArrayList<>(List.of(command));
      throw new IOException(String.join(" ", shown) + " failed (exit " + p.exitValue() + "): "
          + out);
    }
  }
}

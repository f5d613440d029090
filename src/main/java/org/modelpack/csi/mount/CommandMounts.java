package org.modelpack.csi.mount;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounts through the system's mount(8)/umount(8): the fallback where libc cannot be called
 * directly. Slower (a process per call, each reading the mount table), same result.
 */
final class CommandMounts implements MountCalls {
  private static final Logger log = LoggerFactory.getLogger(CommandMounts.class);
  private final MountTable table;

  CommandMounts(MountTable table) {
    this.table = table;
  }

  @Override
  public void bind(Path source, Path target) throws IOException {
    run("mount", "--bind", source.toString(), target.toString());
  }

  @Override
  public void restrict(Path target, boolean readOnly) throws IOException {
    run("mount", "-o", "remount,bind," + (readOnly ? "ro,nosuid,nodev" : "nosuid,nodev"),
        target.toString());
  }

  @Override
  public void makeShared(Path target) throws IOException {
    run("mount", "--make-shared", target.toString());
  }

  @Override
  public boolean unmountTop(Path target) throws IOException {
    if (!table.isMountPoint(target)) {
      return false;
    }
    try {
      run("umount", target.toString());
    } catch (IOException e) {
      if (!table.isMountPoint(target)) {
        return true;
      }
      if (!String.valueOf(e.getMessage()).contains("busy")) {
        throw e;
      }
      log.warn("{} is busy; detaching it lazily", target);
      run("umount", "--lazy", target.toString());
    }
    return true;
  }

  @Override
  public String describe() {
    return "mount(8) and umount(8)";
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
      throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): "
          + out);
    }
  }
}

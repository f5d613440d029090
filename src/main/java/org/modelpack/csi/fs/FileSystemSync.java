package org.modelpack.csi.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * syncfs(2): writes back every dirty page and inode of the filesystem holding a directory, in
 * one call. The store flushes a whole pull this way instead of two fsyncs per layer
 * (docs/decisions/1220). Where libc cannot be loaded through JNA, {@code sync -f} does the same.
 */
public final class FileSystemSync {
  private static final Libc.Functions LIBC = load();

  private FileSystemSync() {}

  private static Libc.Functions load() {
    try {
      return Libc.load();
    } catch (LinkageError e) {
      return null;
    }
  }

  /** Makes everything written to the filesystem of {@code dir} so far durable. */
  public static void syncFileSystemOf(Path dir) throws IOException {
    if (LIBC == null) {
      syncByCommand(dir);
      return;
    }
    int fd = Libc.call("open of " + dir + " to sync its filesystem", () -> LIBC.open(
        dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC));
    try {
      Libc.call("syncfs of " + dir, () -> LIBC.syncfs(fd));
    } finally {
      LIBC.close(fd);
    }
  }

  private static void syncByCommand(Path dir) throws IOException {
    Process p = new ProcessBuilder(List.of("sync", "-f", dir.toString()))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException("sync -f " + dir + " failed");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while syncing " + dir, e);
    }
  }
}

package org.modelpack.csi.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One driver per directory: an exclusive lock on {@code <dir>/driver.lock}, taken at start
 * before anything is cleaned or listened on, held until the process ends (the kernel drops it
 * with the process, however it ends). A second driver on the same {@code root_dir} (or layer
 * store) would clear the first one's downloads, remove its live socket and race it on every
 * volume; it stops instead, touching nothing.
 */
final class RootDirLock implements AutoCloseable {
  static final String FILE = "driver.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private RootDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock in {@code dir} (which must exist) or fails naming the holder's pid. */
  static RootDirLock take(Path dir, String what) throws IOException {
    Path file = dir.resolve(FILE);
    FileChannel ch = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this very process (another plugin in the same JVM)
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      String holder = holder(ch);
      ch.close();
      throw new IOException("another model-csi-driver" + holder + " is running with " + what
          + " " + dir + "; stop it first (only one driver may use a directory)");
    }
    ch.truncate(0);
    ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
        .getBytes(StandardCharsets.US_ASCII)), 0);
    return new RootDirLock(ch, lock);
  }

  private static String holder(FileChannel ch) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(32);
      ch.read(buf, 0);
      String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
      return pid.matches("\\d+") ? " (pid " + pid + ")" : "";
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}

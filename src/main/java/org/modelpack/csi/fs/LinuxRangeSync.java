package org.modelpack.csi.fs;

import com.sun.jna.LastErrorException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sync_file_range(2)} on a descriptor of its own: the file is opened once more,
 * read-only, through libc, because a {@code FileChannel} does not hand out its descriptor.
 * Writeback works on the file's pages, not on the descriptor, so any descriptor of the inode
 * will do, and it keeps working after the file is renamed (decision 1210).
 */
final class LinuxRangeSync implements WritebackTrigger.RangeSync {
  private static final Logger LOG = LoggerFactory.getLogger(LinuxRangeSync.class);
  private static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
  private static final int SYNC_FILE_RANGE_WRITE = 2;
  private static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;

  /** libc, or null where it or the call is missing (not Linux). */
  private static final Libc.Functions LIBC = load();

  private final int fd;
  private final Path path;

  private LinuxRangeSync(int fd, Path path) {
    this.fd = fd;
    this.path = path;
  }

  private static Libc.Functions load() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return null;
    }
    try {
      return Libc.load("sync_file_range");
    } catch (LinkageError | RuntimeException e) {
      LOG.info("no sync_file_range ({}): files are flushed only by their final fsync", e.toString());
      return null;
    }
  }

  /** A range sync on {@code file}, or null where that is not possible. */
  static LinuxRangeSync open(Path file) {
    if (LIBC == null) {
      return null;
    }
    try {
      return new LinuxRangeSync(LIBC.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC), file);
    } catch (LastErrorException e) {
      LOG.debug("cannot open {} for writeback: {}", file, e.getMessage());
      return null;
    }
  }

  @Override
  public boolean startWrite(long offset, long length) {
    return call(offset, length, SYNC_FILE_RANGE_WRITE);
  }

  @Override
  public boolean awaitWritten(long offset, long length) {
    // All three flags: wait for writeback under way, start what is still dirty, wait for that
    // too (the kernel's "write-for-data-integrity" of the range, without the metadata).
    return call(offset, length,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
  }

  private boolean call(long offset, long length, int flags) {
    try {
      LIBC.sync_file_range(fd, offset, length, flags);
      return true;
    } catch (LastErrorException e) {
      // EINVAL/ESPIPE/ENOSYS (a filesystem or kernel without it) or an I/O error, which the
      // writer's fsync reports: either way stop asking for this file.
      LOG.debug("sync_file_range on {}: {}; no more early writeback for it", path, e.getMessage());
      return false;
    }
  }

  @Override
  public void close() {
    try {
      LIBC.close(fd);
    } catch (LastErrorException e) {
      LOG.debug("close of the writeback descriptor of {}: {}", path, e.getMessage());
    }
  }
}

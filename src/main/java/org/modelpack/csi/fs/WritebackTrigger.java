package org.modelpack.csi.fs;

import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Starts the kernel's writeback of a file while it is still being written, so that the fsync
 * that makes it durable finds little left to flush (decision 1210). Told how far the file is
 * written contiguously, it asks for every whole {@link #WINDOW} below that to be written out
 * ({@code sync_file_range(SYNC_FILE_RANGE_WRITE)}, which does not wait) and waits for what is
 * more than {@link #LAG} behind, so dirty pages per file stay bounded. It only ever starts
 * writeback earlier: durability still comes from the writer's fsync, and where the call is
 * missing or refused (not Linux, some filesystems) it stops trying and nothing else changes.
 * The descriptor for the calls is opened when the first window fills: a file smaller than one
 * window (most files of a model of many small layers) costs no open and close of its own.
 */
public final class WritebackTrigger implements AutoCloseable {
  /** Bytes per writeback request. */
  public static final long WINDOW = 8L << 20;
  /** Written bytes further behind the frontier than this are waited for. */
  public static final long LAG = 4 * WINDOW;

  /** The two calls made on the file; {@link RangeSync#open} is the real one. */
  public interface RangeSync extends AutoCloseable {
    /** Starts writeback of {@code [offset, offset + length)}; false = unsupported here. */
    boolean startWrite(long offset, long length);

    /** Waits until writeback of the range finished; false = unsupported here. */
    boolean awaitWritten(long offset, long length);

    @Override
    void close();
  }

  /** Opens the calls' descriptor; null (unsupported here) turns the trigger off. */
  private final Supplier<RangeSync> opener;
  /** Guarded by {@link #busy}; null until the first window filled. */
  private RangeSync sync;
  /** One caller at a time does the calls; the others go on writing (they never wait here). */
  private final ReentrantLock busy = new ReentrantLock();
  /** Bytes from the start whose writeback was started. Guarded by {@link #busy}. */
  private long started;
  /** Bytes from the start waited for. Guarded by {@link #busy}. */
  private long awaited;
  private volatile boolean off;

  WritebackTrigger(RangeSync sync) {
    this(() -> sync);
  }

  /** {@code opener} is called once, when the first window fills. */
  WritebackTrigger(Supplier<RangeSync> opener) {
    this.opener = opener;
  }

  /**
   * A trigger for {@code file} (already created, and at this path while it is written); a
   * no-op one where the call is missing.
   */
  public static WritebackTrigger forFile(Path file) {
    return new WritebackTrigger(() -> LinuxRangeSync.open(file));
  }

  /** Bytes {@code [0, end)} are written: start writeback of the whole windows among them. */
  public void reached(long end) {
    if (off || end - started < WINDOW || !busy.tryLock()) {
      return;
    }
    try {
      long upTo = end - end % WINDOW;
      if (upTo <= started || off) {
        return;
      }
      if (sync == null) {
        sync = opener.get();
        if (sync == null) {
          stop();
          return;
        }
      }
      if (!sync.startWrite(started, upTo - started)) {
        stop();
        return;
      }
      started = upTo;
      long behind = started - LAG;
      if (behind > awaited) {
        if (!sync.awaitWritten(awaited, behind - awaited)) {
          stop();
          return;
        }
        awaited = behind;
      }
    } finally {
      busy.unlock();
    }
  }

  /** The file was emptied: count from its start again. */
  public void restart() {
    busy.lock();
    try {
      started = 0;
      awaited = 0;
    } finally {
      busy.unlock();
    }
  }

  /** False once the calls turned out unsupported for this file. */
  public boolean active() {
    return !off;
  }

  private void stop() {
    off = true;
  }

  @Override
  public void close() {
    busy.lock();
    try {
      off = true;
      if (sync != null) {
        sync.close();
        sync = null;
      }
    } finally {
      busy.unlock();
    }
  }
}

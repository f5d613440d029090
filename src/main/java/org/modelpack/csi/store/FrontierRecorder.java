package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.ByteRun;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.oci.DigestingBlobFile.Progress;

/**
 * The store's hashing writer as a source sees it, recording in the partial's sidecar, each time
 * {@link PartialDownload#RECORD_EVERY} more bytes were written, the hashed prefix and the runs
 * written ahead of it (or that it is still written in order), so that a killed process loses at
 * most about that much of a download, in one stream or in parallel parts (decision 1251).
 */
final class FrontierRecorder implements BlobWriter {
  private final DigestingBlobFile file;
  private final PartialDownload partial;
  /** Bytes written through this recorder. */
  private final AtomicLong written = new AtomicLong();
  /** {@link #written} at which the next record is due. */
  private volatile long due = PartialDownload.RECORD_EVERY;
  /**
   * Nothing was written ahead of the hashed prefix since the file was (re)started, so every
   * byte after the prefix is the blob's. Changed under this object's lock.
   */
  private volatile boolean inOrder;
  /** What the sidecar says now; null when it says nothing. Under this object's lock. */
  private Progress recorded;

  /** {@code file} as opened for the download: runs it holds ahead mean it has holes. */
  FrontierRecorder(DigestingBlobFile file, PartialDownload partial) {
    this.file = file;
    this.partial = partial;
    this.inOrder = file.writtenAhead().isEmpty();
  }

  @Override
  public void write(ByteBuffer src, long position) throws IOException {
    int n = src.remaining();
    if (inOrder && position > file.size()) {
      firstPartAhead();
    }
    file.write(src, position);
    if (written.addAndGet(n) >= due) {
      recordIfDue();
    }
  }

  /**
   * Before the first byte lands ahead of the prefix, the sidecar stops calling it in order: with
   * the prefix as it is now, or (the hasher busy) as last recorded, which is still true.
   */
  private synchronized void firstPartAhead() throws IOException {
    if (!inOrder) {
      return;
    }
    inOrder = false;
    Progress now = file.progress();
    Progress p = now != null ? now : recorded;
    if (p != null) {
      record(p);
    } else {
      partial.forget();
    }
  }

  @Override
  public void restart() throws IOException {
    synchronized (this) {
      partial.forget(); // before the bytes go: a record must never name more than the file has
      recorded = null;
      file.restart();
      due = written.get() + PartialDownload.RECORD_EVERY;
      inOrder = true;
    }
  }

  @Override
  public long hashWritten() throws IOException {
    long hashed = file.hashWritten();
    if (written.get() >= due) {
      recordIfDue();
    }
    return hashed;
  }

  @Override
  public List<ByteRun> writtenAhead() {
    return file.writtenAhead();
  }

  @Override
  public Digest finish() throws IOException {
    return file.finish();
  }

  private synchronized void recordIfDue() throws IOException {
    if (written.get() < due) {
      return;
    }
    Progress p = file.progress();
    if (p != null) { // null: the hasher is busy; the next write asks again
      record(p);
      due = written.get() + PartialDownload.RECORD_EVERY;
    }
  }

  private void record(Progress p) throws IOException {
    partial.record(p, inOrder);
    recorded = p;
  }
}

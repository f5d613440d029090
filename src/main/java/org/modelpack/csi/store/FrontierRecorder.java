package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.oci.DigestingBlobFile.Prefix;

/**
 * The store's hashing writer as a source sees it, recording the hashed prefix in the partial's
 * sidecar each time it has grown by {@link PartialDownload#RECORD_EVERY}, and whether it is
 * still written in order, so that a killed process loses nothing of a download in one stream
 * and at most that much plus the parts written ahead of a parallel one.
 */
final class FrontierRecorder implements BlobWriter {
  private final DigestingBlobFile file;
  private final PartialDownload partial;
  /** Hashed size at which the next record is due. */
  private volatile long due;
  /** Nothing was written ahead of the hashed prefix since the file was (re)started. */
  private volatile boolean inOrder = true;

  FrontierRecorder(DigestingBlobFile file, PartialDownload partial) {
    this.file = file;
    this.partial = partial;
    this.due = file.size() + PartialDownload.RECORD_EVERY;
  }

  @Override
  public void write(ByteBuffer src, long position) throws IOException {
    if (inOrder && position > file.size()) {
      firstPartAhead();
    }
    file.write(src, position);
    recordIfDue();
  }

  /** Before the first byte lands ahead of the prefix, the sidecar stops calling it in order. */
  private synchronized void firstPartAhead() throws IOException {
    if (!inOrder) {
      return;
    }
    inOrder = false;
    Prefix p = file.hashedPrefix();
    if (p != null) {
      partial.record(p, false);
    } else {
      partial.forget();
    }
  }

  @Override
  public void restart() throws IOException {
    partial.forget(); // before the bytes go: a record must never name more than the file has
    file.restart();
    due = PartialDownload.RECORD_EVERY;
    inOrder = true;
  }

  @Override
  public long hashWritten() throws IOException {
    long hashed = file.hashWritten();
    recordIfDue();
    return hashed;
  }

  @Override
  public Digest finish() throws IOException {
    return file.finish();
  }

  private void recordIfDue() throws IOException {
    if (file.size() < due) {
      return;
    }
    synchronized (this) {
      if (file.size() < due) {
        return;
      }
      Prefix p = file.hashedPrefix();
      if (p != null) { // null: the hasher is busy reading back; the next write asks again
        partial.record(p, inOrder);
        due = p.size() + PartialDownload.RECORD_EVERY;
      }
    }
  }
}

package org.modelpack.csi.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where a {@link BlobSource} writes one blob. The writer hashes every byte it is given, so
 * whoever created it checks the digest without trusting the source (containerd's commit =
 * verify + rename), and nothing is hashed twice.
 */
public interface BlobWriter {
  /** Writes all of {@code src} at blob offset {@code position}; parts may come in any order. */
  void write(ByteBuffer src, long position) throws IOException;

  /** Drops everything written: the blob starts over from its first byte. */
  void restart() throws IOException;

  /**
   * Hashes what was written contiguously from the start and not hashed yet (bytes written in
   * order are hashed as they come; parts written ahead of that are read back here). Returns how
   * many bytes from the start are hashed. For one thread at a time, next to the writers.
   */
  long hashWritten() throws IOException;

  /**
   * Runs already written beyond the bytes {@link #hashWritten} counts (kept on disk by an earlier
   * download of the blob), in order and disjoint: a source going on from {@code hashWritten()}
   * need not fetch them again. Empty unless the writer was opened on such a download.
   */
  default List<ByteRun> writtenAhead() {
    return List.of();
  }

  /** Syncs the file and returns the digest of the contiguous bytes written from the start. */
  Digest finish() throws IOException;
}

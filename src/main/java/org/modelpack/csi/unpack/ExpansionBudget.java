package org.modelpack.csi.unpack;

import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.error.Excerpt;
import org.modelpack.csi.unpack.ExpansionLimitException.Bound;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * How far one tar layer may expand while it is extracted (docs/decisions/0820), counted as it
 * goes so that a bomb fails before it fills the disk, and a header declaring a huge entry fails
 * before its first byte is written.
 *
 * <ul>
 *   <li><b>Archive bound</b> on the decoded tar stream (headers, metadata and data): {@code
 *       max_expansion_ratio} × the compressed size, at least {@link #ARCHIVE_FLOOR} (tar pads
 *       even a one-line file to 10 KiB, which compresses 100-fold); an uncompressed tar is
 *       bound by its own size. Crossing it is the artifact's fault.
 *   <li><b>Space bound</b> on the bytes written into files: the room the store had for this
 *       extraction when it started. Crossing it means the node is short of space.
 * </ul>
 *
 * <p>One instance serves one extraction, on one thread.
 */
public final class ExpansionBudget {
  /** Smallest archive bound: tiny layers are never refused for tar's own padding. */
  public static final long ARCHIVE_FLOOR = 1L << 20;

  private final String digest;
  private final long archiveLimit;
  private final String archiveWhy;
  private final long spaceLimit;
  private final String spaceWhy;
  private long decoded;
  private long written;

  private ExpansionBudget(String digest, long archiveLimit, String archiveWhy, long spaceLimit,
      String spaceWhy) {
    this.digest = digest;
    this.archiveLimit = archiveLimit;
    this.archiveWhy = archiveWhy;
    this.spaceLimit = spaceLimit;
    this.spaceWhy = spaceWhy;
  }

  /**
   * @param compressedSize size of the layer blob as stored
   * @param maxRatio {@code pull_config.max_expansion_ratio}; 0 = no ratio bound
   * @param space bytes the extraction may write into files
   * @param spaceWhy where {@code space} comes from, for the message
   */
  public static ExpansionBudget of(String digest, LayerFormat format, long compressedSize,
      int maxRatio, long space, String spaceWhy) {
    long archive;
    String why;
    if (format == LayerFormat.TAR) {
      archive = compressedSize;
      why = "its own size, as an uncompressed tar, of " + ByteSize.format(compressedSize);
    } else if (maxRatio <= 0) {
      archive = Long.MAX_VALUE;
      why = "none (pull_config.max_expansion_ratio 0)";
    } else {
      long product = compressedSize > Long.MAX_VALUE / maxRatio ? Long.MAX_VALUE
          : compressedSize * maxRatio;
      archive = Math.max(ARCHIVE_FLOOR, product);
      why = "pull_config.max_expansion_ratio " + maxRatio + " × its compressed size of "
          + ByteSize.format(compressedSize) + (product < ARCHIVE_FLOOR ? ", at least "
          + ByteSize.format(ARCHIVE_FLOOR) : "");
    }
    return new ExpansionBudget(digest, archive, why, Math.max(0, space), spaceWhy);
  }

  /** No bound at all: for callers that bound the extraction otherwise (and for tests). */
  public static ExpansionBudget unlimited(String digest) {
    return new ExpansionBudget(digest, Long.MAX_VALUE, "none", Long.MAX_VALUE, "none");
  }

  /** {@code n} more bytes of the tar stream were decoded. */
  void decoded(long n) throws ExpansionLimitException {
    decoded += n;
    if (decoded > archiveLimit) {
      throw new ExpansionLimitException(Bound.ARCHIVE, "layer " + digest + " expands to more "
          + "than " + describe(archiveLimit) + ", the bound for it: " + archiveWhy);
    }
  }

  /** Before an entry's data is read: its declared size must fit what is left of both bounds. */
  void beforeEntry(String name, long declaredSize) throws ExpansionLimitException {
    String entry = "layer " + digest + ": tar entry '" + Excerpt.of(name) + "' declares "
        + describe(declaredSize);
    if (declaredSize > archiveLimit - decoded) {
      throw new ExpansionLimitException(Bound.ARCHIVE, entry + ", more than is left ("
          + describe(archiveLimit - decoded) + ") of what the layer may expand to, "
          + describe(archiveLimit) + ": " + archiveWhy);
    }
    if (declaredSize > spaceLimit - written) {
      throw new ExpansionLimitException(Bound.SPACE, entry + ", more than the "
          + describe(Math.max(0, spaceLimit - written)) + " of space left for extracting the "
          + "layer (" + spaceWhy + ")");
    }
  }

  /** {@code n} more bytes were written into files. */
  void written(long n) throws ExpansionLimitException {
    written += n;
    if (written > spaceLimit) {
      throw new ExpansionLimitException(Bound.SPACE, "layer " + digest + " needs more than the "
          + describe(spaceLimit) + " of space there was for extracting it (" + spaceWhy + ")");
    }
  }

  private static String describe(long bytes) {
    return ByteSize.format(bytes) + " (" + bytes + " bytes)";
  }
}

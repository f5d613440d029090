package org.modelpack.csi.unpack;

import java.io.IOException;

/**
 * Extracting a tar layer would write, or decode, more than its {@link ExpansionBudget} allows
 * (docs/decisions/0820). Thrown before the bytes that cross the bound are written; the
 * extraction then removes everything it wrote.
 */
public class ExpansionLimitException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Which bound was crossed, and so whose fault it is. */
  public enum Bound {
    /**
     * The layer expands beyond {@code max_expansion_ratio} × its compressed size (or, for an
     * uncompressed tar, beyond its own size): a decompression bomb or a lying header, the
     * artifact's fault.
     */
    ARCHIVE,
    /** The layer is legitimate but the space (free, or under the disk usage limit) is short. */
    SPACE
  }

  private final Bound bound;

  public ExpansionLimitException(Bound bound, String message) {
    super(message);
    this.bound = bound;
  }

  public Bound bound() {
    return bound;
  }
}

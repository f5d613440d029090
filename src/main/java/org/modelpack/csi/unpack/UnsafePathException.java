package org.modelpack.csi.unpack;

import java.io.IOException;
import org.modelpack.csi.error.Excerpt;

/** A path from an artifact (annotation or tar entry) would leave, or write through, unsafe ground. */
public class UnsafePathException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String path;
  private final String layerDigest;

  public UnsafePathException(String path, String layerDigest, String reason) {
    super("unsafe path '" + printable(path) + "'"
        + (layerDigest == null ? "" : " in layer " + layerDigest) + ": " + reason);
    this.path = path;
    this.layerDigest = layerDigest;
  }

  public UnsafePathException(String path, String layerDigest, String reason, Throwable cause) {
    this(path, layerDigest, reason);
    initCause(cause);
  }

  /** The offending path as given by the artifact. */
  public String path() {
    return path;
  }

  /** The layer that carried it, or null if unknown. */
  public String layerDigest() {
    return layerDigest;
  }

  /**
   * A bounded excerpt with control characters (NUL, newlines) made visible, for messages: the
   * path comes from the artifact and may be megabytes long.
   */
  static String printable(String s) {
    return Excerpt.of(s);
  }
}

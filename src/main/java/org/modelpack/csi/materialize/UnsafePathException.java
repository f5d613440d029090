package org.modelpack.csi.materialize;

import java.io.IOException;

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

  /** Makes control characters (NUL, newlines) visible in messages. */
  static String printable(String s) {
    if (s == null) {
      return "<null>";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}

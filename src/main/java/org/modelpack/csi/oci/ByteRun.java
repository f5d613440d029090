package org.modelpack.csi.oci;

/** Bytes {@code [start, end)} of a blob. */
public record ByteRun(long start, long end) {
  public ByteRun {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException("not a run of bytes: [" + start + ", " + end + ")");
    }
  }

  public long length() {
    return end - start;
  }

  /** {@code "start-end"}, as {@link #parse} reads it. */
  @Override
  public String toString() {
    return start + "-" + end;
  }

  /** A run written as {@code "start-end"}; IllegalArgumentException for anything else. */
  public static ByteRun parse(String text) {
    int dash = text.indexOf('-');
    if (dash <= 0) {
      throw new IllegalArgumentException("not a run of bytes: " + text);
    }
    return new ByteRun(Long.parseLong(text.substring(0, dash)),
        Long.parseLong(text.substring(dash + 1)));
  }
}

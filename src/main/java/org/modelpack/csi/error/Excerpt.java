package org.modelpack.csi.error;

/**
 * Artifact-supplied text (paths, media types, digests) as it may appear in an error message:
 * control characters made visible and the length bounded, so a hostile 4 MiB annotation cannot
 * turn into a 4 MiB log line or gRPC status.
 */
public final class Excerpt {
  /** Default length of an excerpt; long enough to recognise any real path or media type. */
  public static final int DEFAULT_CHARS = 200;

  private Excerpt() {}

  /** As {@link #of(String, int)} with {@link #DEFAULT_CHARS}. */
  public static String of(String s) {
    return of(s, DEFAULT_CHARS);
  }

  /**
   * {@code s} with control characters escaped ({@code \x0a}, {@code \u0085}) and, when that is
   * longer than {@code maxChars}, cut there with a note of how much was left out
   * ({@code "aaaa… (4800 more characters)"}). {@code null} reads {@code <null>}.
   */
  public static String of(String s, int maxChars) {
    if (s == null) {
      return "<null>";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), maxChars) + 16);
    int i = 0;
    for (; i < s.length() && b.length() < maxChars; i++) {
      char c = s.charAt(i);
      if (Character.getType(c) == Character.CONTROL) {
        b.append(c < 0x100 && (c < 0x20 || c == 0x7f) ? String.format("\\x%02x", (int) c)
            : String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (i < s.length()) {
      b.append("… (").append(s.length() - i).append(" more characters)");
    }
    return b.toString();
  }
}

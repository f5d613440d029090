package org.modelpack.csi.testing;

import java.util.List;

/** Test tear-down: closes everything it is given, even when something fails on the way. */
public final class Closeables {
  private Closeables() {}

  /** Closes each in order (nulls skipped); the first failure is thrown after all were tried. */
  public static void closeAll(AutoCloseable... all) throws Exception {
    Exception first = null;
    for (AutoCloseable c : all) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Closes the list's elements last first (the reverse of start order), then empties it. */
  public static void closeReversed(List<? extends AutoCloseable> list) throws Exception {
    AutoCloseable[] reversed = new AutoCloseable[list.size()];
    for (int i = 0; i < reversed.length; i++) {
      reversed[i] = list.get(list.size() - 1 - i);
    }
    list.clear();
    closeAll(reversed);
  }
}

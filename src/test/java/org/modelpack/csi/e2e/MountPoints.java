package org.modelpack.csi.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The test's own reading of {@code /proc/self/mountinfo} (not the driver's parser: the suite
 * checks the driver, so it does not borrow the driver's view of the mount table). The driver is
 * a child process in the same mount namespace, so its mounts show here, and they outlive it.
 */
final class MountPoints {
  /**
   * One line of the table.
   *
   * @param root the mounted directory as seen inside its filesystem (a bind mount's source)
   */
  record Mount(Path point, String root, Set<String> options) {
    boolean readOnly() {
      return options.contains("ro");
    }
  }

  private MountPoints() {}

  /** Every mount at or below {@code dir}, in table order (a stacked mount appears twice). */
  static List<Mount> under(Path dir) throws IOException {
    Path d = dir.toAbsolutePath().normalize();
    List<Mount> out = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length < 6) {
        continue;
      }
      Path point = Path.of(unescape(f[4]));
      if (point.startsWith(d)) {
        out.add(new Mount(point, unescape(f[3]), Set.of(f[5].split(","))));
      }
    }
    return out;
  }

  /** Mounts exactly at {@code point}. */
  static List<Mount> at(Path point) throws IOException {
    Path p = point.toAbsolutePath().normalize();
    return under(p).stream().filter(m -> m.point().equals(p)).toList();
  }

  /** mountinfo writes space, tab, newline and backslash as a backslash and three octal digits. */
  private static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}

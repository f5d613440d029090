package org.modelpack.csi.mount;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reads the kernel's mount table for this process ({@code /proc/self/mountinfo}). */
public final class MountTable {
  private final Path mountInfo;

  public MountTable() {
    this(Path.of("/proc/self/mountinfo"));
  }

  public MountTable(Path mountInfo) {
    this.mountInfo = mountInfo;
  }

  public List<MountEntry> entries() {
    List<MountEntry> out = new ArrayList<>();
    for (String line : lines()) {
      MountEntry e = parseLine(line);
      if (e != null) {
        out.add(e);
      }
    }
    return out;
  }

  private List<String> lines() {
    try {
      return Files.readAllLines(mountInfo);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + mountInfo, e);
    }
  }

  /** The topmost mount at exactly {@code path}, if any (later lines stack over earlier ones). */
  public Optional<MountEntry> find(Path path) {
    Path p = path.toAbsolutePath().normalize();
    // Only lines naming the path are parsed: a node's table can have thousands of lines.
    String field = " " + escape(p.toString()) + " ";
    MountEntry found = null;
    for (String line : lines()) {
      if (line.contains(field)) {
        MountEntry e = parseLine(line);
        if (e != null && e.mountPoint().equals(p)) {
          found = e;
        }
      }
    }
    return Optional.ofNullable(found);
  }

  public boolean isMountPoint(Path path) {
    return find(path).isPresent();
  }

  /**
   * True when anything is mounted at or below {@code dir}, or bind-mounted from it or from below
   * it (a volume's targets live elsewhere, so mount points alone do not tell). A bind mount's
   * source shows as its root within its filesystem: the whole path, or a suffix of it when
   * {@code dir} is on a filesystem mounted below {@code /}.
   */
  public boolean isInUse(Path dir) {
    String d = dir.toAbsolutePath().normalize().toString();
    for (MountEntry e : entries()) {
      String root = e.root();
      if (e.mountPoint().startsWith(d)) {
        return true;
      }
      if (root.length() > 1 && (d.equals(root) || d.endsWith(root) || root.startsWith(d + "/")
          || containsSuffixOf(root, d))) {
        return true;
      }
    }
    return false;
  }

  /** {@code root} names something below {@code dir} as seen from a filesystem mounted lower. */
  private static boolean containsSuffixOf(String root, String dir) {
    for (int i = dir.indexOf('/', 1); i > 0; i = dir.indexOf('/', i + 1)) {
      String suffix = dir.substring(i);
      if (suffix.length() > 1 && root.startsWith(suffix + "/")) {
        return true;
      }
    }
    return false;
  }

  /** Every mount point at or below {@code dir}. */
  public List<Path> mountsUnder(Path dir) {
    Path d = dir.toAbsolutePath().normalize();
    return entries().stream().map(MountEntry::mountPoint).filter(m -> m.startsWith(d)).toList();
  }

  /**
   * Parses one mountinfo line: {@code id parent major:minor root mountpoint options [optional...]
   * - fstype source superoptions}.
   */
  static MountEntry parseLine(String line) {
    String[] f = line.split(" ");
    if (f.length < 10) {
      return null;
    }
    int sep = -1;
    for (int i = 6; i < f.length; i++) {
      if (f[i].equals("-")) {
        sep = i;
        break;
      }
    }
    if (sep < 0 || sep + 2 >= f.length) {
      return null;
    }
    Set<String> options = new HashSet<>(List.of(f[5].split(",")));
    return new MountEntry(Path.of(unescape(f[4])), unescape(f[3]), options, f[sep + 1],
        unescape(f[sep + 2]));
  }

  /** The inverse of {@link #unescape}. */
  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
        b.append('\\').append(String.format("%03o", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** mountinfo escapes space, tab, newline and backslash as a backslash and three octal digits. */
  static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}

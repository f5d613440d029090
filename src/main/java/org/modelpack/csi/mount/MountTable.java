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
    List<MountEntry> stack = stackAt(path);
    return stack.isEmpty() ? Optional.empty() : Optional.of(stack.get(stack.size() - 1));
  }

  public boolean isMountPoint(Path path) {
    return find(path).isPresent();
  }

  /** Every mount at exactly {@code path}, bottom first (the last one is what a lookup sees). */
  public List<MountEntry> stackAt(Path path) {
    Path p = path.toAbsolutePath().normalize();
    String field = " " + escape(p.toString()) + " ";
    List<MountEntry> stack = new ArrayList<>();
    // Only lines naming the path are parsed: a node's table can have thousands of lines.
    for (String line : lines()) {
      if (line.contains(field)) {
        MountEntry e = parseLine(line);
        if (e != null && e.mountPoint().equals(p)) {
          stack.add(e);
        }
      }
    }
    return stack;
  }

  /**
   * How a bind mount of {@code dir} shows in this table (see {@link BindSource}), worked out
   * from the mount points alone, so {@code dir} need not exist any more. {@code dir} must be a
   * real path: the table shows no symlinks.
   */
  public BindSource bindSourceOf(Path dir) {
    return bindSourceOf(dir, entries());
  }

  private static BindSource bindSourceOf(Path dir, List<MountEntry> entries) {
    Path d = dir.toAbsolutePath().normalize();
    MountEntry holder = null;
    for (MountEntry e : entries) {
      // The deepest mount point above dir holds it; of mounts stacked there, the last.
      if (d.startsWith(e.mountPoint()) && (holder == null
          || e.mountPoint().getNameCount() >= holder.mountPoint().getNameCount())) {
        holder = e;
      }
    }
    if (holder == null) {
      throw new IllegalStateException("no mount holds " + d + " in the mount table");
    }
    String rel = holder.mountPoint().relativize(d).toString();
    String root = rel.isEmpty() ? holder.root()
        : holder.root().equals("/") ? "/" + rel : holder.root() + "/" + rel;
    return new BindSource(holder.device(), root);
  }

  /**
   * True when anything is mounted at or below {@code dir}, or bind-mounted from it or from below
   * it (a volume's targets live elsewhere, so mount points alone do not tell).
   */
  public boolean isInUse(Path dir) {
    Path d = dir.toAbsolutePath().normalize();
    List<MountEntry> all = entries();
    BindSource self = bindSourceOf(d, all);
    for (MountEntry e : all) {
      if (e.mountPoint().startsWith(d) || self.isSourceOf(e)
          || (self.device().equals(e.device()) && e.root().startsWith(self.root() + "/"))) {
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
        unescape(f[sep + 2]), f[2]);
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

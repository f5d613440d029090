package org.modelpack.csi.e2e;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares a directory with the files a complete model has: every expected file present with
 * the right sha256, and no other file. Directories are not compared (an empty one is harmless);
 * anything that is not a directory and not expected is extra.
 */
final class ModelTreeDiff {
  private static final int SHOWN = 5;

  private ModelTreeDiff() {}

  /**
   * Returns the differences in one line, or null when {@code dir} holds exactly {@code
   * expected}. Counts come first ("13 of 430 files present") because that is what tells a
   * half-deleted tree from a corrupted one.
   */
  static String diff(Path dir, Map<String, String> expected) throws IOException {
    if (!Files.isDirectory(dir)) {
      return "no directory " + dir;
    }
    Map<String, Path> found = new TreeMap<>();
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        found.put(dir.relativize(file).toString(), file);
        return FileVisitResult.CONTINUE;
      }
    });
    TreeSet<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(found.keySet());
    List<String> extra = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    int present = 0;
    for (Map.Entry<String, Path> e : found.entrySet()) {
      String want = expected.get(e.getKey());
      if (want == null) {
        extra.add(e.getKey());
        continue;
      }
      present++;
      if (!Files.isRegularFile(e.getValue(), java.nio.file.LinkOption.NOFOLLOW_LINKS)
          || !want.equals(FileHashes.sha256(e.getValue()))) {
        wrong.add(e.getKey());
      }
    }
    if (missing.isEmpty() && extra.isEmpty() && wrong.isEmpty()) {
      return null;
    }
    StringBuilder b = new StringBuilder().append(present).append(" of ").append(expected.size())
        .append(" files present");
    if (!missing.isEmpty()) {
      b.append("; missing ").append(missing.size()).append(' ').append(first(missing));
    }
    if (!wrong.isEmpty()) {
      b.append("; wrong content ").append(wrong.size()).append(' ').append(first(wrong));
    }
    if (!extra.isEmpty()) {
      b.append("; extra ").append(extra.size()).append(' ').append(first(extra));
    }
    return b.toString();
  }

  /** Regular files and links below {@code dir}, or 0 when it does not exist. */
  static long countFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (var s = Files.walk(dir)) {
      return s.filter(p -> !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .count();
    }
  }

  private static List<String> first(java.util.Collection<String> names) {
    return names.stream().limit(SHOWN).toList();
  }
}

package org.modelpack.csi.e2e;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Nothing a killed process was in the middle of survives the next start: no temporary file of
 * the driver's naming, no staging point, no half-removed volume under another name, nothing
 * under {@code root_dir} that anyone but root can write.
 *
 * <p>The names are those the driver uses today ({@code .<name>*.tmp} from atomic writes,
 * {@code *.partial} and {@code *.tree} in ingest, {@code .modelpack-*.part} from extraction)
 * plus, by rule rather than by name, anything hidden: the models the suite publishes have no
 * hidden file, so a dot-name under {@code root_dir} is the driver's own and a leftover. That
 * rule also covers a volume renamed aside for removal ({@code volumes/.removing-*} or any other
 * spelling) that a start did not finish.
 */
final class LeftoverChecks {
  private static final Pattern TEMP_NAME = Pattern.compile(
      "\\..*|.*\\.tmp|.*\\.partial|.*\\.part|.*\\.tree");
  /** root_dir's own entries; anything with "lock" in its name is the driver's root_dir lock. */
  private static final Set<String> ROOT_ENTRIES = Set.of("volumes", "store", "staging");
  private static final int SHOWN = 8;

  private LeftoverChecks() {}

  /** {@code volumeIds}: every volume id the suite ever publishes. */
  static List<String> check(Path rootDir, Set<String> volumeIds) throws IOException {
    List<String> findings = new ArrayList<>();
    for (Path p : StoreChecks.list(rootDir)) {
      String name = p.getFileName().toString();
      if (!ROOT_ENTRIES.contains(name) && !name.contains("lock")
          && !(Files.isDirectory(p) && StoreChecks.list(p).isEmpty())) {
        findings.add("unexpected " + name + " in root_dir");
      }
    }
    List<Path> staging = StoreChecks.list(rootDir.resolve("staging"));
    if (!staging.isEmpty()) {
      findings.add("staging/ is not empty after the start: "
          + staging.stream().map(p -> p.getFileName().toString()).toList());
    }
    for (Path v : StoreChecks.list(rootDir.resolve("volumes"))) {
      String name = v.getFileName().toString();
      if (!volumeIds.contains(name) || !Files.isDirectory(v, LinkOption.NOFOLLOW_LINKS)) {
        findings.add("volumes/" + name + " is no volume the suite published (holding "
            + ModelTreeDiff.countFiles(v) + " files): a removal the start did not finish");
      }
    }
    List<String> temps = new ArrayList<>();
    Files.walkFileTree(rootDir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a)
          throws IOException {
        if (!d.equals(rootDir)) {
          note(d);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
        note(f);
        return FileVisitResult.CONTINUE;
      }

      private void note(Path p) {
        String name = p.getFileName().toString();
        boolean rootLock = p.getParent().equals(rootDir) && name.contains("lock");
        // Downloads kept to resume are checked by StoreChecks.
        boolean resumable = p.getParent().endsWith("store/ingest")
            && StoreChecks.RESUMABLE.matcher(name).matches();
        if (TEMP_NAME.matcher(name).matches() && !rootLock && !resumable) {
          temps.add(rootDir.relativize(p).toString());
        }
      }
    });
    if (!temps.isEmpty()) {
      findings.add(temps.size() + " temporary files survived the start: "
          + temps.stream().limit(SHOWN).toList());
    }
    List<String> writable = writableByOthers(rootDir);
    if (!writable.isEmpty()) {
      findings.add(writable.size() + " paths under root_dir are group- or world-writable: "
          + writable.stream().limit(SHOWN).toList());
    }
    return findings;
  }

  /**
   * {@code root_dir} itself and everything under it that group or others may write, each as
   * "path (mode)". The driver's data must not depend on the umask it was started with.
   */
  static List<String> writableByOthers(Path rootDir) throws IOException {
    List<String> writable = new ArrayList<>();
    try (Stream<Path> all = Files.walk(rootDir)) {
      for (Path p : all.toList()) {
        if (Files.isSymbolicLink(p)) {
          continue;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p,
            LinkOption.NOFOLLOW_LINKS);
        if (perms.contains(PosixFilePermission.GROUP_WRITE)
            || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
          String rel = rootDir.relativize(p).toString();
          writable.add((rel.isEmpty() ? "root_dir" : rel) + " ("
              + PosixFilePermissions.toString(perms) + ")");
        }
      }
    }
    return writable;
  }
}

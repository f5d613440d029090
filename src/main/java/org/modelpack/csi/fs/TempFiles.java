package org.modelpack.csi.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The driver's temporary files outside {@code ingest/}: {@link FileTrees#writeAtomically}
 * writes {@code .<name><random>.tmp} beside its target and renames it into place. A process
 * killed in between leaves one behind; the next start removes them by that naming.
 */
public final class TempFiles {
  private TempFiles() {}

  static String prefix(Path target) {
    return "." + target.getFileName();
  }

  static final String SUFFIX = ".tmp";

  /** True for a name {@link FileTrees#writeAtomically} gives its temporary files. */
  public static boolean isTemporary(String name) {
    return name.startsWith(".") && name.endsWith(SUFFIX) && name.length() > 1 + SUFFIX.length();
  }

  /** Deletes the temporary regular files directly in {@code dir}; returns how many. */
  public static int sweep(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    int removed = 0;
    try (DirectoryStream<Path> items = Files.newDirectoryStream(dir,
        p -> isTemporary(p.getFileName().toString()))) {
      for (Path p : items) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(p)) {
          removed++;
        }
      }
    }
    return removed;
  }
}

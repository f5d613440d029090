package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Shared store content is never writable: files 0444 (0555 if executable), directories 0555. */
final class ReadOnly {
  static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("r--r--r--");
  static final Set<PosixFilePermission> EXEC = PosixFilePermissions.fromString("r-xr-xr-x");
  static final Set<PosixFilePermission> DIR = EXEC;
  static final Set<PosixFilePermission> WRITABLE_DIR = PosixFilePermissions.fromString("rwxr-xr-x");
  /** The same modes as numbers, as stat(2) gives them. */
  static final int FILE_MODE = 0444;
  static final int EXEC_MODE = 0555;
  static final int DIR_MODE = 0555;

  private ReadOnly() {}

  static void file(Path file, boolean executable) throws IOException {
    Files.setPosixFilePermissions(file, executable ? EXEC : FILE);
  }

  /** Makes a tree read-only and returns the total size of its regular files. */
  static long tree(Path root) throws IOException {
    long[] size = {0};
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
        if (a.isRegularFile()) {
          size[0] += a.size();
          boolean exec = Files.getPosixFilePermissions(f)
              .contains(PosixFilePermission.OWNER_EXECUTE);
          file(f, exec);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.setPosixFilePermissions(d, DIR);
        return FileVisitResult.CONTINUE;
      }
    });
    return size[0];
  }

  /** Undoes {@link #tree} on directories so the tree can be deleted (files need no change). */
  static void makeDeletable(Path root) throws IOException {
    if (!Files.isDirectory(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
        Files.setPosixFilePermissions(d, WRITABLE_DIR);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}

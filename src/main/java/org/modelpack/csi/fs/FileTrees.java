package org.modelpack.csi.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** Whole-tree deletion and crash-safe small-file writes. */
public final class FileTrees {
  private FileTrees() {}

  /**
   * Deletes {@code dir} and everything below it without following symlinks (a link is removed,
   * never its target). Missing paths are fine.
   */
  public static void delete(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
        if (exc instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw exc;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
        if (exc != null && !(exc instanceof NoSuchFileException)) {
          throw exc;
        }
        Files.deleteIfExists(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /**
   * Writes {@code content} so that readers see either the old file or the whole new one:
   * temp file in the same directory, fsync, rename, fsync the directory. The file is 0600; a
   * missing directory is created private (0700).
   */
  public static void writeAtomically(Path file, byte[] content) throws IOException {
    writeAtomically(file, content, true);
  }

  /**
   * As {@link #writeAtomically(Path, byte[])}; with {@code durable=false} the two fsyncs are
   * skipped: readers still see old-or-new, but a power loss may roll the file back. For states
   * that a restart treats as "start over" anyway, that is enough, and it keeps the fsyncs (tens
   * of milliseconds each on a busy disk) off the warm publish path.
   */
  public static void writeAtomically(Path file, byte[] content, boolean durable)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Dirs.create(dir, Dirs.PRIVATE);
    // 0600 whatever the umask; a crash leaves it behind under a name TempFiles recognises.
    Path tmp = Files.createTempFile(dir, TempFiles.prefix(file), TempFiles.SUFFIX);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(java.nio.ByteBuffer.wrap(content));
        if (durable) {
          ch.force(true);
        }
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      if (durable) {
        fsyncDirectory(dir);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Makes a rename or create in {@code dir} durable. */
  public static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // Some filesystems refuse fsync on a directory; the rename itself still happened.
    }
  }
}

package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.function.Function;
import org.modelpack.csi.unpack.SafePath;

/**
 * Compares a volume's model directory with its record before the directory is mounted again:
 * every file of every recorded layer must be there, as large as the store's copy. A tree that
 * lost files (a crash mid-removal in an older version, a disk, a hand) is then pulled again
 * instead of being served partial. Costs a stat per file, on the rare path of mounting a
 * volume that was pulled earlier (after a node reboot, or for a second target).
 */
final class PlacedTreeCheck {
  private PlacedTreeCheck() {}

  /**
   * What is wrong with {@code modelDir}, or empty when it holds every file of {@code record}.
   *
   * @param stored the store's entry for a layer, or null when the store no longer has it
   */
  static Optional<String> mismatch(VolumeRecord record, Path modelDir,
      Function<LayerKey, StoreEntry> stored) throws IOException {
    for (VolumeRecord.Layer layer : record.layers()) {
      StoreEntry entry = stored.apply(layer.key());
      if (entry == null) {
        return Optional.of("the store no longer has layer " + layer.digest());
      }
      Optional<String> wrong = layer.kind() == EntryKind.BLOB
          ? blobMismatch(layer, entry, modelDir) : treeMismatch(entry, modelDir);
      if (wrong.isPresent()) {
        return wrong;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> blobMismatch(VolumeRecord.Layer layer, StoreEntry entry,
      Path modelDir) throws IOException {
    for (String path : layer.paths()) {
      Path file = SafePath.resolve(modelDir, path, layer.digest());
      if (!sameSizeFile(file, entry.size())) {
        return Optional.of(path + " (layer " + layer.digest() + ") is missing or not "
            + entry.size() + " bytes");
      }
    }
    return Optional.empty();
  }

  private static Optional<String> treeMismatch(StoreEntry entry, Path modelDir)
      throws IOException {
    Path tree = entry.path();
    String[] wrong = {null};
    Files.walkFileTree(tree, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) {
        return check(dir, Files.isDirectory(placed(dir), LinkOption.NOFOLLOW_LINKS));
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
        Path p = placed(file);
        boolean ok = a.isSymbolicLink() ? Files.isSymbolicLink(p)
            : !a.isRegularFile() || sameSizeFile(p, a.size());
        return check(file, ok);
      }

      private Path placed(Path inTree) {
        return modelDir.resolve(tree.relativize(inTree).toString());
      }

      private FileVisitResult check(Path inTree, boolean ok) {
        if (ok) {
          return FileVisitResult.CONTINUE;
        }
        wrong[0] = tree.relativize(inTree) + " (layer " + entry.key().digest() + ") is missing"
            + " or differs from the store's";
        return FileVisitResult.TERMINATE;
      }
    });
    return Optional.ofNullable(wrong[0]);
  }

  private static boolean sameSizeFile(Path file, long size) throws IOException {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
      return a.isRegularFile() && a.size() == size;
    } catch (NoSuchFileException e) {
      return false;
    }
  }
}

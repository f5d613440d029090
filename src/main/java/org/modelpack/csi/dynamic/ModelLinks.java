package org.modelpack.csi.dynamic;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.mount.MountTable;
import org.modelpack.csi.unpack.SafePath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dynamic mount's model as entries of the workspace itself: {@code models/<m>/model} mirrors
 * the volume manager's pulled tree with directories made here, regular files hard-linked to the
 * same inodes and symlinks recreated as they are. A pod whose copy of the workspace is private
 * (no {@code mountPropagation}) sees directory entries made after it started, but never mounts
 * (decision 1127). Files stay read-only to the pod: it reaches them only through the
 * workspace's read-only bind, and the store's inodes are 0444 anyway.
 */
final class ModelLinks {
  private static final Logger log = LoggerFactory.getLogger(ModelLinks.class);
  /** Prefix of the tree being built beside {@code model}; a crash may leave one. */
  static final String BUILDING = ".model-new-";
  /** A tree being replaced, renamed out of the way for the moment of the swap. */
  static final String REPLACED = ".model-old";

  private final MountTable mounts;

  ModelLinks(MountTable mounts) {
    this.mounts = mounts;
  }

  /**
   * Makes {@code <mountDir>/model} mirror {@code source}: kept when it already links the same
   * inodes (a repeated POST, a restart), else built in a sibling and renamed into place, so a
   * pod sees the whole tree or none of it.
   */
  void mirror(Path mountDir, Path source) throws IOException {
    Path model = mountDir.resolve(Workspace.MODEL);
    if (Files.isDirectory(model, LinkOption.NOFOLLOW_LINKS)
        && entries(model).equals(entries(source))) {
      return;
    }
    Path building = Files.createTempDirectory(mountDir, BUILDING);
    try {
      Files.setPosixFilePermissions(building, SafePath.DIR_PERMISSIONS); // the pod's user reads
      link(source, building);
      Path replaced = mountDir.resolve(REPLACED);
      deleteOwnTree(replaced);
      if (Files.exists(model, LinkOption.NOFOLLOW_LINKS)) {
        // A stale tree (its volume was pulled again): out of the way first, as rename(2)
        // replaces only an empty directory.
        Files.move(model, replaced, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(building, model, StandardCopyOption.ATOMIC_MOVE);
      deleteOwnTree(replaced);
    } finally {
      deleteOwnTree(building);
    }
  }

  /** Mirrors {@code source} into the empty directory {@code into}; never writes outside it. */
  private static void link(Path source, Path into) throws IOException {
    Files.walkFileTree(source, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a)
          throws IOException {
        if (!dir.equals(source)) {
          Path made = Files.createDirectory(inside(into, source.relativize(dir)));
          Files.setPosixFilePermissions(made, SafePath.DIR_PERMISSIONS);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
        Path to = inside(into, source.relativize(file));
        if (a.isRegularFile()) {
          Files.createLink(to, file);
        } else if (a.isSymbolicLink()) {
          Path target = Files.readSymbolicLink(file);
          // The pull checked it already; checked again, as it is written anew here.
          if (target.isAbsolute() || !to.getParent().resolve(target).normalize()
              .startsWith(into)) {
            throw new IOException("symlink " + file + " -> " + target + " leaves the model");
          }
          Files.createSymbolicLink(to, target);
        } else {
          throw new IOException(file + " is neither a file, a directory nor a symlink");
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static Path inside(Path root, Path relative) throws IOException {
    return SafePath.resolve(root, relative.toString());
  }

  /** Each entry under {@code root} by relative path: a directory, an inode, a link's target. */
  private static Map<String, String> entries(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) {
        out.put(root.relativize(dir).toString(), "dir");
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
        out.put(root.relativize(file).toString(), a.isSymbolicLink()
            ? "link " + Files.readSymbolicLink(file) : "file " + a.fileKey());
        return FileVisitResult.CONTINUE;
      }
    });
    return out;
  }

  /**
   * Removes what {@link #mirror} made in {@code mountDir} ({@code model} and its siblings in
   * the making) and, with {@code andDir}, then the empty {@code .source} and {@code mountDir}
   * itself if nothing else is left in them (rmdirs, after the volume manager unmounted). A tree
   * with a mount at or below it, seen through any of {@code views} (the paths {@code mountDir}
   * is seen at: the workspace's own and the target's), is kept: a delete never reaches through
   * a mount.
   *
   * @return whether everything asked for is gone
   */
  boolean remove(Path mountDir, List<Path> views, boolean andDir) {
    try {
      List<String> own = new ArrayList<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(mountDir)) {
        for (Path p : entries) {
          String name = p.getFileName().toString();
          if (name.equals(Workspace.MODEL) || name.equals(REPLACED)
              || name.startsWith(BUILDING)) {
            own.add(name);
          }
        }
      }
      for (String name : own) {
        for (Path view : views) {
          List<Path> found = mounts.mountsUnder(view.resolve(name));
          if (!found.isEmpty()) {
            log.warn("keeping {}: {} is mounted there", mountDir.resolve(name), found);
            return false;
          }
        }
      }
      for (String name : own) {
        deleteOwnTree(mountDir.resolve(name));
      }
      if (!andDir) {
        return true;
      }
      for (Path view : views) {
        if (!mounts.mountsUnder(view.resolve(Workspace.SOURCE)).isEmpty()) {
          log.warn("keeping {}: its model is still mounted there", mountDir);
          return false;
        }
      }
      // rmdirs: anything not made here stays, and so does what holds it
      Files.deleteIfExists(mountDir.resolve(Workspace.SOURCE));
      Files.deleteIfExists(mountDir);
      return true;
    } catch (NoSuchFileException e) {
      return true;
    } catch (IOException e) {
      log.warn("cannot remove {}: {}", mountDir, e.toString());
      return false;
    }
  }

  private static void deleteOwnTree(Path p) throws IOException {
    FileTrees.delete(p); // never follows a symlink; its files are links, their inodes stay
  }
}

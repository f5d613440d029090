package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.unpack.ConflictingPathException;
import org.modelpack.csi.unpack.SafeDirs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Places store entries into a volume's model directory: a hard link where possible; across
 * filesystems (EXDEV), or when the filesystem refuses the link (EPERM, EMLINK), a reflink; else
 * a copy. A failed link never leads to a download: the bytes are already on the node.
 */
public final class Materializer {
  private static final Logger log = LoggerFactory.getLogger(Materializer.class);
  /** Per target filesystem: does {@code cp --reflink=always} work from the store? */
  private final ConcurrentHashMap<Object, Boolean> reflinkWorks = new ConcurrentHashMap<>();

  /**
   * Places an entry; {@code rawPath} names the file for a blob and is ignored for a tree. With
   * {@code privateCopy} every file is a writable copy of its own (for writable volumes), never
   * the store's inode.
   */
  public Set<PlacementMethod> place(StoreEntry entry, Path modelDir, String rawPath,
      boolean privateCopy) throws IOException {
    return place(entry, new SafeDirs(modelDir), rawPath, privateCopy);
  }

  /** As above, into a model directory whose directories other placements may have made. */
  public Set<PlacementMethod> place(StoreEntry entry, SafeDirs modelDirs, String rawPath,
      boolean privateCopy) throws IOException {
    Path modelDir = modelDirs.root();
    String digest = entry.key().digest();
    if (entry.key().kind() == EntryKind.BLOB) {
      Path target = modelDirs.resolve(rawPath, digest);
      modelDirs.create(target.getParent(), digest);
      return EnumSet.of(privateCopy ? copyPrivately(entry.path(), target, rawPath, digest)
          : linkOrClone(entry.path(), target, modelDir, rawPath, digest));
    }
    Set<PlacementMethod> used = EnumSet.noneOf(PlacementMethod.class);
    Path tree = entry.path();
    Files.walkFileTree(tree, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
          throws IOException {
        if (!dir.equals(tree)) {
          String rel = tree.relativize(dir).toString();
          modelDirs.create(modelDirs.resolve(rel, digest), digest);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        String rel = tree.relativize(file).toString();
        Path target = modelDirs.resolve(rel, digest);
        if (attrs.isSymbolicLink()) {
          // The extractor only admitted links that stay inside the layer's tree.
          try {
            Files.createSymbolicLink(target, Files.readSymbolicLink(file));
          } catch (FileAlreadyExistsException e) {
            throw new ConflictingPathException(rel, null, digest);
          }
        } else if (attrs.isRegularFile()) {
          used.add(privateCopy ? copyPrivately(file, target, rel, digest)
              : linkOrClone(file, target, modelDir, rel, digest));
        }
        return FileVisitResult.CONTINUE;
      }
    });
    return used;
  }

  private PlacementMethod linkOrClone(Path source, Path target, Path modelDir, String rel,
      String digest) throws IOException {
    try {
      Files.createLink(target, source);
      return PlacementMethod.HARDLINK;
    } catch (FileAlreadyExistsException e) {
      throw new ConflictingPathException(rel, null, digest);
    } catch (FileSystemException e) {
      if (!linkRefused(e)) {
        throw e;
      }
      log.debug("hard link {} -> {} refused ({}); cloning", target, source, e.getReason());
    }
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConflictingPathException(rel, null, digest);
    }
    Object fs = Files.getAttribute(modelDir, "unix:dev");
    if (reflinkWorks.getOrDefault(fs, true)) {
      if (reflink(source, target)) {
        reflinkWorks.put(fs, true);
        return PlacementMethod.REFLINK;
      }
      reflinkWorks.put(fs, false);
    }
    Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
    return PlacementMethod.COPY;
  }

  private static PlacementMethod copyPrivately(Path source, Path target, String rel,
      String digest) throws IOException {
    try {
      Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
    } catch (FileAlreadyExistsException e) {
      throw new ConflictingPathException(rel, null, digest);
    }
    boolean exec = Files.isExecutable(source);
    Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions
        .fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
    return PlacementMethod.COPY;
  }

  /** EXDEV (other filesystem), EPERM (links forbidden), EMLINK (link count exhausted). */
  static boolean linkRefused(FileSystemException e) {
    String reason = String.valueOf(e.getReason());
    return reason.contains("cross-device") || reason.contains("Operation not permitted")
        || reason.contains("Too many links");
  }

  private static boolean reflink(Path source, Path target) {
    try {
      Process p = new ProcessBuilder(List.of("cp", "--reflink=always", "--preserve=mode,timestamps",
          source.toString(), target.toString())).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (p.waitFor(10, TimeUnit.MINUTES) && p.exitValue() == 0) {
        return true;
      }
      p.destroyForcibly();
    } catch (IOException e) {
      log.debug("cp --reflink unavailable: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(target);
    } catch (IOException ignored) {
      // the copy fallback will report a real problem
    }
    return false;
  }
}

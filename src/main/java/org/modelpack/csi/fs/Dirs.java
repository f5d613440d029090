package org.modelpack.csi.fs;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Set;

/**
 * Directories with the modes the driver chose, never the process umask's: started with umask
 * 000, a plain {@code createDirectories} would make every directory world-writable, and anyone
 * on the node could plant files the driver later serves.
 */
public final class Dirs {
  /** The driver's own state: volumes, the store, staging points. */
  public static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
  /** Readable by everyone who can reach it (a model directory, seen by pods through a mount). */
  public static final Set<PosixFilePermission> SHARED = PosixFilePermissions.fromString("rwxr-xr-x");

  private Dirs() {}

  /**
   * Creates {@code dir} and its missing parents, each with exactly {@code mode}; directories
   * that exist are left as they are. Returns {@code dir}.
   */
  public static Path create(Path dir, Set<PosixFilePermission> mode) throws IOException {
    Deque<Path> missing = new ArrayDeque<>();
    for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.isDirectory(p);
        p = p.getParent()) {
      missing.push(p);
    }
    for (Path p : missing) {
      try {
        Files.createDirectory(p);
        Files.setPosixFilePermissions(p, mode);
      } catch (FileAlreadyExistsException e) {
        if (!Files.isDirectory(p)) {
          throw e;
        }
      }
    }
    return dir;
  }

  /**
   * Makes {@code dir} a directory of this driver's with exactly {@code mode}: created if
   * missing; if it exists, it must be a real directory (not a symlink) owned by this process's
   * user, and its mode is set. Refuses, naming the problem, a directory someone else owns: its
   * owner could swap what the driver reads there.
   */
  public static Path own(Path dir, Set<PosixFilePermission> mode) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return create(dir, mode);
    }
    if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " must be a directory of the driver's, not a "
          + (Files.isSymbolicLink(dir) ? "symlink" : "file"));
    }
    requireOwned(dir);
    if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(mode)) {
      Files.setPosixFilePermissions(dir, mode);
    }
    return dir;
  }

  /**
   * A directory the operator named ({@code root_dir}, {@code cache.dir}), possibly behind a
   * symlink: created with {@code mode} if missing; if it exists it must be this user's, and
   * write access for group and others is taken away (they could rename what the driver keeps
   * there). Returns its real path.
   */
  public static Path ownConfigured(Path dir, Set<PosixFilePermission> mode) throws IOException {
    if (!Files.exists(dir)) {
      create(dir, mode);
    }
    Path real = dir.toRealPath();
    if (!Files.isDirectory(real)) {
      throw new IOException(dir + " is not a directory");
    }
    requireOwned(real);
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(real);
    if (perms.removeAll(Set.of(PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.OTHERS_WRITE))) {
      Files.setPosixFilePermissions(real, perms);
    }
    return real;
  }

  /** Fails unless {@code path} (not followed) belongs to this process's user. */
  public static void requireOwned(Path path) throws IOException {
    int owner = (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    if (owner != processUid()) {
      throw new IOException(path + " belongs to uid " + owner + ", not to the driver's uid "
          + processUid() + "; give the driver a directory of its own");
    }
  }

  /** Owner and mode bits of {@code path} (not followed), in one stat. */
  public static Map<String, Object> ownerAndMode(Path path) throws IOException {
    return Files.readAttributes(path, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
  }

  /** The effective uid of this process: the owner of its own /proc entry. */
  public static int processUid() {
    return UID;
  }

  private static final int UID = readProcessUid();

  private static int readProcessUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException e) {
      throw new IllegalStateException("cannot tell this process's uid from /proc/self", e);
    }
  }
}

package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;

/**
 * Which paths a model may be mounted at. A target must be reached without any symlink (one
 * would let a pod's path lead the mount, and later the removal, anywhere on the node), must not
 * be, lie inside or contain one of the driver's own directories (mounting over the store or
 * the socket would break every pull, or hide them), and must be a directory: missing (created
 * here, and so removed at unpublish), or empty. A non-empty directory would be hidden by the
 * mount; its files are not the driver's to hide.
 */
public final class TargetGuard {
  private final List<Path> ownDirs;

  /** @param ownDirs the driver's directories, as real paths: root_dir, the store, the socket's */
  public TargetGuard(List<Path> ownDirs) {
    this.ownDirs = List.copyOf(ownDirs);
  }

  /** Refuses a target the driver must not mount at, with INVALID_ARGUMENT naming why. */
  public void check(Path target) {
    Path t = target.toAbsolutePath().normalize();
    for (Path own : ownDirs) {
      if (t.startsWith(own)) {
        throw refused(t, "is " + (t.equals(own) ? "" : "inside ") + own
            + ", a directory of the driver's own");
      }
      if (own.startsWith(t)) {
        throw refused(t, "contains " + own + ", a directory of the driver's own");
      }
    }
    Path p = t.getRoot();
    for (Path name : t) {
      p = p.resolve(name);
      BasicFileAttributes a = attributes(p);
      if (a == null) {
        return; // the rest does not exist yet; createIfMissing makes it without links
      }
      if (a.isSymbolicLink()) {
        throw refused(t, "is reached through the symlink " + p);
      }
      if (!a.isDirectory()) {
        throw refused(t, p.equals(t) ? "is a " + (a.isRegularFile() ? "regular file" : "special file")
            + "; a model is mounted on a directory" : "has " + p + ", which is not a directory");
      }
    }
  }

  /** Refuses a target directory with entries in it (call when nothing is mounted there). */
  public void requireEmpty(Path target) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
      if (entries.iterator().hasNext()) {
        throw refused(target, "is a directory with files in it, which the mount would hide");
      }
    } catch (NoSuchFileException e) {
      // created at mount time
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "cannot read target_path " + target + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Creates the target and any missing parents as directories (0750, whatever the umask),
   * checking each existing component is a directory and no symlink. True when the target
   * itself was created here.
   */
  public boolean createIfMissing(Path target) throws IOException {
    Path t = target.toAbsolutePath().normalize();
    Path p = t.getRoot();
    boolean created = false;
    for (Path name : t) {
      p = p.resolve(name);
      created = false;
      BasicFileAttributes a = attributes(p);
      if (a == null) {
        try {
          Files.createDirectory(p);
          Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-x---"));
          created = true;
          continue;
        } catch (FileAlreadyExistsException raced) {
          a = attributes(p);
        }
      }
      if (a == null || a.isSymbolicLink() || !a.isDirectory()) {
        throw refused(t, "has " + p + ", which is not a directory");
      }
    }
    return created;
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "cannot inspect " + p + ": "
          + e.getMessage(), e);
    }
  }

  private static DriverException refused(Path target, String why) {
    return new DriverException(ErrorKind.INVALID_ARGUMENT, "target_path " + target + " " + why);
  }
}

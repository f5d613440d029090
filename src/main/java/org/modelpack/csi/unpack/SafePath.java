package org.modelpack.csi.unpack;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns untrusted relative paths (annotation values, tar entry names) into paths under a model
 * root, and creates directories without ever following a symlink.
 *
 * <p>Rules for a relative path: not empty, at most {@link #MAX_PATH_BYTES} bytes with no segment
 * over {@link #MAX_SEGMENT_BYTES} (UTF-8), no NUL or other control character, no backslash, not
 * absolute, no drive letter, and no empty, {@code .} or {@code ..} segment. Names that merely
 * contain dots, such as {@code a..b} or {@code .hidden}, are fine. As a second line of defence,
 * the normalised result must lie strictly under the root (docs/decisions/0205, 0821).
 */
public final class SafePath {
  private SafePath() {}

  /** Linux's NAME_MAX: a longer segment cannot be created, so it is refused before any download. */
  public static final int MAX_SEGMENT_BYTES = 255;
  /** Linux's PATH_MAX, for the path relative to the model root. */
  public static final int MAX_PATH_BYTES = 4096;

  /** Mode for directories created here. */
  public static final Set<PosixFilePermission> DIR_PERMISSIONS = PosixFilePermissions.fromString("rwxr-xr-x");

  /** Resolves {@code relative} under {@code root}; see the class comment for the rules. */
  public static Path resolve(Path root, String relative) throws UnsafePathException {
    return resolve(root, relative, null);
  }

  /**
   * As {@link #resolve(Path, String)}, naming {@code layerDigest} in any error.
   *
   * @return the absolute, normalised target path (strictly below the root)
   */
  public static Path resolve(Path root, String relative, String layerDigest) throws UnsafePathException {
    check(relative, layerDigest);
    Path base = root.toAbsolutePath().normalize();
    Path target = base.resolve(relative).normalize();
    if (!target.startsWith(base) || target.equals(base)) {
      throw new UnsafePathException(relative, layerDigest, "resolves outside the model root");
    }
    long absolute = utf8Length(target.toString());
    if (absolute > MAX_PATH_BYTES - 1) {
      // Acceptable on its own, but too long for the system calls under this root (ENAMETOOLONG).
      throw new UnsafePathException(relative, layerDigest, "path would be " + absolute
          + " bytes long where it is placed, more than the " + (MAX_PATH_BYTES - 1)
          + " Linux allows");
    }
    return target;
  }

  /** Validates the textual form of a relative path without resolving it. */
  public static void check(String relative, String layerDigest) throws UnsafePathException {
    if (relative == null || relative.isEmpty()) {
      throw new UnsafePathException(relative, layerDigest, "path is empty");
    }
    long bytes = utf8Length(relative);
    if (bytes > MAX_PATH_BYTES) {
      throw new UnsafePathException(relative, layerDigest, "path is " + bytes
          + " bytes long (UTF-8), more than the " + MAX_PATH_BYTES + " a path may have");
    }
    if (relative.indexOf('\0') >= 0) {
      throw new UnsafePathException(relative, layerDigest, "path contains a NUL character");
    }
    for (int i = 0; i < relative.length(); i++) {
      // Newlines, escapes and the like make a name that lies in listings and logs.
      if (Character.getType(relative.charAt(i)) == Character.CONTROL) {
        throw new UnsafePathException(relative, layerDigest, "path contains a control character");
      }
    }
    if (relative.indexOf('\\') >= 0) {
      throw new UnsafePathException(relative, layerDigest, "path contains a backslash");
    }
    if (relative.startsWith("/")) {
      throw new UnsafePathException(relative, layerDigest, "path is absolute");
    }
    if (relative.length() >= 2 && relative.charAt(1) == ':' && isAsciiLetter(relative.charAt(0))) {
      throw new UnsafePathException(relative, layerDigest, "path starts with a drive letter");
    }
    // split with limit -1 keeps trailing empty segments ("a/" -> ["a", ""]).
    for (String segment : relative.split("/", -1)) {
      if (segment.isEmpty()) {
        throw new UnsafePathException(relative, layerDigest, "path has an empty segment");
      }
      if (segment.equals(".") || segment.equals("..")) {
        throw new UnsafePathException(relative, layerDigest, "path has a '" + segment + "' segment");
      }
      long segmentBytes = utf8Length(segment);
      if (segmentBytes > MAX_SEGMENT_BYTES) {
        throw new UnsafePathException(relative, layerDigest, "path has a segment of "
            + segmentBytes + " bytes (UTF-8), more than the " + MAX_SEGMENT_BYTES
            + " a file name may have");
      }
    }
  }

  /**
   * Creates {@code dir} and any missing parents below {@code root}, one segment at a time with
   * mode 0755. Every existing component is inspected without following links. A symlink or a
   * non-directory component is refused, so nothing is ever created through a symlink. The root
   * itself is trusted and must already exist.
   *
   * @return the directories this call created, parents first (for cleanup by the caller)
   * @throws UnsafePathException if {@code dir} is not under root or a component is a symlink or
   *     not a directory
   */
  public static List<Path> createDirectories(Path root, Path dir) throws IOException {
    return createDirectories(root, dir, null);
  }

  /** As {@link #createDirectories(Path, Path)}, naming {@code layerDigest} in any error. */
  public static List<Path> createDirectories(Path root, Path dir, String layerDigest) throws IOException {
    Path base = root.toAbsolutePath().normalize();
    Path target = dir.toAbsolutePath().normalize();
    if (!target.startsWith(base)) {
      throw new UnsafePathException(dir.toString(), layerDigest, "directory is outside the model root");
    }
    if (!Files.isDirectory(base)) {
      throw new NoSuchFileException(base.toString(), null, "model root is not a directory");
    }
    List<Path> created = new ArrayList<>();
    Path current = base;
    for (Path name : base.relativize(target)) {
      if (name.toString().isEmpty()) {
        continue; // target == base
      }
      current = current.resolve(name);
      BasicFileAttributes attrs = attributesOrNull(current);
      if (attrs == null) {
        try {
          Files.createDirectory(current);
          created.add(current);
          Files.setPosixFilePermissions(current, DIR_PERMISSIONS);
          continue;
        } catch (FileAlreadyExistsException raced) {
          attrs = attributesOrNull(current); // someone else created it meanwhile; inspect it
          if (attrs == null) {
            throw raced;
          }
        }
      }
      String rel = base.relativize(current).toString();
      if (attrs.isSymbolicLink()) {
        throw new UnsafePathException(rel, layerDigest, "existing path component is a symlink");
      }
      if (!attrs.isDirectory()) {
        throw new UnsafePathException(rel, layerDigest, "existing path component is not a directory");
      }
    }
    return created;
  }

  private static BasicFileAttributes attributesOrNull(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Bytes of {@code s} in UTF-8, without encoding it (a hostile path may be megabytes long). */
  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      // A surrogate pair is 4 bytes: 2 for each half.
      n += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    }
    return n;
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
}

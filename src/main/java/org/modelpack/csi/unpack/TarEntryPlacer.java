package org.modelpack.csi.unpack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.modelpack.csi.error.Excerpt;
import org.modelpack.csi.modelpack.FileMetadata;
import org.modelpack.csi.modelpack.LayerFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Places the entries of a verified tar / tar+gzip / tar+zstd model layer under a fresh root
 * that nobody else writes to ({@link FreshTreeExtractor}), treating every entry as untrusted
 * (docs/decisions/0203). One placer serves one extraction. Because the root is private,
 * everything in it is this layer's: a directory it made need not be checked again, a hard link
 * may name any regular file already there, and a collision is with the layer's own entry.
 *
 * <ul>
 *   <li>Entry names go through {@link SafePath} after a leading {@code ./} is stripped (and, for
 *       directories, trailing slashes). Parent directories are created without following symlinks.
 *   <li>Regular files are streamed into a temporary file in the target directory, given their
 *       header mode and mtime, then linked into place without replacing anything. An existing
 *       path is a {@link ConflictingPathException}.
 *   <li>Directories created by this placer get their header mode and mtime after all entries, so
 *       a read-only directory entry cannot block its children. Existing directories are left alone.
 *   <li>A symlink is allowed only if its target is relative and, taken from the link's
 *       directory, stays inside the root. {@code ..} may only appear as leading segments,
 *       which keeps this lexical check sound when links are chained.
 *   <li>A hard link must point (relative to the root) at a regular file extracted earlier.
 *   <li>Devices, FIFOs and other special entries are skipped with a debug log. Sparse entries
 *       are refused ({@link UnsupportedEntryException}).
 *   <li>What the layer expands to is counted against its {@link ExpansionBudget}; an entry whose
 *       header declares more than is left fails before its first byte is written. Bytes that
 *       are not the archive they claim to be fail as {@link MalformedLayerException} (see
 *       {@link TarEntryReader}); write failures (a full disk) keep their own exception.
 * </ul>
 *
 * <p>The caller has already verified the blob digest. Trailing bytes after the end-of-archive
 * marker are therefore not read. A failure stops at the entry that caused it, which is never
 * placed under its name; what earlier entries placed, and a temporary file, stay for the caller
 * to delete with the root.
 */
final class TarEntryPlacer {
  private static final Logger log = LoggerFactory.getLogger(TarEntryPlacer.class);
  private static final int BUFFER_SIZE = 64 * 1024;
  private static final Set<PosixFilePermission> DEFAULT_DIR_PERMISSIONS = SafePath.DIR_PERMISSIONS;
  private static final Set<PosixFilePermission> DEFAULT_FILE_PERMISSIONS =
      PosixFilePermissions.fromString("rw-r--r--");

  private final Path root;
  private final String digest;
  private final ExpansionBudget budget;
  /** Directories created by this placer: only they get their entry's mode and mtime. */
  private final Set<Path> createdDirs = new HashSet<>();
  /** Header mode and mtime of directories, applied at the end. */
  private final Map<Path, DirMeta> deferredDirs = new LinkedHashMap<>();
  /** Regular files placed, hard links included. */
  private long files;

  TarEntryPlacer(Path root, String digest, ExpansionBudget budget) {
    this.root = root.toAbsolutePath().normalize();
    this.digest = digest;
    this.budget = budget;
  }

  /**
   * Places every entry of {@code blobFile}, then gives the directories their header metadata.
   * A failure leaves what was placed so far: deleting it is the caller's.
   *
   * @return the number of regular files placed, hard links included
   */
  long placeAll(Path blobFile, LayerFormat format) throws IOException {
    if (format == null || !format.isArchive()) {
      throw new IllegalArgumentException("layer " + digest + " is not an archive layer: " + format);
    }
    try (TarEntryReader tar = TarEntryReader.open(blobFile, format, digest, budget)) {
      TarArchiveEntry entry;
      while ((entry = tar.next()) != null) {
        place(entry, tar.data());
      }
      applyDirectoryMetadata();
    }
    return files;
  }

  private void place(TarArchiveEntry entry, InputStream data) throws IOException {
    String name = entry.getName();
    if (entry.isDirectory()) {
      String rel = stripTrailingSlashes(stripDotSlash(name));
      if (rel.isEmpty() || rel.equals(".")) {
        return; // the archive's own root ("./"); the model root is not ours to change
      }
      Path dir = SafePath.resolve(root, rel, digest);
      mkdirs(dir);
      if (createdDirs.contains(dir)) {
        deferredDirs.put(dir, new DirMeta(entry.getMode() & 0777, entry.getLastModifiedTime()));
      }
      return;
    }
    if (entry.isSparse()) {
      throw new UnsupportedEntryException(digest, name, "is a sparse file, which is not supported");
    }
    String rel = stripDotSlash(name);
    Path target = SafePath.resolve(root, rel, digest);
    rel = root.relativize(target).toString();
    if (entry.isSymbolicLink()) {
      symlink(entry, name, target, rel);
    } else if (entry.isLink()) {
      hardLink(entry, name, target, rel);
    } else if (isRegular(entry)) {
      regular(entry, data, target, rel);
    } else {
      log.debug("layer {}: skipping tar entry '{}' of type '{}'", digest, Excerpt.of(name),
          (char) entry.getLinkFlag());
    }
  }

  private static boolean isRegular(TarArchiveEntry e) {
    byte f = e.getLinkFlag();
    return f == TarConstants.LF_NORMAL || f == TarConstants.LF_OLDNORM || f == TarConstants.LF_CONTIG;
  }

  private void regular(TarArchiveEntry entry, InputStream data, Path target, String rel) throws IOException {
    budget.beforeEntry(rel, entry.getSize());
    Path parent = target.getParent();
    mkdirs(parent);
    // Left behind if the layer fails while it is written: the caller deletes the whole root.
    Path temp = Files.createTempFile(parent, ".modelpack-", ".part");
    try (OutputStream out = Files.newOutputStream(temp)) {
      byte[] buf = new byte[BUFFER_SIZE];
      int n;
      while ((n = data.read(buf)) != -1) {
        budget.written(n);
        out.write(buf, 0, n);
      }
    }
    int mode = entry.getMode() & 0777;
    Files.setPosixFilePermissions(temp,
        mode == 0 ? DEFAULT_FILE_PERMISSIONS : FileMetadata.toPermissions(mode));
    FileTime mtime = entry.getLastModifiedTime();
    if (mtime != null) {
      Files.setLastModifiedTime(temp, mtime);
    }
    try {
      NoClobber.publish(temp, target, rel, digest);
    } catch (ConflictingPathException e) {
      throw conflict(rel);
    }
    files++;
  }

  private void symlink(TarArchiveEntry entry, String name, Path target, String rel) throws IOException {
    String link = entry.getLinkName();
    String problem = SymlinkTargets.problem(root, link, target);
    if (problem != null) {
      throw new UnsafePathException(name, digest, "symlink to '" + UnsafePathException.printable(link) + "' " + problem);
    }
    mkdirs(target.getParent());
    try {
      Files.createSymbolicLink(target, Path.of(link));
    } catch (FileAlreadyExistsException e) {
      throw conflict(rel);
    }
  }

  private void hardLink(TarArchiveEntry entry, String name, Path target, String rel) throws IOException {
    String linkName = stripDotSlash(entry.getLinkName() == null ? "" : entry.getLinkName());
    Path source;
    try {
      source = SafePath.resolve(root, linkName, digest);
    } catch (UnsafePathException e) {
      throw new UnsafePathException(name, digest,
          "hard link target '" + UnsafePathException.printable(linkName) + "' is unsafe", e);
    }
    // Any regular file in the private root is one this layer placed earlier.
    if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
      throw new UnsafePathException(name, digest, "hard link target '" + UnsafePathException.printable(linkName)
          + "' is not a regular file extracted earlier from this layer");
    }
    mkdirs(target.getParent());
    try {
      Files.createLink(target, source);
    } catch (FileAlreadyExistsException e) {
      throw conflict(rel);
    }
    files++;
  }

  /** Whatever is in the private root came from this layer: it names a path twice. */
  private ConflictingPathException conflict(String rel) {
    return new ConflictingPathException(rel, digest, digest);
  }

  private void mkdirs(Path dir) throws IOException {
    if (createdDirs.contains(dir)) {
      return; // made earlier by this placer, in a root nobody else writes to
    }
    createdDirs.addAll(SafePath.createDirectories(root, dir, digest));
  }

  private void applyDirectoryMetadata() throws IOException {
    List<Path> dirs = new ArrayList<>(deferredDirs.keySet());
    // Deepest first, so tightening a parent never gets in the way of a child.
    dirs.sort((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()));
    for (Path dir : dirs) {
      DirMeta e = deferredDirs.get(dir);
      Files.setPosixFilePermissions(dir, e.mode() == 0 ? DEFAULT_DIR_PERMISSIONS
          : FileMetadata.toPermissions(e.mode()));
      if (e.mtime() != null) {
        Files.setLastModifiedTime(dir, e.mtime());
      }
    }
  }

  /** What a directory entry's header asks for, kept until the end of the extraction. */
  private record DirMeta(int mode, FileTime mtime) {}

  private static String stripDotSlash(String name) {
    String n = name;
    while (n.startsWith("./")) {
      n = n.substring(2);
    }
    return n;
  }

  private static String stripTrailingSlashes(String name) {
    String n = name;
    while (n.endsWith("/")) {
      n = n.substring(0, n.length() - 1);
    }
    return n;
  }
}

package org.modelpack.csi.unpack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
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
 * Extracts a verified tar / tar+gzip / tar+zstd model layer into a model directory, treating
 * every entry as untrusted (docs/decisions/0203).
 *
 * <ul>
 *   <li>Entry names go through {@link SafePath} after a leading {@code ./} is stripped (and, for
 *       directories, trailing slashes). Parent directories are created without following symlinks.
 *   <li>Regular files are streamed into a temporary file in the target directory, given their
 *       header mode and mtime, then linked into place without replacing anything. An existing
 *       path is a {@link ConflictingPathException}.
 *   <li>Directories created by this call get their header mode and mtime after all entries, so a
 *       read-only directory entry cannot block its children. Existing directories are left alone.
 *   <li>A symlink is allowed only if its target is relative and, taken from the link's
 *       directory, stays inside the model root. {@code ..} may only appear as leading segments,
 *       which keeps this lexical check sound when links are chained.
 *   <li>A hard link must point (relative to the model root) at a regular file this call has
 *       already extracted.
 *   <li>Devices, FIFOs and other special entries are skipped with a debug log. Sparse entries
 *       are refused ({@link UnsupportedEntryException}).
 *   <li>What the layer expands to is counted against its {@link ExpansionBudget}; an entry whose
 *       header declares more than is left fails before its first byte is written. Bytes that
 *       are not the archive they claim to be fail as {@link MalformedLayerException} (see
 *       {@link TarEntryReader}); write failures (a full disk) keep their own exception.
 *   <li>On any failure everything this call created is removed again (directories only if they
 *       are empty, because concurrent layers may share them), then the error is thrown.
 * </ul>
 *
 * <p>The caller has already verified the blob digest. Trailing bytes after the end-of-archive
 * marker are therefore not read.
 */
public final class TarLayerExtractor {
  private static final Logger log = LoggerFactory.getLogger(TarLayerExtractor.class);
  private static final int BUFFER_SIZE = 64 * 1024;
  private static final Set<PosixFilePermission> DEFAULT_DIR_PERMISSIONS = SafePath.DIR_PERMISSIONS;
  private static final Set<PosixFilePermission> DEFAULT_FILE_PERMISSIONS =
      PosixFilePermissions.fromString("rw-r--r--");

  private TarLayerExtractor() {}

  /**
   * @param blobFile the verified layer blob
   * @param format TAR, TAR_GZIP or TAR_ZSTD
   * @param modelRoot the model directory (must exist)
   * @param layerDigest used in error messages
   * @param budget how far the layer may expand (docs/decisions/0820)
   * @return the regular files created, including hard links, as {@code /}-separated paths
   *     relative to the model root, in archive order
   * @throws MalformedLayerException the blob is not a valid archive of {@code format}
   * @throws ExpansionLimitException the layer expands beyond {@code budget}
   * @throws UnsafePathException an entry name or link would leave or write through unsafe ground
   */
  public static List<String> extract(Path blobFile, LayerFormat format, Path modelRoot,
      String layerDigest, ExpansionBudget budget) throws IOException {
    Run run = run(blobFile, format, modelRoot, layerDigest, budget, true);
    return Collections.unmodifiableList(run.files);
  }

  /**
   * Extracts into {@code freshRoot}, an empty directory nobody else writes to (the store's
   * private extraction directory), keeping nothing per file in memory: whatever the file count,
   * memory stays bounded by the directories' metadata. A failure leaves what was extracted so
   * far: the caller deletes {@code freshRoot}. Hard links are checked against the regular files
   * already in {@code freshRoot}, which can only be this layer's.
   *
   * @return the number of regular files created, including hard links
   */
  public static long extractIntoFreshDirectory(Path blobFile, LayerFormat format, Path freshRoot,
      String layerDigest, ExpansionBudget budget) throws IOException {
    return run(blobFile, format, freshRoot, layerDigest, budget, false).fileCount;
  }

  private static Run run(Path blobFile, LayerFormat format, Path modelRoot, String layerDigest,
      ExpansionBudget budget, boolean tracked) throws IOException {
    if (format == null || !format.isArchive()) {
      throw new IllegalArgumentException("layer " + layerDigest + " is not an archive layer: " + format);
    }
    Run run = new Run(modelRoot.toAbsolutePath().normalize(), layerDigest, budget, tracked);
    try (TarEntryReader tar = TarEntryReader.open(blobFile, format, layerDigest, budget)) {
      TarArchiveEntry entry;
      while ((entry = tar.next()) != null) {
        run.handle(entry, tar.data());
      }
      run.applyDirectoryMetadata();
    } catch (IOException | RuntimeException | Error e) {
      if (tracked) {
        run.rollback(e);
      }
      throw e;
    }
    return run;
  }

  /** As above without any expansion bound, for tests of everything else. */
  static List<String> extract(Path blobFile, LayerFormat format, Path modelRoot,
      String layerDigest) throws IOException {
    return extract(blobFile, format, modelRoot, layerDigest,
        ExpansionBudget.unlimited(layerDigest));
  }

  /**
   * State of one extraction. Tracked, it remembers every path it creates, so it can be rolled
   * back and tell its own paths from others'; untracked (a fresh root), only its directories.
   */
  private static final class Run {
    private final Path root;
    private final String digest;
    private final ExpansionBudget budget;
    private final boolean tracked;
    /** Relative paths of regular files (and hard links) created, for the caller; if tracked. */
    final List<String> files = new ArrayList<>();
    long fileCount;
    /** Every non-directory path created (files, links), in creation order. */
    private final List<Path> createdEntries = new ArrayList<>();
    private final Set<Path> createdEntrySet = new HashSet<>();
    /** Regular files created by this run (valid hard-link targets). */
    private final Set<Path> regularFiles = new HashSet<>();
    /** Directories created by this run, parents before children. */
    private final List<Path> createdDirs = new ArrayList<>();
    private final Set<Path> createdDirSet = new HashSet<>();
    /** Header mode and mtime of directories, applied at the end. */
    private final Map<Path, DirMeta> deferredDirs = new LinkedHashMap<>();
    /** Temporary file currently being written, if any. */
    private Path pendingTemp;

    Run(Path root, String digest, ExpansionBudget budget, boolean tracked) {
      this.root = root;
      this.digest = digest;
      this.budget = budget;
      this.tracked = tracked;
    }

    void handle(TarArchiveEntry entry, InputStream data) throws IOException {
      String name = entry.getName();
      if (entry.isDirectory()) {
        String rel = stripTrailingSlashes(stripDotSlash(name));
        if (rel.isEmpty() || rel.equals(".")) {
          return; // the archive's own root ("./"); the model root is not ours to change
        }
        Path dir = SafePath.resolve(root, rel, digest);
        mkdirs(dir);
        if (createdDirSet.contains(dir)) {
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
      pendingTemp = Files.createTempFile(parent, ".modelpack-", ".part");
      try (OutputStream out = Files.newOutputStream(pendingTemp)) {
        byte[] buf = new byte[BUFFER_SIZE];
        int n;
        while ((n = data.read(buf)) != -1) {
          budget.written(n);
          out.write(buf, 0, n);
        }
      }
      int mode = entry.getMode() & 0777;
      Files.setPosixFilePermissions(pendingTemp,
          mode == 0 ? DEFAULT_FILE_PERMISSIONS : FileMetadata.toPermissions(mode));
      FileTime mtime = entry.getLastModifiedTime();
      if (mtime != null) {
        Files.setLastModifiedTime(pendingTemp, mtime);
      }
      publish(pendingTemp, target, rel);
      pendingTemp = null;
      recordCreated(target);
      if (tracked) {
        regularFiles.add(target);
      }
      fileCreated(rel);
    }

    private void fileCreated(String rel) {
      fileCount++;
      if (tracked) {
        files.add(rel);
      }
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
        throw conflict(target, rel);
      }
      recordCreated(target);
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
      if ((tracked && !regularFiles.contains(source))
          || !Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
        throw new UnsafePathException(name, digest, "hard link target '" + UnsafePathException.printable(linkName)
            + "' is not a regular file extracted earlier from this layer");
      }
      mkdirs(target.getParent());
      try {
        Files.createLink(target, source);
      } catch (FileAlreadyExistsException e) {
        throw conflict(target, rel);
      }
      recordCreated(target);
      fileCreated(rel);
    }

    private void publish(Path temp, Path target, String rel) throws IOException {
      try {
        NoClobber.publish(temp, target, rel, digest);
      } catch (ConflictingPathException e) {
        throw conflict(target, rel);
      }
    }

    private ConflictingPathException conflict(Path target, String rel) {
      boolean ours = !tracked || createdEntrySet.contains(target)
          || createdDirSet.contains(target);
      return new ConflictingPathException(rel, ours ? digest : null, digest);
    }

    private void mkdirs(Path dir) throws IOException {
      if (!tracked && createdDirSet.contains(dir)) {
        return; // made earlier by this run, in a root nobody else writes to
      }
      for (Path p : SafePath.createDirectories(root, dir, digest)) {
        createdDirs.add(p);
        createdDirSet.add(p);
      }
    }

    private void recordCreated(Path p) {
      if (tracked) {
        createdEntries.add(p);
        createdEntrySet.add(p);
      }
    }

    void applyDirectoryMetadata() throws IOException {
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

    /** Removes everything this run created; problems are attached to {@code cause}. */
    void rollback(Throwable cause) {
      List<Path> toDelete = new ArrayList<>();
      if (pendingTemp != null) {
        toDelete.add(pendingTemp);
      }
      List<Path> entries = new ArrayList<>(createdEntries);
      Collections.reverse(entries);
      toDelete.addAll(entries);
      for (Path p : toDelete) {
        try {
          Files.deleteIfExists(p); // does not follow symlinks
        } catch (IOException e) {
          cause.addSuppressed(e);
        }
      }
      List<Path> dirs = new ArrayList<>(createdDirs);
      Collections.reverse(dirs); // children before parents
      for (Path d : dirs) {
        try {
          Files.setPosixFilePermissions(d, DEFAULT_DIR_PERMISSIONS);
          Files.deleteIfExists(d);
        } catch (DirectoryNotEmptyException e) {
          log.debug("layer {}: keeping directory {} during rollback, another writer uses it", digest, d);
        } catch (IOException e) {
          cause.addSuppressed(e);
        }
      }
      if (!toDelete.isEmpty() || !dirs.isEmpty()) {
        log.debug("layer {}: rolled back {} entries and {} directories", digest, toDelete.size(), dirs.size());
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

package org.modelpack.csi.unpack;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.modelpack.csi.modelpack.LayerFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracts a verified tar layer into a model directory that other layers may be extracted into
 * at the same time, by the entry policy of {@link TarEntryPlacer} (docs/decisions/0203).
 * Because the directory is shared, it remembers every path it creates: a hard link must name a
 * regular file this call extracted, a collision tells whose path was there first, and on any
 * failure everything this call created is removed again (directories only if they are empty,
 * because concurrent layers may share them), then the error is thrown.
 */
public final class TarLayerExtractor {
  private static final Logger log = LoggerFactory.getLogger(TarLayerExtractor.class);

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
    Ledger ledger = new Ledger(layerDigest);
    TarEntryPlacer placer = new TarEntryPlacer(modelRoot, layerDigest, budget, ledger);
    try {
      placer.placeAll(blobFile, format);
    } catch (IOException | RuntimeException | Error e) {
      ledger.rollback(placer.unfinishedFile(), e);
      throw e;
    }
    return Collections.unmodifiableList(ledger.files);
  }

  /** As above without any expansion bound, for tests of everything else. */
  static List<String> extract(Path blobFile, LayerFormat format, Path modelRoot,
      String layerDigest) throws IOException {
    return extract(blobFile, format, modelRoot, layerDigest,
        ExpansionBudget.unlimited(layerDigest));
  }

  /** Every path one extraction created, so it can be rolled back and tell its own from others'. */
  private static final class Ledger implements ExtractionLedger {
    private final String digest;
    /** Relative paths of regular files (and hard links) created, for the caller. */
    final List<String> files = new ArrayList<>();
    /** Every non-directory path created (files, links), in creation order. */
    private final List<Path> createdEntries = new ArrayList<>();
    private final Set<Path> createdEntrySet = new HashSet<>();
    /** Regular files created (valid hard-link targets). */
    private final Set<Path> regularFiles = new HashSet<>();
    /** Directories created, parents before children. */
    private final List<Path> createdDirs = new ArrayList<>();

    Ledger(String digest) {
      this.digest = digest;
    }

    @Override
    public boolean rootIsPrivate() {
      return false;
    }

    @Override
    public void directoryMade(Path dir) {
      createdDirs.add(dir);
    }

    @Override
    public void entryMade(Path path, String rel, Made made) {
      createdEntries.add(path);
      createdEntrySet.add(path);
      if (made == Made.FILE) {
        regularFiles.add(path);
      }
      if (made != Made.SYMLINK) {
        files.add(rel);
      }
    }

    @Override
    public boolean mayLinkTo(Path source) {
      return regularFiles.contains(source);
    }

    @Override
    public boolean madeHere(Path path) {
      return createdEntrySet.contains(path);
    }

    /**
     * Removes everything this extraction created, and {@code unfinished} (a temporary file, or
     * null); problems are attached to {@code cause}.
     */
    void rollback(Path unfinished, Throwable cause) {
      List<Path> toDelete = new ArrayList<>();
      if (unfinished != null) {
        toDelete.add(unfinished);
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
          Files.setPosixFilePermissions(d, TarEntryPlacer.DEFAULT_DIR_PERMISSIONS);
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
}

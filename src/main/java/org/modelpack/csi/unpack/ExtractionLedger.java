package org.modelpack.csi.unpack;

import java.nio.file.Path;

/**
 * What one extraction remembers of the paths it creates: the only thing that differs between
 * extracting into a directory others write to as well ({@link TarLayerExtractor}: every path,
 * to roll back and to tell its own paths from others') and into a fresh directory of its own
 * ({@link FreshTreeExtractor}: nothing per file).
 */
interface ExtractionLedger {
  /** What a non-directory entry became. */
  enum Made { FILE, HARD_LINK, SYMLINK }

  /**
   * Nobody else writes under the root, so a directory this extraction made is still the one it
   * made and need not be checked again.
   */
  boolean rootIsPrivate();

  /** A directory this extraction created, parents before children. */
  void directoryMade(Path dir);

  /** An entry this extraction created at {@code path}, {@code rel} from the root. */
  void entryMade(Path path, String rel, Made made);

  /** Whether a hard link may name {@code source}, a regular file under the root. */
  boolean mayLinkTo(Path source);

  /**
   * Whether the non-directory at {@code path}, where an entry collides, is this extraction's
   * own (the layer names a path twice) rather than another writer's.
   */
  boolean madeHere(Path path);
}

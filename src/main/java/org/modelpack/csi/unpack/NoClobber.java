package org.modelpack.csi.unpack;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a finished file into place without ever replacing an existing path (docs/decisions/0204).
 *
 * <p>First choice is a hard link, {@code link(2)}: it fails atomically with EEXIST if anything
 * (file, directory, symlink, even a dangling one) is at the target. After that the source name is
 * removed. If the filesystem cannot hard-link, a plain {@link Files#move} without
 * REPLACE_EXISTING is used. That path checks for an existing target before renaming, so it is
 * not atomic, but it never deliberately overwrites anything.
 */
final class NoClobber {
  private static final Logger log = LoggerFactory.getLogger(NoClobber.class);

  private NoClobber() {}

  /**
   * Publishes {@code source} at {@code target}. On success {@code source} no longer exists. On
   * failure {@code source} is left for the caller to clean up.
   *
   * @throws ConflictingPathException if {@code target} already exists
   */
  static void publish(Path source, Path target, String relativePath, String layerDigest) throws IOException {
    boolean linked;
    try {
      Files.createLink(target, source);
      linked = true;
    } catch (FileAlreadyExistsException e) {
      throw new ConflictingPathException(relativePath, null, layerDigest);
    } catch (UnsupportedOperationException | FileSystemException e) {
      log.debug("hard link {} -> {} not possible ({}); falling back to no-replace move", target, source, e.toString());
      linked = false;
    }
    if (linked) {
      try {
        Files.delete(source);
      } catch (IOException e) {
        // The file is in place; a stray second name for it is only garbage.
        log.warn("placed {} but could not remove temporary name {}: {}", target, source, e.toString());
      }
      return;
    }
    try {
      Files.move(source, target);
    } catch (FileAlreadyExistsException e) {
      throw new ConflictingPathException(relativePath, null, layerDigest);
    }
  }
}

package org.modelpack.csi.materialize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.modelpack.csi.modelpack.FileMetadata;

/**
 * Places a verified raw-layer blob at its annotated path inside a model directory.
 *
 * <p>The blob is not copied. It gets its final mode and mtime and then takes the target name,
 * by hard link or, failing that, a no-replace move. An existing target is never replaced, so
 * two layers claiming one path fail with {@link ConflictingPathException} and the first file
 * stays untouched.
 */
public final class RawLayerPlacer {
  /** Mode used when the metadata is missing or has mode 0. */
  public static final Set<PosixFilePermission> DEFAULT_FILE_PERMISSIONS =
      PosixFilePermissions.fromString("rw-r--r--");

  private RawLayerPlacer() {}

  /**
   * @param verifiedBlob the downloaded blob, already checked against its digest; must be on the
   *     same filesystem as {@code modelRoot}; consumed on success
   * @param modelRoot the model directory (must exist)
   * @param relativePath the layer's file path annotation (untrusted)
   * @param metaOrNull file metadata from the layer annotations; only mode (if non-zero) and mtime
   *     are applied, never owner
   * @param layerDigest used in error messages
   * @return the absolute path of the placed file
   * @throws UnsafePathException if the path is unsafe or a directory on the way is a symlink
   * @throws ConflictingPathException if something already exists at the target
   */
  public static Path place(Path verifiedBlob, Path modelRoot, String relativePath,
      FileMetadata metaOrNull, String layerDigest) throws IOException {
    Path target = SafePath.resolve(modelRoot, relativePath, layerDigest);
    if (!Files.isRegularFile(verifiedBlob, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("blob " + verifiedBlob + " of layer " + layerDigest + " is not a regular file");
    }
    SafePath.createDirectories(modelRoot, target.getParent(), layerDigest);

    Set<PosixFilePermission> perms = metaOrNull != null && metaOrNull.hasMode()
        ? metaOrNull.permissions()
        : DEFAULT_FILE_PERMISSIONS;
    Files.setPosixFilePermissions(verifiedBlob, perms);
    if (metaOrNull != null && metaOrNull.mtime() != null) {
      Files.setLastModifiedTime(verifiedBlob, FileTime.from(metaOrNull.mtime()));
    }
    String rel = modelRoot.toAbsolutePath().normalize().relativize(target).toString();
    NoClobber.publish(verifiedBlob, target, rel, layerDigest);
    return target;
  }
}

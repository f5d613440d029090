package org.modelpack.csi.unpack;

import java.nio.file.FileAlreadyExistsException;
import org.modelpack.csi.error.Excerpt;

/**
 * Two layers (or two entries of one layer) want to create the same path. Nothing is ever
 * replaced; the second writer gets this exception.
 */
public class ConflictingPathException extends FileAlreadyExistsException {
  private static final long serialVersionUID = 1L;

  private final String relativePath;
  private final String layerDigest;
  private final String otherLayerDigest;

  /**
   * @param relativePath the contested path relative to the model root
   * @param otherLayerDigest the layer that already provided it, or null if unknown
   * @param layerDigest the layer that tried to provide it again
   */
  public ConflictingPathException(String relativePath, String otherLayerDigest, String layerDigest) {
    super(relativePath, null, message(relativePath, otherLayerDigest, layerDigest));
    this.relativePath = relativePath;
    this.layerDigest = layerDigest;
    this.otherLayerDigest = otherLayerDigest;
  }

  private static String message(String relativePath, String other, String layer) {
    String path = Excerpt.of(relativePath);
    String first = other == null ? "an earlier layer" : other;
    if (other != null && other.equals(layer)) {
      return "path " + path + " is provided twice by layer " + layer;
    }
    return "path " + path + " is provided by two layers (" + first + " and " + layer + ")";
  }

  @Override
  public String getMessage() {
    return getReason();
  }

  public String relativePath() {
    return relativePath;
  }

  public String layerDigest() {
    return layerDigest;
  }

  /** The layer that provided the path first, or null if this layer could not know it. */
  public String otherLayerDigest() {
    return otherLayerDigest;
  }

  /** A copy naming the first provider, for callers that track which layer wrote what. */
  public ConflictingPathException withOtherLayer(String digest) {
    ConflictingPathException e = new ConflictingPathException(relativePath, digest, layerDigest);
    e.initCause(this);
    return e;
  }
}

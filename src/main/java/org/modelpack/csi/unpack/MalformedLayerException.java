package org.modelpack.csi.unpack;

import java.io.IOException;
import org.modelpack.csi.error.Excerpt;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * A verified layer blob that cannot be decoded as the archive its media type announces (not
 * gzip, a truncated zstd frame, a corrupt tar header, tar metadata out of all proportion): the
 * artifact's fault, not the node's. Local read and write errors are never reported this way.
 */
public class MalformedLayerException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String layerDigest;

  public MalformedLayerException(String layerDigest, LayerFormat format, String problem,
      Throwable cause) {
    super("layer " + layerDigest + " is not a valid " + format.variant() + " archive: "
        + Excerpt.of(problem, 300), cause);
    this.layerDigest = layerDigest;
  }

  public MalformedLayerException(String layerDigest, LayerFormat format, String problem) {
    this(layerDigest, format, problem, null);
  }

  public String layerDigest() {
    return layerDigest;
  }
}

package org.modelpack.csi.unpack;

import java.io.IOException;
import org.modelpack.csi.error.Excerpt;

/**
 * A well-formed tar entry of a kind this driver will not extract (sparse files), so the layer
 * is refused rather than written wrongly (docs/decisions/0203).
 */
public class UnsupportedEntryException extends IOException {
  private static final long serialVersionUID = 1L;

  public UnsupportedEntryException(String layerDigest, String entryName, String problem) {
    super("layer " + layerDigest + ": tar entry '" + Excerpt.of(entryName) + "' " + problem);
  }
}

package org.modelpack.csi.modelpack;

import org.modelpack.csi.error.Excerpt;

/** A layer in a model manifest has a media type this driver cannot turn into files. */
public class UnsupportedLayerException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String digest;
  private final String mediaType;

  public UnsupportedLayerException(String digest, String mediaType, String reason) {
    super("layer " + Excerpt.of(digest, 100) + " has unsupported media type '"
        + Excerpt.of(mediaType, 100) + "': " + reason);
    this.digest = digest;
    this.mediaType = mediaType;
  }

  public String digest() {
    return digest;
  }

  public String mediaType() {
    return mediaType;
  }
}

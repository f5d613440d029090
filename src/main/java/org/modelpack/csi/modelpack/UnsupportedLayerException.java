package org.modelpack.csi.modelpack;

/** A layer in a model manifest has a media type this driver cannot turn into files. */
public class UnsupportedLayerException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String digest;
  private final String mediaType;

  public UnsupportedLayerException(String digest, String mediaType, String reason) {
    super("layer " + digest + " has unsupported media type '" + mediaType + "': " + reason);
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

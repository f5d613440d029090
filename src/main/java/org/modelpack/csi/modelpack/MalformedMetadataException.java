package org.modelpack.csi.modelpack;

/** A layer's file-metadata annotation could not be understood. */
public class MalformedMetadataException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public MalformedMetadataException(String message, Throwable cause) {
    super(message, cause);
  }

  public MalformedMetadataException(String message) {
    super(message);
  }
}

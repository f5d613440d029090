package org.modelpack.csi.modelpack;

/**
 * How a model layer's bytes map to files. The format comes only from the media-type suffix
 * ({@code .raw}, {@code .tar}, {@code .tar+gzip}, {@code .tar+zstd}); the kind segment
 * (weight, doc, ...) has no effect on it.
 */
public enum LayerFormat {
  /** The blob is the file itself, byte for byte. */
  RAW(".raw"),
  /** An uncompressed tar archive. */
  TAR(".tar"),
  /** A gzip-compressed tar archive. */
  TAR_GZIP(".tar+gzip"),
  /** A zstd-compressed tar archive. */
  TAR_ZSTD(".tar+zstd");

  private final String suffix;

  LayerFormat(String suffix) {
    this.suffix = suffix;
  }

  /** The suffix without the dot, as used in a layer media type: {@code raw}, {@code tar+zstd}. */
  public String variant() {
    return suffix.substring(1);
  }

  /** True for the three archive formats. */
  public boolean isArchive() {
    return this != RAW;
  }
}

package org.modelpack.csi.modelpack;

import java.util.Locale;
import java.util.Optional;

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

  /** The media-type suffix including the leading dot, e.g. {@code .tar+gzip}. */
  public String suffix() {
    return suffix;
  }

  /** The suffix without the dot, as used in a layer media type: {@code raw}, {@code tar+zstd}. */
  public String variant() {
    return suffix.substring(1);
  }

  /** True for the three archive formats. */
  public boolean isArchive() {
    return this != RAW;
  }

  /**
   * The format named by the suffix of {@code mediaType}, or empty if none matches. Only the
   * suffix is checked; use {@link ModelMediaTypes#formatOf} to also require a model layer type.
   */
  public static Optional<LayerFormat> fromSuffix(String mediaType) {
    if (mediaType == null) {
      return Optional.empty();
    }
    String mt = mediaType.trim().toLowerCase(Locale.ROOT);
    // The suffixes do not overlap, so the order does not matter.
    for (LayerFormat f : new LayerFormat[] {TAR_GZIP, TAR_ZSTD, TAR, RAW}) {
      if (mt.endsWith(f.suffix)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}

package org.modelpack.csi.modelpack;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;

/**
 * ModelPack media types of both identifier families: the current {@code application/vnd.cncf.model.*}
 * and the legacy {@code application/vnd.cnai.model.*} (CloudNativeAI / dragonfly spec, still
 * written by some modctl releases). Readers accept both.
 */
public final class ModelMediaTypes {
  private ModelMediaTypes() {}

  /** The two identifier families. */
  public enum Family {
    CNCF("application/vnd.cncf.model."),
    CNAI("application/vnd.cnai.model.");

    private final String prefix;

    Family(String prefix) {
      this.prefix = prefix;
    }

    /** e.g. {@code application/vnd.cncf.model.} */
    public String prefix() {
      return prefix;
    }
  }

  /** What a layer holds. Informational only; it never changes how bytes become files. */
  public enum Kind {
    WEIGHT("weight"),
    WEIGHT_CONFIG("weight.config"),
    DOC("doc"),
    CODE("code"),
    DATASET("dataset"),
    /** Pre-release draft kind {@code application/vnd.cnai.model.layer.v1.*}; recognised only. */
    LAYER("layer");

    private final String segment;

    Kind(String segment) {
      this.segment = segment;
    }

    /** The media-type segment, e.g. {@code weight.config}. */
    public String segment() {
      return segment;
    }

    static Optional<Kind> fromSegment(String s) {
      for (Kind k : values()) {
        if (k.segment.equals(s)) {
          return Optional.of(k);
        }
      }
      return Optional.empty();
    }
  }

  public static final String MANIFEST_V1 = "application/vnd.cncf.model.manifest.v1+json";
  public static final String CONFIG_V1 = "application/vnd.cncf.model.config.v1+json";
  public static final String LEGACY_MANIFEST_V1 = "application/vnd.cnai.model.manifest.v1+json";
  public static final String LEGACY_CONFIG_V1 = "application/vnd.cnai.model.config.v1+json";

  /** Artifact types that mark a manifest as a model (both families). */
  public static final Set<String> MANIFEST_TYPES = Set.of(MANIFEST_V1, LEGACY_MANIFEST_V1);
  /** Config media types that mark a manifest as a model (both families). */
  public static final Set<String> CONFIG_TYPES = Set.of(CONFIG_V1, LEGACY_CONFIG_V1);

  private static final String VERSION_SEGMENT = ".v1.";

  /** The kind/format of a recognised model layer media type. */
  public record LayerType(Family family, Kind kind, LayerFormat format) {
    public String mediaType() {
      return layerMediaType(family, kind, format);
    }
  }

  /** Builds e.g. {@code application/vnd.cncf.model.weight.v1.tar+zstd}. */
  public static String layerMediaType(Family family, Kind kind, LayerFormat format) {
    return family.prefix() + kind.segment() + VERSION_SEGMENT + format.variant();
  }

  /**
   * True if the manifest's {@code artifactType} or its config media type is a model type of
   * either family.
   */
  public static boolean isModelManifest(Manifest manifest) {
    if (manifest == null) {
      return false;
    }
    if (manifest.artifactType() != null && MANIFEST_TYPES.contains(normalise(manifest.artifactType()))) {
      return true;
    }
    return manifest.config() != null
        && manifest.config().mediaType() != null
        && CONFIG_TYPES.contains(normalise(manifest.config().mediaType()));
  }

  /** Parses a layer media type; empty for anything that is not a model layer type. */
  public static Optional<LayerType> parseLayerType(String mediaType) {
    if (mediaType == null) {
      return Optional.empty();
    }
    String mt = normalise(mediaType);
    for (Family family : Family.values()) {
      if (!mt.startsWith(family.prefix())) {
        continue;
      }
      String rest = mt.substring(family.prefix().length());
      int v = rest.lastIndexOf(VERSION_SEGMENT);
      if (v <= 0) {
        return Optional.empty();
      }
      String kindSegment = rest.substring(0, v);
      String variant = rest.substring(v + VERSION_SEGMENT.length());
      Optional<Kind> kind = Kind.fromSegment(kindSegment);
      // The draft "layer" kind only existed in the cnai family.
      if (kind.isEmpty() || (kind.get() == Kind.LAYER && family != Family.CNAI)) {
        return Optional.empty();
      }
      for (LayerFormat f : LayerFormat.values()) {
        if (f.variant().equals(variant)) {
          return Optional.of(new LayerType(family, kind.get(), f));
        }
      }
      return Optional.empty();
    }
    return Optional.empty();
  }

  /** The layer's kind, if it is a model layer. */
  public static Optional<Kind> kindOf(Descriptor layer) {
    return layer == null ? Optional.empty() : parseLayerType(layer.mediaType()).map(LayerType::kind);
  }

  /**
   * The file format of a model layer.
   *
   * @throws UnsupportedLayerException naming the digest and media type when the layer is not a
   *     model layer type of either family, or its variant is unknown
   */
  public static LayerFormat formatOf(Descriptor layer) {
    if (layer == null) {
      throw new IllegalArgumentException("layer descriptor is missing");
    }
    String mt = layer.mediaType();
    if (mt == null || mt.isBlank()) {
      throw new UnsupportedLayerException(layer.digest(), String.valueOf(mt), "media type is missing");
    }
    return parseLayerType(mt)
        .map(LayerType::format)
        .orElseThrow(() -> new UnsupportedLayerException(layer.digest(), mt,
            "expected application/vnd.{cncf,cnai}.model.<kind>.v1.{raw,tar,tar+gzip,tar+zstd}"));
  }

  private static String normalise(String mediaType) {
    // Media types are case-insensitive; parameters (";...") are not used by ModelPack.
    String mt = mediaType.trim().toLowerCase(Locale.ROOT);
    int semi = mt.indexOf(';');
    return semi >= 0 ? mt.substring(0, semi).trim() : mt;
  }
}

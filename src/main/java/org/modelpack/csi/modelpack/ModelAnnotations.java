package org.modelpack.csi.modelpack;

import java.util.List;
import java.util.Optional;
import org.modelpack.csi.oci.Descriptor;

/**
 * Layer annotations defined by ModelPack, with the fallbacks readers need for older artifacts.
 *
 * <p>Malformed metadata fails loudly: {@link #fileMetadata} throws rather than silently
 * dropping modes and times (docs/decisions/0202).
 */
public final class ModelAnnotations {
  private ModelAnnotations() {}

  public static final String FILEPATH = "org.cncf.model.filepath";
  public static final String LEGACY_FILEPATH = "org.cnai.model.filepath";
  public static final String FILE_METADATA = "org.cncf.model.file.metadata+json";
  public static final String LEGACY_FILE_METADATA = "org.cnai.model.file.metadata+json";
  /** Key used by CloudNativeAI model-spec v0.0.4 only (no "+json"). */
  public static final String DRAFT_FILE_METADATA = "org.cnai.model.file.metadata";
  /** Generic OCI/ORAS file-name annotation; a last-resort name for raw layers. */
  public static final String OCI_TITLE = "org.opencontainers.image.title";

  /** Lookup order for the file path. */
  public static final List<String> FILEPATH_KEYS = List.of(FILEPATH, LEGACY_FILEPATH);
  /** Lookup order for the file metadata. */
  public static final List<String> FILE_METADATA_KEYS =
      List.of(FILE_METADATA, LEGACY_FILE_METADATA, DRAFT_FILE_METADATA);

  /**
   * The layer's path relative to the model root: {@code org.cncf.model.filepath}, else
   * {@code org.cnai.model.filepath}, else (raw layers only) {@code org.opencontainers.image.title}.
   * Blank values count as absent. The value is not checked here; callers must pass it through
   * {@code SafePath}. For tar layers the path is informational only (entries carry the names).
   */
  public static Optional<String> filePath(Descriptor layer) {
    Optional<String> p = first(layer, FILEPATH_KEYS);
    if (p.isPresent()) {
      return p;
    }
    boolean raw = ModelMediaTypes.parseLayerType(layer.mediaType())
        .map(t -> t.format() == LayerFormat.RAW)
        .orElse(false);
    return raw ? first(layer, List.of(OCI_TITLE)) : Optional.empty();
  }

  /**
   * The parsed file metadata of the layer, looked up under the cncf key, then the cnai key, then
   * the draft cnai key without {@code +json}. Empty if none is present (or blank).
   *
   * @throws MalformedMetadataException naming the layer digest and annotation key if the value
   *     is present but cannot be parsed
   */
  public static Optional<FileMetadata> fileMetadata(Descriptor layer) {
    for (String key : FILE_METADATA_KEYS) {
      String v = layer.annotation(key);
      if (v == null || v.isBlank()) {
        continue;
      }
      try {
        return Optional.of(FileMetadata.parse(v));
      } catch (MalformedMetadataException e) {
        throw new MalformedMetadataException(
            "layer " + layer.digest() + ": annotation " + key + " is malformed: " + e.getMessage(), e);
      }
    }
    return Optional.empty();
  }

  private static Optional<String> first(Descriptor layer, List<String> keys) {
    for (String key : keys) {
      String v = layer.annotation(key);
      if (v != null && !v.isBlank()) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }
}

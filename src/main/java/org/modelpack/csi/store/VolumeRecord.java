package org.modelpack.csi.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/**
 * What one volume uses from the store ({@code <volume>/layers.json}), written once when its pull
 * completes. After a restart these records, plus a scan of the store, rebuild the references.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record VolumeRecord(
    @JsonProperty("volume_id") String volumeId,
    @JsonProperty("reference") String reference,
    @JsonProperty("manifest_digest") String manifestDigest,
    @JsonProperty("completed_at") Instant completedAt,
    @JsonProperty("layers") List<Layer> layers) {

  public static final String FILE = "layers.json";

  public VolumeRecord {
    layers = layers == null ? List.of() : List.copyOf(layers);
  }

  /** One entry and the paths it provides in the volume (a tree's paths are its own). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Layer(@JsonProperty("digest") String digest, @JsonProperty("kind") EntryKind kind,
      @JsonProperty("paths") List<String> paths) {
    public Layer {
      paths = paths == null ? List.of() : List.copyOf(paths);
    }

    public LayerKey key() {
      return new LayerKey(digest, kind);
    }
  }
}

package org.modelpack.csi.volume;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.modelpack.csi.pull.LayerFilter;

/**
 * The durable record of one volume ({@code <root>/volumes/<id>/status.json}). Field names follow
 * the Go driver where it has one ({@code volume_name}, {@code reference}, {@code state},
 * {@code inline}); never holds a credential.
 *
 * @param exclusions the layer filter the volume was pulled with; absent when it has none. A
 *     volume is the same content as a request only with the same reference and filter.
 * @param createdTargets the target paths whose directory the driver created (and so removes
 *     when it unpublishes them); a directory it found there stays
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VolumeStatus(
    @JsonProperty("volume_name") String volumeId,
    @JsonProperty("reference") String reference,
    @JsonProperty("state") VolumeState state,
    @JsonProperty("inline") boolean inline,
    @JsonProperty("manifest_digest") String manifestDigest,
    @JsonProperty("target_paths") List<String> targetPaths,
    @JsonProperty("created_at") Instant createdAt,
    @JsonProperty("updated_at") Instant updatedAt,
    @JsonProperty("error") String error,
    @JsonProperty("progress") Progress progress,
    @JsonProperty("exclusions") Exclusions exclusions,
    @JsonProperty("created_target_paths") List<String> createdTargets) {

  /** Bytes of the model on the node so far, while a pull runs. */
  public record Progress(@JsonProperty("done_bytes") long doneBytes,
      @JsonProperty("total_bytes") long totalBytes) {}

  /** The volume attributes {@code exclude-model-weights} and {@code exclude-file-patterns}. */
  public record Exclusions(@JsonProperty("exclude_model_weights") boolean excludeModelWeights,
      @JsonProperty("exclude_file_patterns") List<String> excludeFilePatterns) {
    static Exclusions of(LayerFilter filter) {
      return filter == null || !filter.enabled() ? null
          : new Exclusions(filter.excludeModelWeights(), filter.filePatterns());
    }

    LayerFilter filter() {
      return new LayerFilter(excludeModelWeights, excludeFilePatterns);
    }
  }

  public VolumeStatus {
    targetPaths = targetPaths == null ? List.of() : List.copyOf(targetPaths);
    createdTargets = createdTargets == null ? List.of() : List.copyOf(createdTargets);
  }

  public static VolumeStatus pulling(String volumeId, String reference, Instant now) {
    return pulling(volumeId, reference, LayerFilter.NONE, now);
  }

  public static VolumeStatus pulling(String volumeId, String reference, LayerFilter filter,
      Instant now) {
    return new VolumeStatus(volumeId, reference, VolumeState.PULLING, true, null, List.of(), now,
        now, null, null, Exclusions.of(filter), List.of());
  }

  /** The filter the volume's content was pulled with ({@link LayerFilter#NONE} if none). */
  public LayerFilter filter() {
    return exclusions == null ? LayerFilter.NONE : exclusions.filter();
  }

  /** True when the volume holds (or is pulling) exactly what {@code req} asks for. */
  public boolean sameContent(String reference, LayerFilter filter) {
    LayerFilter wanted = filter == null ? LayerFilter.NONE : filter;
    return this.reference.equals(reference) && normal(filter()).equals(normal(wanted));
  }

  private static LayerFilter normal(LayerFilter f) {
    return f.enabled() ? f : LayerFilter.NONE;
  }

  public VolumeStatus pulled(String digest, Instant now) {
    return new VolumeStatus(volumeId, reference, VolumeState.PULL_SUCCEEDED, inline, digest,
        targetPaths, createdAt, now, null, null, exclusions, createdTargets);
  }

  /** Only these targets remain; what the driver created of them it still removes later. */
  public VolumeStatus withTargets(List<String> targets, Instant now) {
    VolumeState s = targets.isEmpty() ? VolumeState.UMOUNTED : VolumeState.MOUNTED;
    return new VolumeStatus(volumeId, reference, s, inline, manifestDigest, targets, createdAt,
        now, null, null, exclusions,
        createdTargets.stream().filter(targets::contains).toList());
  }

  /** Adds a mounted target; {@code created} when the driver made its directory. */
  public VolumeStatus addTarget(String target, boolean created, Instant now) {
    List<String> t = new ArrayList<>(targetPaths);
    if (!t.contains(target)) {
      t.add(target);
    }
    VolumeStatus added = withTargets(t, now);
    if (!created || added.createdTargets.contains(target)) {
      return added;
    }
    List<String> c = new ArrayList<>(added.createdTargets);
    c.add(target);
    return new VolumeStatus(volumeId, reference, added.state, inline, manifestDigest, t,
        createdAt, now, null, null, exclusions, c);
  }

  /** True when the driver created the directory at {@code target}. */
  public boolean createdTarget(String target) {
    return createdTargets.contains(target);
  }

  public VolumeStatus withProgress(Progress p, Instant now) {
    return new VolumeStatus(volumeId, reference, state, inline, manifestDigest, targetPaths,
        createdAt, now, error, p, exclusions, createdTargets);
  }

  public boolean hasModel() {
    return state == VolumeState.PULL_SUCCEEDED || state == VolumeState.MOUNTED
        || state == VolumeState.UMOUNTED;
  }
}

package org.modelpack.csi.volume;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The durable record of one volume ({@code <root>/volumes/<id>/status.json}). Field names follow
 * the Go driver where it has one ({@code volume_name}, {@code reference}, {@code state},
 * {@code inline}); never holds a credential.
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
    @JsonProperty("progress") Progress progress) {

  /** Bytes of the model on the node so far, while a pull runs. */
  public record Progress(@JsonProperty("done_bytes") long doneBytes,
      @JsonProperty("total_bytes") long totalBytes) {}

  public VolumeStatus {
    targetPaths = targetPaths == null ? List.of() : List.copyOf(targetPaths);
  }

  public static VolumeStatus pulling(String volumeId, String reference, Instant now) {
    return new VolumeStatus(volumeId, reference, VolumeState.PULLING, true, null, List.of(), now,
        now, null, null);
  }

  public VolumeStatus pulled(String digest, Instant now) {
    return new VolumeStatus(volumeId, reference, VolumeState.PULL_SUCCEEDED, inline, digest,
        targetPaths, createdAt, now, null, null);
  }

  public VolumeStatus withTargets(List<String> targets, Instant now) {
    VolumeState s = targets.isEmpty() ? VolumeState.UMOUNTED : VolumeState.MOUNTED;
    return new VolumeStatus(volumeId, reference, s, inline, manifestDigest, targets, createdAt,
        now, null, null);
  }

  public VolumeStatus addTarget(String target, Instant now) {
    List<String> t = new ArrayList<>(targetPaths);
    if (!t.contains(target)) {
      t.add(target);
    }
    return withTargets(t, now);
  }

  public VolumeStatus withProgress(Progress p, Instant now) {
    return new VolumeStatus(volumeId, reference, state, inline, manifestDigest, targetPaths,
        createdAt, now, error, p);
  }

  public boolean hasModel() {
    return state == VolumeState.PULL_SUCCEEDED || state == VolumeState.MOUNTED
        || state == VolumeState.UMOUNTED;
  }
}

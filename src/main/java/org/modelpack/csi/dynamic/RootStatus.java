package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import org.modelpack.csi.volume.VolumeState;

/**
 * The {@code status.json} of a dynamic volume's workspace: the Go driver's
 * {@code volume_name} (which the pod and the CLI read to name the volume in API calls), plus
 * what the driver needs to find its own mount again after a restart. The volume manager's
 * start-up recovery reads it too: a workspace that is not {@code MOUNTED} and that nothing
 * mounts is an interrupted publish and is removed.
 *
 * @param dynamic always true: tells a workspace from a model volume
 * @param targetPaths where the workspace is bind-mounted: one target per dynamic volume, in a
 *     list named as the volume manager's, so operators' tools read both alike
 * @param createdTarget the driver made the target's directory, and so removes it
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record RootStatus(
    @JsonProperty("volume_name") String volumeName,
    @JsonProperty("dynamic") boolean dynamic,
    @JsonProperty("state") VolumeState state,
    @JsonProperty("target_paths") List<String> targetPaths,
    @JsonProperty("created_target") boolean createdTarget,
    @JsonProperty("created_at") Instant createdAt) {

  RootStatus {
    targetPaths = targetPaths == null ? List.of() : List.copyOf(targetPaths);
  }

  /** The one target ("" for a record without one, which matches no target). */
  String targetPath() {
    return targetPaths.isEmpty() ? "" : targetPaths.get(0);
  }

  RootStatus mounted() {
    return new RootStatus(volumeName, true, VolumeState.MOUNTED, targetPaths, createdTarget,
        createdAt);
  }
}

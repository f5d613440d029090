package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.modelpack.csi.volume.VolumeState;
import org.modelpack.csi.volume.VolumeView;

/**
 * One mount as the API answers it: the Go driver's {@code volume_name}, {@code mount_id},
 * {@code reference} and {@code state}, plus the live progress of a pull (bytes so far and in
 * all; total -1 while the manifest is resolved) and why a pull failed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record MountStatus(
    @JsonProperty("volume_name") String volumeName,
    @JsonProperty("mount_id") String mountId,
    @JsonProperty("reference") String reference,
    @JsonProperty("state") VolumeState state,
    @JsonProperty("progress") Progress progress,
    @JsonProperty("error") String error) {

  record Progress(@JsonProperty("done_bytes") long doneBytes,
      @JsonProperty("total_bytes") long totalBytes) {}

  static MountStatus of(String volume, String mountId, VolumeView view) {
    Progress p = view.state() == VolumeState.PULLING
        ? new Progress(view.doneBytes(), view.totalBytes()) : null;
    return new MountStatus(volume, mountId, view.reference(), view.state(), p, view.error());
  }
}

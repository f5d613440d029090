package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The body of {@code POST /api/v1/volumes/{volume}/mounts}, with the Go driver's field names.
 * Unknown fields are ignored, as the Go driver ignores them.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record MountRequest(
    @JsonProperty("mount_id") String mountId,
    @JsonProperty("reference") String reference,
    @JsonProperty("check_disk_quota") boolean checkDiskQuota,
    @JsonProperty("exclude_model_weights") boolean excludeModelWeights,
    @JsonProperty("exclude_file_patterns") List<String> excludeFilePatterns) {

  MountRequest {
    excludeFilePatterns = excludeFilePatterns == null ? List.of() : List.copyOf(excludeFilePatterns);
  }
}

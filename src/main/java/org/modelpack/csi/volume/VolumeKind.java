package org.modelpack.csi.volume;

import java.util.regex.Pattern;

/**
 * Which of the Go driver's three volume kinds a volume of the volume manager serves, told from
 * its id, for the {@code model_csi_node_mounted_*_models} gauges. The id schemes are made above
 * this package: a PVC's by the controller ({@code <name>.<ro|rw>.<16 hex>}, decision 1101), a
 * dynamic mount's by the dynamic volumes ({@code <volume>.<mount_id>}, both free of dots,
 * decision 1121). Anything else is an inline volume (kubelet's {@code csi-<hash>}).
 */
public enum VolumeKind {
  INLINE, PVC, DYNAMIC;

  private static final Pattern PVC_ID = Pattern.compile(".+\\.(ro|rw)\\.[0-9a-f]{16}");
  private static final Pattern DYNAMIC_MOUNT_ID =
      Pattern.compile("[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]+");

  public static VolumeKind of(String volumeId) {
    if (PVC_ID.matcher(volumeId).matches()) {
      return PVC;
    }
    return DYNAMIC_MOUNT_ID.matcher(volumeId).matches() ? DYNAMIC : INLINE;
  }
}

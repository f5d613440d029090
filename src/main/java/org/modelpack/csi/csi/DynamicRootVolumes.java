package org.modelpack.csi.csi;

import java.nio.file.Path;

/**
 * Where NodeService sends a pod volume without a {@code <service_name>/reference}: a dynamic
 * volume, an empty workspace the pod fills through its own API socket. Implemented outside
 * this package; errors are DriverExceptions, mapped like any other.
 */
public interface DynamicRootVolumes {
  /** Creates (or finds) the volume's workspace and mounts it read-only at {@code target}. */
  void publish(String volumeId, Path target);

  /**
   * Unpublishes a dynamic volume (its mounts, socket and workspace); false, doing nothing,
   * when {@code volumeId} is not a dynamic volume on this node.
   */
  boolean unpublishIfDynamic(String volumeId, Path target);
}

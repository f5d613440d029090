package org.modelpack.csi.volume;

import java.nio.file.Path;
import java.util.Map;
import org.modelpack.csi.pull.LayerFilter;

/**
 * A validated request to serve a model at a target path.
 *
 * @param singleWriter true for access mode SINGLE_NODE_SINGLE_WRITER, which allows one target only
 * @param writable the volume gets private, writable copies and a read-write mount
 * @param filter the layers the volume leaves out; part of the volume's identity
 * @param checkDiskQuota the volume asked for a disk quota check before its pull
 * @param secrets the pod's registry credentials (nodePublishSecretRef); never printed or stored
 */
public record PublishRequest(String volumeId, Path targetPath, String reference,
    boolean singleWriter, boolean writable, LayerFilter filter, boolean checkDiskQuota,
    Map<String, String> secrets) {

  public PublishRequest {
    filter = filter == null ? LayerFilter.NONE : filter;
    secrets = secrets == null ? Map.of() : Map.copyOf(secrets);
  }

  public PublishRequest(String volumeId, Path targetPath, String reference, boolean singleWriter,
      boolean writable) {
    this(volumeId, targetPath, reference, singleWriter, writable, LayerFilter.NONE, false,
        Map.of());
  }

  @Override
  public String toString() {
    return "PublishRequest[volumeId=" + volumeId + ", targetPath=" + targetPath + ", reference="
        + reference + ", writable=" + writable + ", filter=" + filter + ", secrets="
        + (secrets.isEmpty() ? "none" : "<" + secrets.size() + " keys hidden>") + "]";
  }
}

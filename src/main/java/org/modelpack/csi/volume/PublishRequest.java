package org.modelpack.csi.volume;

import java.nio.file.Path;
import java.util.Map;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.auth.PodSecretCredentials;

/**
 * A validated request to serve a model at a target path.
 *
 * @param singleWriter true for access mode SINGLE_NODE_SINGLE_WRITER, which allows one target only
 * @param writable the volume gets private, writable copies and a read-write mount
 * @param filter the layers the volume leaves out; part of the volume's identity
 * @param checkDiskQuota the volume asked for a disk quota check before its pull
 * @param podCredentials the pod's registry credentials (nodePublishSecretRef), parsed once here;
 *     null when it gave none. Never printed or stored.
 * @param pod the pod that asked (for its Events); null when kubelet did not say
 */
public record PublishRequest(String volumeId, Path targetPath, String reference,
    boolean singleWriter, boolean writable, LayerFilter filter, boolean checkDiskQuota,
    PodSecretCredentials podCredentials, PodRef pod) {

  public PublishRequest {
    filter = filter == null ? LayerFilter.NONE : filter;
  }

  /**
   * A request with the pod's node-publish {@code secrets}.
   *
   * @throws DriverException INVALID_ARGUMENT naming the malformed key (never its value)
   */
  public PublishRequest(String volumeId, Path targetPath, String reference, boolean singleWriter,
      boolean writable, LayerFilter filter, boolean checkDiskQuota, Map<String, String> secrets,
      PodRef pod) {
    this(volumeId, targetPath, reference, singleWriter, writable, filter, checkDiskQuota,
        podCredentials(secrets), pod);
  }

  public PublishRequest(String volumeId, Path targetPath, String reference, boolean singleWriter,
      boolean writable) {
    this(volumeId, targetPath, reference, singleWriter, writable, LayerFilter.NONE, false,
        (PodSecretCredentials) null, null);
  }

  /** The reference, parsed; INVALID_ARGUMENT naming it when it is not one. */
  public Reference parsedReference() {
    try {
      return Reference.parse(reference);
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT,
          "model reference '" + reference + "' is invalid: " + e.getMessage(), e);
    }
  }

  private static PodSecretCredentials podCredentials(Map<String, String> secrets) {
    try {
      return PodSecretCredentials.parse(secrets == null ? Map.of() : secrets).orElse(null);
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT,
          "node publish secret: " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "PublishRequest[volumeId=" + volumeId + ", targetPath=" + targetPath + ", reference="
        + reference + ", writable=" + writable + ", filter=" + filter + ", secrets="
        + (podCredentials == null ? "none" : "<hidden>") + ", pod=" + pod + "]";
  }
}

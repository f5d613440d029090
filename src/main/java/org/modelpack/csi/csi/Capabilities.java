package org.modelpack.csi.csi;

import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.util.Arrays;

/** Checks of a request's volume capability, shared by the Node and Controller services. */
final class Capabilities {
  private Capabilities() {}

  /**
   * The access mode of a mount capability. Block access, a capability without an access type
   * and UNKNOWN, missing or unrecognised modes are refused (INVALID_ARGUMENT naming
   * {@code field}).
   */
  static Mode mountMode(VolumeCapability cap, String field) {
    if (cap.hasBlock()) {
      throw GrpcErrors.invalid(field + ": block access is not supported: model volumes are "
          + "directories");
    }
    if (!cap.hasMount()) {
      throw GrpcErrors.invalid(field + " must have mount access type");
    }
    if (!cap.hasAccessMode()) {
      throw GrpcErrors.invalid(field + ".access_mode is required");
    }
    Mode mode = cap.getAccessMode().getMode();
    if (mode == Mode.UNKNOWN || mode == Mode.UNRECOGNIZED) {
      throw GrpcErrors.invalid(field + ".access_mode "
          + (mode == Mode.UNKNOWN ? "UNKNOWN" : cap.getAccessMode().getModeValue())
          + " is not an access mode; use one of " + Arrays.stream(Mode.values())
              .filter(m -> m != Mode.UNKNOWN && m != Mode.UNRECOGNIZED).toList());
    }
    return mode;
  }

  /**
   * Why a provisioned volume cannot be used with {@code mode}, or null when it can: a pod may
   * write only to a writable volume, and only from one node (a writable volume is a private
   * copy per node, so writers on several nodes would not see each other's files).
   */
  static String refusal(Mode mode, boolean writable, String serviceName) {
    if (!VolumeAttributes.isWriter(mode)) {
      return null;
    }
    if (mode == Mode.MULTI_NODE_SINGLE_WRITER || mode == Mode.MULTI_NODE_MULTI_WRITER) {
      return "access mode " + mode + " is not supported: a writable model volume is a private "
          + "copy on each node, so writers on several nodes would not share files";
    }
    return writable ? null : "access mode " + mode + " needs a writable volume ("
        + serviceName + VolumeAttributes.WRITABLE + ": \"true\"); model volumes are read-only "
        + "otherwise (use MULTI_NODE_READER_ONLY, ReadOnlyMany in Kubernetes)";
  }
}

package org.modelpack.csi.dynamic;

import java.util.regex.Pattern;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.volume.VolumeIds;

/**
 * The names the in-pod API takes: a volume name and a mount id are single path segments of
 * {@code [a-zA-Z0-9_-]} (the Go driver's rule), and a mount is kept by the volume manager as
 * the internal volume {@code <volume>.<mount_id>}: a mount id has no dot, so the last dot
 * splits the two, and no kubelet volume id ({@code csi-<sha256>}) has that shape.
 */
final class DynamicNames {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]+");
  /** The volume manager's limit on a volume id. */
  private static final int MAX_VOLUME_ID = 128;

  private DynamicNames() {}

  /** Checks {@code value} (trimmed, as the Go driver does) and returns it trimmed. */
  static String require(String what, String value) {
    String v = value == null ? "" : value.strip();
    if (v.isEmpty()) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, what + " is required");
    }
    if (!NAME.matcher(v).matches()) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, what + " '" + v
          + "' must match ^[a-zA-Z0-9_-]+$");
    }
    return v;
  }

  /** The volume manager's id for mount {@code mountId} of dynamic volume {@code volume}. */
  static String mountVolumeId(String volume, String mountId) {
    String id = volume + "." + mountId;
    if (id.length() > MAX_VOLUME_ID) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "mount_id '" + mountId
          + "' is too long for volume " + volume + ": together they may have at most "
          + (MAX_VOLUME_ID - 1) + " characters");
    }
    VolumeIds.requireSafe(id);
    return id;
  }
}

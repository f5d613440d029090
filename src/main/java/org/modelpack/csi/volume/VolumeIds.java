package org.modelpack.csi.volume;

import java.util.regex.Pattern;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;

/** Volume ids become directory names, so only safe single path segments are accepted. */
public final class VolumeIds {
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private VolumeIds() {}

  /** True for a name {@link #requireSafe} accepts. */
  public static boolean isSafe(String name) {
    return name != null && SAFE.matcher(name).matches();
  }

  public static void requireSafe(String volumeId) {
    if (volumeId == null || volumeId.isEmpty()) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "volume_id is required");
    }
    if (!SAFE.matcher(volumeId).matches()) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "volume_id '" + volumeId
          + "' must be a single path segment of letters, digits, '.', '_' or '-' "
          + "(at most 128 characters, not starting with '.' or '-')");
    }
  }
}

package org.modelpack.csi.mount;

import java.nio.file.Path;
import java.util.Set;

/**
 * One line of {@code /proc/self/mountinfo}: where something is mounted and with which options.
 *
 * @param device the filesystem's {@code major:minor}
 * @param root the mounted directory's path within that filesystem ({@code /} for a whole
 *     filesystem; a bind mount shows its source here)
 */
public record MountEntry(Path mountPoint, String root, Set<String> options, String fsType,
    String source, String device) {

  public MountEntry {
    options = Set.copyOf(options);
  }

  public boolean readOnly() {
    return options.contains("ro");
  }
}

package org.modelpack.csi.mount;

import java.nio.file.Path;
import java.util.Set;

/** One line of {@code /proc/self/mountinfo}: where something is mounted and with which options. */
public record MountEntry(Path mountPoint, String root, Set<String> options, String fsType,
    String source) {

  public MountEntry {
    options = Set.copyOf(options);
  }

  public boolean readOnly() {
    return options.contains("ro");
  }
}

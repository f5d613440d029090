package org.modelpack.csi.mount;

import java.io.IOException;
import java.nio.file.Path;

/** The two kernel operations behind every volume mount, by whichever means the node offers. */
interface MountCalls {

  /**
   * Bind-mounts {@code source} at {@code target} with {@code nosuid,nodev}, and read-only when
   * asked. A bind that cannot get its flags is undone before this throws.
   */
  void bind(Path source, Path target, boolean readOnly) throws IOException;

  /**
   * Removes the topmost mount at {@code target}, detaching it lazily when it is busy. False when
   * nothing is mounted there.
   */
  boolean unmountTop(Path target) throws IOException;

  /** How the calls are made, for the log. */
  String describe();
}

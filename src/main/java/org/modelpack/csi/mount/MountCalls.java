package org.modelpack.csi.mount;

import java.io.IOException;
import java.nio.file.Path;

/** The kernel operations behind every volume mount, by whichever means the node offers. */
interface MountCalls {

  /** Bind-mounts {@code source} at {@code target}; the new mount copies the source's flags. */
  void bind(Path source, Path target) throws IOException;

  /** Gives the bind mount at {@code target} {@code nosuid,nodev}, and read-only when asked. */
  void restrict(Path target, boolean readOnly) throws IOException;

  /**
   * Removes the topmost mount at {@code target}, detaching it lazily when it is busy. False when
   * nothing is mounted there. Only for mounts the caller knows to be its own: a lazy detach of
   * someone else's mount would pull it from under its users.
   */
  boolean unmountTop(Path target) throws IOException;

  /**
   * Makes the mount at {@code target} shared (its own peer group): mounts made below it later
   * then also appear in every copy of it that follows it (a pod's HostToContainer view).
   */
  void makeShared(Path target) throws IOException;

  /** How the calls are made, for the log. */
  String describe();
}

package org.modelpack.csi.mount;

/**
 * How a bind mount of one directory shows in the mount table: the device of the filesystem
 * holding the directory and the directory's path within it. A mount with both is a bind of that
 * directory, whatever path it is mounted at; this is how the driver recognises its own mounts.
 */
public record BindSource(String device, String root) {
  /** What the kernel appends to a bind mount's root once its source directory is removed. */
  private static final String DELETED = "//deleted";

  /** True when {@code e} mounts this directory (or what is left of it after a removal). */
  public boolean isSourceOf(MountEntry e) {
    return device.equals(e.device())
        && (root.equals(e.root()) || (root + DELETED).equals(e.root()));
  }
}

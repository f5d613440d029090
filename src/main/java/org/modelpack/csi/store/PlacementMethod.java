package org.modelpack.csi.store;

/** How a store entry reached a volume; logged so an operator sees when dedup degrades. */
public enum PlacementMethod {
  /** Same inode as the store: no bytes copied, one page cache. */
  HARDLINK,
  /** Copy-on-write clone across a filesystem boundary (FICLONE): no bytes copied. */
  REFLINK,
  /** A full copy: the store and the volume are on filesystems that share nothing. */
  COPY
}

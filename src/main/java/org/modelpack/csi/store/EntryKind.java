package org.modelpack.csi.store;

/** A raw layer is kept as one file; a tar layer as the tree it extracts to. */
public enum EntryKind {
  BLOB,
  TREE
}

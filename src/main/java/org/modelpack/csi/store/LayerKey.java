package org.modelpack.csi.store;

/** What the store is asked for: the content of a layer digest, as a file or as a tree. */
public record LayerKey(String digest, EntryKind kind) {
  @Override
  public String toString() {
    return kind.name().toLowerCase() + ":" + digest;
  }
}

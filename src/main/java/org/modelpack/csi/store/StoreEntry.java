package org.modelpack.csi.store;

import java.nio.file.Path;

/**
 * A complete, verified, read-only store entry.
 *
 * @param size bytes of content (a blob's length, or the sum of a tree's files)
 */
public record StoreEntry(LayerKey key, Path path, long size) {}

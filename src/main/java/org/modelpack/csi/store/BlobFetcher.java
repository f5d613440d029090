package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a layer's blob to {@code destination}, verified (size and digest) and synced, or
 * throws. The store never talks to registries itself; each requester brings its own fetcher
 * (its own registry, credentials, mirrors).
 */
@FunctionalInterface
public interface BlobFetcher {
  void fetch(Path destination) throws IOException;
}

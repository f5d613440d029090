package org.modelpack.csi.oci;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where blobs come from (a registry, its mirrors). The layer store asks one for the blobs it
 * lacks, so it needs to know nothing about registries, and whoever supplies the source decides
 * which endpoints and credentials serve it.
 */
@FunctionalInterface
public interface BlobSource {
  /**
   * Writes {@code blob} into {@code destination} (created or truncated) and syncs it, or throws
   * and leaves nothing there that matters. The store verifies what was written.
   */
  void fetch(Descriptor blob, Path destination) throws IOException;
}

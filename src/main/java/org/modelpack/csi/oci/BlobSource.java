package org.modelpack.csi.oci;

import java.io.IOException;

/**
 * Where blobs come from (a registry, its mirrors). The layer store asks one for the blobs it
 * lacks, so it needs to know nothing about registries, and whoever supplies the source decides
 * which endpoints and credentials serve it.
 */
@FunctionalInterface
public interface BlobSource {
  /**
   * Writes {@code blob} into {@code out} and syncs it, or throws. {@code out} hashes what it is
   * given, so its owner verifies the blob without trusting the source. It may already hold the
   * blob's first {@link BlobWriter#hashWritten()} bytes (kept by an earlier download): a source
   * goes on from there, or {@link BlobWriter#restart()}s it.
   */
  void fetch(Descriptor blob, BlobWriter out) throws IOException;
}

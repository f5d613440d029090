package org.modelpack.csi.store;

import java.io.IOException;
import org.modelpack.csi.oci.BlobWriter;

/**
 * One requester's way to write one layer's blob into {@code out}, synced, or throw: its
 * {@link org.modelpack.csi.oci.BlobSource} (its registry, credentials, mirrors) bound to the
 * layer. A flight whose owner fails is taken over with the next waiter's fetcher.
 */
@FunctionalInterface
interface BlobFetcher {
  void fetch(BlobWriter out) throws IOException;
}

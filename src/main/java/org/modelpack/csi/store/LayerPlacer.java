package org.modelpack.csi.store;

import java.io.IOException;
import java.util.Set;
import org.modelpack.csi.oci.BlobSource;

/** What a pull asks of the store: put one layer's files into a volume. */
public interface LayerPlacer {
  /**
   * Makes the layer's files appear in the volume: from the store when it holds the layer,
   * joining a download in flight, or downloading it from {@code source} once for the whole
   * node; then links (or clones, or copies) it into place. An entry that vanished from disk is
   * fetched again, once. The volume references the entry from then on.
   */
  Set<PlacementMethod> place(Placement placement, BlobSource source, LayerProgress progress)
      throws IOException, InterruptedException;

  /** Whether the entry is on the node now (a download in flight does not count). */
  boolean isStored(LayerKey key);
}

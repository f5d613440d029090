package org.modelpack.csi.store;

import java.io.IOException;
import java.util.Optional;

/**
 * What each reference resolved to at its last pull on this node, so a pull can go on while the
 * registry is away and a warm pull can skip fetching a manifest it already has.
 */
public interface ManifestRecords {
  /** Remembers what {@code reference} resolved to. */
  void recordManifest(String reference, String digest, String namedDigest, byte[] raw,
      boolean anonymousReadable) throws IOException;

  /** What {@code reference} resolved to at its last pull on this node, verified. */
  Optional<RecordedManifest> recordedManifest(String reference);
}

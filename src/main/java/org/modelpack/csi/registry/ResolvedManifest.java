package org.modelpack.csi.registry;

import org.modelpack.csi.oci.Manifest;

/**
 * A fetched and verified image manifest (never an index: indexes are resolved first).
 *
 * @param reference the requested reference pinned to {@code digest}
 * @param digest digest of {@code raw}
 * @param raw the exact bytes the registry sent, which {@code digest} covers
 * @param namedDigest what the requested reference named: the index's digest when it named an
 *     index, else {@code digest}
 */
public record ResolvedManifest(Reference reference, String digest, Manifest manifest,
    byte[] raw, String namedDigest) {

  public ResolvedManifest {
    raw = raw.clone();
  }

  /** A manifest the reference named itself. */
  public ResolvedManifest(Reference reference, String digest, Manifest manifest, byte[] raw) {
    this(reference, digest, manifest, raw, digest);
  }

  @Override
  public byte[] raw() {
    return raw.clone();
  }
}

package org.modelpack.csi.registry;

import org.modelpack.csi.oci.Manifest;

/**
 * A fetched and verified image manifest (never an index: indexes are resolved first).
 *
 * @param reference the requested reference pinned to {@code digest}
 * @param digest digest of {@code raw}
 * @param raw the exact bytes the registry sent, which {@code digest} covers
 */
public record ResolvedManifest(Reference reference, String digest, Manifest manifest,
    byte[] raw) {

  public ResolvedManifest {
    raw = raw.clone();
  }

  @Override
  public byte[] raw() {
    return raw.clone();
  }
}

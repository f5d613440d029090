package org.modelpack.csi.store;

/**
 * The manifest a reference resolved to at its last successful pull.
 *
 * @param namedDigest what the reference itself named then: an index's digest when it named an
 *     index (which {@code digest}, the chosen model manifest, was selected from), else
 *     {@code digest}
 * @param anonymousReadable whether the registry served it without credentials; only such a
 *     model may be served from the store while the registry cannot check a volume's credentials
 */
public record RecordedManifest(String reference, String digest, String namedDigest, byte[] raw,
    boolean anonymousReadable) {}

package org.modelpack.csi.store;

/**
 * The manifest a reference resolved to at its last successful pull.
 *
 * @param anonymousReadable whether the registry served it without credentials; only such a
 *     model may be served from the store while the registry cannot check a volume's credentials
 */
public record RecordedManifest(String reference, String digest, byte[] raw,
    boolean anonymousReadable) {}

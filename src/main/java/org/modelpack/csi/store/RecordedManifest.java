package org.modelpack.csi.store;

/** The manifest a reference resolved to at its last successful pull. */
public record RecordedManifest(String reference, String digest, byte[] raw) {}

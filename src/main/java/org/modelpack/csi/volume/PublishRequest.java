package org.modelpack.csi.volume;

import java.nio.file.Path;

/**
 * A validated request to serve a model at a target path.
 *
 * @param singleWriter true for access mode SINGLE_NODE_SINGLE_WRITER, which allows one target only
 * @param writable the volume gets private, writable copies and a read-write mount
 */
public record PublishRequest(String volumeId, Path targetPath, String reference,
    boolean singleWriter, boolean writable) {}

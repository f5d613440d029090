package org.modelpack.csi.store;

import java.nio.file.Path;

/**
 * One layer for one volume: which layer, and where its files go.
 *
 * @param volumeId the volume that will reference the entry
 * @param layer the layer and how to store it
 * @param modelDir the volume's model directory
 * @param path a raw layer's file path in {@code modelDir}; ignored for a tar layer
 * @param privateCopy a writable volume's own copies instead of links to the shared entry
 */
public record Placement(String volumeId, LayerRequest layer, Path modelDir, String path,
    boolean privateCopy) {}

package org.modelpack.csi.pull;

import java.nio.file.Path;
import org.modelpack.csi.registry.Reference;

/**
 * One volume's pull: which model, which of its layers, and where it goes.
 *
 * @param volumeDir holds the volume's record
 * @param modelDir receives the model's files
 * @param privateCopies writable volume: its own copies, never the store's inodes
 * @param checkQuota the volume asked for a disk quota check before any download
 */
public record VolumePull(Reference reference, LayerFilter filter, String volumeId,
    Path volumeDir, Path modelDir, boolean privateCopies, boolean checkQuota) {}

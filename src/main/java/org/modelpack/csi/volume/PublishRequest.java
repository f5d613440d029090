package org.modelpack.csi.volume;

import java.nio.file.Path;
import org.modelpack.csi.pull.LayerFilter;

/**
 * A validated request to serve a model at a target path.
 *
 * @param singleWriter true for access mode SINGLE_NODE_SINGLE_WRITER, which allows one target only
 * @param writable the volume gets private, writable copies and a read-write mount
 * @param filter the layers the volume leaves out; part of the volume's identity
 * @param checkDiskQuota the volume asked for a disk quota check before its pull
 */
public record PublishRequest(String volumeId, Path targetPath, String reference,
    boolean singleWriter, boolean writable, LayerFilter filter, boolean checkDiskQuota) {

  public PublishRequest {
    filter = filter == null ? LayerFilter.NONE : filter;
  }

  public PublishRequest(String volumeId, Path targetPath, String reference, boolean singleWriter,
      boolean writable) {
    this(volumeId, targetPath, reference, singleWriter, writable, LayerFilter.NONE, false);
  }
}

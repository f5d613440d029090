package org.modelpack.csi.pull;

/**
 * What a pull found when it began placing: how big the model is and how much of it the node
 * already held, so that the pod's owner learns what the wait will be.
 *
 * @param storedLayers of {@code layers}, how many the store held already (nothing to download)
 * @param storedBytes their bytes
 */
public record PullStart(long totalBytes, int layers, int storedLayers, long storedBytes) {
  /** Bytes that had to come from the registry (or from another pull's download of them). */
  public long downloadBytes() {
    return Math.max(0, totalBytes - storedBytes);
  }
}

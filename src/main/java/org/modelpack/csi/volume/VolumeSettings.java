package org.modelpack.csi.volume;

import java.time.Duration;

/**
 * Timing of background pulls.
 *
 * @param publishWait how long NodePublishVolume waits for a pull before answering ABORTED with
 *     the progress (kubelet gives up on a call after 2 minutes and then calls again)
 * @param orphanTimeout a pull nobody asked about for this long is cancelled and removed
 */
public record VolumeSettings(Duration publishWait, Duration orphanTimeout) {
  public static final VolumeSettings DEFAULT =
      new VolumeSettings(Duration.ofSeconds(100), Duration.ofMinutes(10));
}

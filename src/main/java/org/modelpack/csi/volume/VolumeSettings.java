package org.modelpack.csi.volume;

import java.time.Duration;
import org.modelpack.csi.config.PullConfig;

/**
 * Timing of background pulls.
 *
 * @param publishWait how long NodePublishVolume waits for a pull before answering ABORTED with
 *     the progress (kubelet gives up on a call after 2 minutes and then calls again)
 * @param orphanTimeout a pull nobody asked about for this long is cancelled and removed
 */
public record VolumeSettings(Duration publishWait, Duration orphanTimeout) {
  /** The configuration's defaults. */
  public static final VolumeSettings DEFAULT =
      new VolumeSettings(PullConfig.DEFAULT_PUBLISH_WAIT, PullConfig.DEFAULT_ORPHAN_TIMEOUT);
}

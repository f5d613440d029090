package org.modelpack.csi.events;

import org.modelpack.csi.volume.PodRef;

/**
 * One Kubernetes Event to create on a pod.
 *
 * @param type {@link #NORMAL} or {@link #WARNING}
 * @param reason CamelCase, as {@code kubectl describe pod} lists it
 */
public record PodEvent(PodRef pod, String type, String reason, String message) {
  public static final String NORMAL = "Normal";
  public static final String WARNING = "Warning";
}

package org.modelpack.csi.volume;

/**
 * The pod a volume is published for, as kubelet names it in the volume context when the
 * CSIDriver has {@code podInfoOnMount}: where the pod's Events go.
 *
 * @param uid empty when kubelet did not pass it
 */
public record PodRef(String namespace, String name, String uid) {}

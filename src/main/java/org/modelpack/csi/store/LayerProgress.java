package org.modelpack.csi.store;

/** Learns of each layer a placement waits for, to read how far it got. */
@FunctionalInterface
public interface LayerProgress {
  LayerProgress NONE = (ticket, size) -> { };

  /** {@code ticket} tells how many of the layer's {@code size} bytes are on the node. */
  void track(Ticket ticket, long size);
}

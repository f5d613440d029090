package org.modelpack.csi.events;

/** Where events go: the API server, or a test's hand. Called by the sender thread only. */
@FunctionalInterface
public interface EventSink {
  void send(PodEvent event) throws Exception;
}

package org.modelpack.csi.server;

/** A running {@code serve}: CSI on its socket until closed. */
public interface Plugin extends AutoCloseable {
  void awaitTermination() throws InterruptedException;

  @Override
  void close();
}

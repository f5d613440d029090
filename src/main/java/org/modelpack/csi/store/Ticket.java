package org.modelpack.csi.store;

import java.io.IOException;

/** A requester's place in line for one layer. */
public interface Ticket {
  /**
   * Waits for the entry. Interrupting the waiting thread leaves the line (as {@link #cancel()})
   * without disturbing anyone else waiting for the same layer.
   */
  StoreEntry await() throws IOException, InterruptedException;

  /**
   * Bytes of this layer on the node so far: all of them once the entry is ready, else what the
   * download has written.
   */
  long bytesDone();

  /** Leaves the line; the download goes on while anyone else still wants the layer. */
  void cancel();
}

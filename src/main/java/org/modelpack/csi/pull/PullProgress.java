package org.modelpack.csi.pull;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.modelpack.csi.store.LayerProgress;
import org.modelpack.csi.store.Ticket;

/** Bytes of a model on the node so far, read while its pull runs (for status and ABORTED). */
public final class PullProgress implements LayerProgress {
  private volatile long totalBytes = -1;
  private final List<Tracked> layers = new CopyOnWriteArrayList<>();

  private record Tracked(Ticket ticket, long size) {}

  void total(long bytes) {
    totalBytes = bytes;
  }

  /** Forgets what was counted: the pull starts over with another manifest. */
  void restart() {
    layers.clear();
    totalBytes = -1;
  }

  @Override
  public void track(Ticket ticket, long size) {
    layers.add(new Tracked(ticket, size));
  }

  /** -1 until the manifest is known. */
  public long totalBytes() {
    return totalBytes;
  }

  public long doneBytes() {
    long done = 0;
    for (Tracked t : layers) {
      done += Math.min(t.size(), t.ticket().bytesDone());
    }
    return done;
  }
}

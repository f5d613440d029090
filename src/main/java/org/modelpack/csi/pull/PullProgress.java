package org.modelpack.csi.pull;

import java.util.Queue;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.modelpack.csi.store.LayerProgress;
import org.modelpack.csi.store.Ticket;

/** Bytes of a model on the node so far, read while its pull runs (for status and ABORTED). */
public final class PullProgress implements LayerProgress {
  private volatile long totalBytes = -1;
  /** Not copy-on-write: a pull adds one per layer, and copying made n layers cost O(n²). */
  private final Queue<Tracked> layers = new ConcurrentLinkedQueue<>();

  private volatile PullStart planned;
  private volatile Consumer<PullStart> onPlanned = p -> { };

  private record Tracked(Ticket ticket, long size) {}

  void total(long bytes) {
    totalBytes = bytes;
  }

  /** Tells {@code listener} (once set, before the pull) what each placing found on the node. */
  public void onPlanned(Consumer<PullStart> listener) {
    onPlanned = listener;
  }

  /** The placing began: the listener hears of it on the pulling thread. */
  void planned(PullStart start) {
    planned = start;
    onPlanned.accept(start);
  }

  /** What the last placing found on the node; empty until one began. */
  public Optional<PullStart> plan() {
    return Optional.ofNullable(planned);
  }

  /** Forgets what was counted: the pull starts over with another manifest. */
  void restart() {
    layers.clear();
    totalBytes = -1;
    planned = null;
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

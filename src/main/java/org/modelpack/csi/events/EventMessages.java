package org.modelpack.csi.events;

import java.time.Duration;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.pull.PullStart;
import org.modelpack.csi.volume.VolumeEvent;

/** Words for a pod's owner: what a volume event means for the pod, as one Event. */
final class EventMessages {
  static final String PULL_STARTED = "PullStarted";
  static final String PULL_PROGRESS = "PullProgress";
  static final String MOUNTED = "Mounted";
  static final String FAILED = "Failed";
  /** The API server refuses longer notes (events.k8s.io); core Events are cut to match. */
  static final int MAX_MESSAGE_CHARS = 1024;

  private EventMessages() {}

  static PodEvent of(VolumeEvent event) {
    if (event instanceof VolumeEvent.PullStarted s) {
      return normal(event, PULL_STARTED, "Pulling " + s.reference() + ": "
          + ByteSize.format(s.plan().totalBytes()) + " in " + s.plan().layers() + " layers, "
          + s.plan().storedLayers() + " of them (" + ByteSize.format(s.plan().storedBytes())
          + ") already on this node");
    }
    if (event instanceof VolumeEvent.PullProgressed p) {
      return normal(event, PULL_PROGRESS, p.totalBytes() < 0
          ? "Pulling " + p.reference() + ": resolving the model"
          : "Pulling " + p.reference() + ": " + ByteSize.format(p.doneBytes()) + " of "
              + ByteSize.format(p.totalBytes()) + " (" + percent(p.doneBytes(), p.totalBytes())
              + " %)");
    }
    if (event instanceof VolumeEvent.Mounted m) {
      return normal(event, MOUNTED, "Mounted " + m.reference() + " read-only in "
          + seconds(m.took()) + ": " + reuse(m.pulled()));
    }
    VolumeEvent.Failed f = (VolumeEvent.Failed) event; // sealed: the only other kind
    return new PodEvent(f.pod(), PodEvent.WARNING, FAILED, cut("Publishing " + f.reference()
        + " failed: " + f.kind() + ": " + f.message()));
  }

  private static PodEvent normal(VolumeEvent event, String reason, String message) {
    return new PodEvent(event.pod(), PodEvent.NORMAL, reason, cut(message));
  }

  private static String reuse(PullStart pulled) {
    if (pulled == null) {
      return "already pulled on this node";
    }
    return ByteSize.format(pulled.downloadBytes()) + " downloaded, "
        + ByteSize.format(pulled.storedBytes()) + " reused from this node";
  }

  private static long percent(long done, long total) {
    return total == 0 ? 100 : Math.min(100, done * 100 / total);
  }

  private static String seconds(Duration took) {
    return String.format(java.util.Locale.ROOT, "%.1f s", took.toMillis() / 1000.0);
  }

  private static String cut(String message) {
    return message.length() <= MAX_MESSAGE_CHARS ? message
        : message.substring(0, MAX_MESSAGE_CHARS - 1) + "…";
  }
}

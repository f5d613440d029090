package org.modelpack.csi.dynamic;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.mount.MountTable;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.volume.PublishRequest;
import org.modelpack.csi.volume.VolumeManager;
import org.modelpack.csi.volume.VolumeState;
import org.modelpack.csi.volume.VolumeStatus;
import org.modelpack.csi.volume.VolumeView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models mounted into dynamic volumes. Mount {@code m} of volume {@code v} is the volume
 * manager's volume {@code v.m} (same store, same background pull, same read-only bind), bound
 * at {@code <target>/models/m/.source} (decision 1121); its files are then linked into the
 * workspace at {@code models/m/model}, which every pod sees, with or without mount propagation
 * (decision 1127).
 */
final class DynamicMounts implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DynamicMounts.class);

  private final VolumeManager volumes;
  private final Function<String, Optional<LiveRoot>> roots;
  private final ModelLinks links;
  /** By internal volume id: running mounts, and failed ones until replaced or deleted. */
  private final ConcurrentHashMap<String, MountWaiter> waiters = new ConcurrentHashMap<>();
  private final ExecutorService threads =
      Executors.newCachedThreadPool(DaemonThreads.named("dynamic-mount"));

  DynamicMounts(VolumeManager volumes, Function<String, Optional<LiveRoot>> roots,
      MountTable mounts) {
    this.volumes = volumes;
    this.roots = roots;
    this.links = new ModelLinks(mounts);
  }

  /**
   * Mounts (or joins the mount of) {@code body.mountId()} in {@code volume}; the future ends
   * when the model is mounted or the mount failed.
   */
  CompletableFuture<MountStatus> mount(String volume, MountRequest body) throws IOException {
    LiveRoot root = root(volume);
    String mountId = DynamicNames.require("mount_id", body.mountId());
    String id = DynamicNames.mountVolumeId(volume, mountId);
    String reference = body.reference() == null ? "" : body.reference().strip();
    if (reference.isEmpty()) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "reference is required");
    }
    LayerFilter filter;
    try {
      filter = new LayerFilter(body.excludeModelWeights(), body.excludeFilePatterns());
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "exclude_file_patterns: "
          + e.getMessage());
    }
    PublishRequest req = new PublishRequest(id, Workspace.sourcePoint(root.target(), mountId),
        reference, false, false, filter, body.checkDiskQuota(), (
            org.modelpack.csi.registry.auth.PodSecretCredentials) null, null);
    req.parsedReference(); // INVALID_ARGUMENT before anything is made
    MountWaiter waiter;
    synchronized (this) {
      MountWaiter running = waiters.get(id);
      if (running != null && running.outcome.isCompletedExceptionally()) {
        waiters.remove(id, running); // a failed mount: this POST tries again
        running = null;
      }
      if (running != null) {
        requireSame(mountId, running.request.reference(), running.request.filter(), req);
        waiter = running;
      } else {
        Optional<VolumeStatus> existing = volumes.status(id);
        if (existing.isPresent()) {
          requireSame(mountId, existing.get().reference(), existing.get().filter(), req);
        }
        Path mountDir = root.workspace().createMountDir(mountId);
        // The volume manager's own path of the pulled model: the links' source.
        Path pulled = volumes.volumeDir(id).resolve(Workspace.MODEL);
        waiter = new MountWaiter(mountId, req, volumes, () -> links.mirror(mountDir, pulled));
        waiters.put(id, waiter);
        MountWaiter started = waiter;
        started.outcome.whenComplete((s, e) -> {
          if (e == null) {
            waiters.remove(id, started);
          } else if (!(e instanceof DriverException d && d.kind() == ErrorKind.ABORTED)) {
            removeLinks(root, mountId, true); // nothing of a failed mount stays
          }
        });
        threads.execute(waiter);
      }
    }
    return waiter.outcome.thenApply(s -> new MountStatus(volume, mountId, s.reference(),
        s.state(), null, null));
  }

  private static void requireSame(String mountId, String reference, LayerFilter filter,
      PublishRequest req) {
    if (!reference.equals(req.reference()) || !normal(filter).equals(normal(req.filter()))) {
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "mount " + mountId + " already serves "
          + reference + (normal(filter).enabled() ? " (" + filter + ")" : "") + ", not "
          + req.reference() + (normal(req.filter()).enabled() ? " (" + req.filter() + ")" : "")
          + "; delete it first or use another mount_id");
    }
  }

  private static LayerFilter normal(LayerFilter f) {
    return f == null || !f.enabled() ? LayerFilter.NONE : f;
  }

  /** The mount's state, with the live progress of its pull. */
  Optional<MountStatus> get(String volume, String mountId) {
    root(volume);
    String m = DynamicNames.require("mount_id", mountId);
    return describe(volume, m);
  }

  private Optional<MountStatus> describe(String volume, String mountId) {
    String id = DynamicNames.mountVolumeId(volume, mountId);
    MountWaiter waiter = waiters.get(id);
    if (waiter != null && waiter.outcome.isCompletedExceptionally()) {
      String error;
      try {
        waiter.outcome.getNow(null);
        error = "failed";
      } catch (RuntimeException e) {
        error = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
      }
      return Optional.of(new MountStatus(volume, mountId, waiter.request.reference(),
          VolumeState.PULL_FAILED, null, error));
    }
    Optional<VolumeView> view = volumes.describe(id);
    if (view.isPresent()) {
      return Optional.of(MountStatus.of(volume, mountId, view.get()));
    }
    if (waiter != null) { // started, its pull not registered yet
      return Optional.of(new MountStatus(volume, mountId, waiter.request.reference(),
          VolumeState.PULLING, new MountStatus.Progress(0, -1), null));
    }
    return Optional.empty();
  }

  /** Every mount of the volume: those with a mount point, and running or failed ones. */
  List<MountStatus> list(String volume) throws IOException {
    LiveRoot root = root(volume);
    TreeSet<String> ids = new TreeSet<>(root.workspace().mountIds());
    String prefix = volume + ".";
    waiters.keySet().stream().filter(k -> k.startsWith(prefix))
        .forEach(k -> ids.add(k.substring(prefix.length())));
    List<MountStatus> out = new ArrayList<>();
    for (String m : ids) {
      describe(volume, m).ifPresent(out::add);
    }
    return out;
  }

  /** Unmounts and removes the mount, cancelling its pull; nothing there is no error. */
  void delete(String volume, String mountId) throws IOException {
    LiveRoot root = root(volume);
    String m = DynamicNames.require("mount_id", mountId);
    remove(root, m);
  }

  private void remove(LiveRoot root, String mountId) throws IOException {
    String id = DynamicNames.mountVolumeId(root.volume(), mountId);
    Path point = Workspace.sourcePoint(root.target(), mountId);
    MountWaiter waiter = waiters.remove(id);
    if (waiter != null) {
      waiter.cancel();
    }
    // The pod loses the files first; the links are the last names of the model's inodes once
    // the volume below is gone, so they go before it too.
    removeLinks(root, mountId, false);
    volumes.unpublish(id, point); // cancels the pull this mount asked for
    if (waiter != null && !waiter.outcome.isDone()) {
      try {
        waiter.outcome.get(2, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // cancelled or failed: what matters is that it asks no more
      }
      volumes.unpublish(id, point); // a publish that raced the first unpublish
    }
    removeLinks(root, mountId, true); // again: a waiter may have linked them meanwhile
    log.info("volume {}: mount {} removed", root.volume(), mountId);
  }

  /** Removes every mount of a volume being unpublished. */
  void removeAll(LiveRoot root) throws IOException {
    TreeSet<String> ids = new TreeSet<>(root.workspace().mountIds());
    String prefix = root.volume() + ".";
    waiters.keySet().stream().filter(k -> k.startsWith(prefix))
        .forEach(k -> ids.add(k.substring(prefix.length())));
    for (String m : ids) {
      remove(root, m);
    }
  }

  /**
   * At start, for a volume still mounted: each mount whose volume survived the restart is
   * published again (a no-op when its bind is still there) and its links are checked (made
   * again if missing or stale); the directories of pulls the restart cut short are removed,
   * links and all (their volumes are gone, see VolumeManager.recover).
   */
  void recover(LiveRoot root) throws IOException {
    for (String m : root.workspace().mountIds()) {
      String id = DynamicNames.mountVolumeId(root.volume(), m);
      Optional<VolumeStatus> status = volumes.status(id);
      if (status.isPresent() && status.get().hasModel()) {
        MountRequest again = new MountRequest(m, status.get().reference(), false,
            status.get().filter().excludeModelWeights(), status.get().filter().filePatterns());
        mount(root.volume(), again).exceptionally(e -> {
          log.warn("volume {}: mount {} could not be restored: {}", root.volume(), m,
              e.getMessage());
          return null;
        });
      } else {
        log.info("volume {}: mount {} was pulling when the driver stopped; removed (POST it "
            + "again)", root.volume(), m);
        volumes.unpublish(id, Workspace.sourcePoint(root.target(), m));
        removeLinks(root, m, true);
      }
    }
  }

  /**
   * Removes the links of the mount's model and, with {@code andDir}, its directory once the
   * volume manager removed its {@code .source}. The mount checks look through the workspace's
   * own path and through the target: with a shared root_dir a bind appears at both.
   */
  private void removeLinks(LiveRoot root, String mountId, boolean andDir) {
    links.remove(root.workspace().mountDir(mountId), List.of(
        root.workspace().mountDir(mountId), Workspace.mountDir(root.target(), mountId)), andDir);
  }

  private LiveRoot root(String volume) {
    String v = DynamicNames.require("volume_name", volume);
    return roots.apply(v).orElseThrow(() -> new DriverException(ErrorKind.NOT_FOUND,
        "volume " + v + " is not a dynamic volume published on this node"));
  }

  @Override
  public void close() {
    waiters.values().forEach(MountWaiter::cancel);
    threads.shutdownNow();
  }
}

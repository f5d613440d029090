package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.mount.MountTable;
import org.modelpack.csi.mount.Mounter;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.registry.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the lifecycle of volumes (inline, and PVCs, whose staging path is one more target; see
 * {@link StagedVolumes}): pull the model into {@code <root>/volumes/<id>/model}, bind-mount it
 * at each target, and remove everything when the last target goes.
 *
 * <p>Pulls run in the background ({@link PullRunner}) and outlive the RPC that started them: a
 * publish waits up to {@link VolumeSettings#publishWait()} and otherwise answers ABORTED with
 * the progress; kubelet's next call joins the same pull and mounts once it is done. A failed
 * pull is reported to the next call, and the call after starts afresh. A pull nobody asks
 * about within {@link VolumeSettings#orphanTimeout()} is cancelled and its data removed
 * (kubelet may never call again). Operations on one volume are serialised by a short
 * per-volume lock.
 */
public final class VolumeManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VolumeManager.class);
  static final String MODEL_DIR = "model";

  private final Path volumesDir;
  private final VolumeDirs dirs;
  private final Supplier<ModelPuller> puller;
  private final Mounter mounter;
  private final VolumeTargets targets;
  private final StatusStore statuses = new StatusStore();
  private final VolumeSettings settings;
  private final VolumeLocks locks = new VolumeLocks();
  private final PullJobs jobs;
  private final PullRunner pulls;
  private final OrphanReaper reaper;
  private final ObservedOps ops;
  private final StagedVolumes staged;

  /**
   * @param volumesDir a real path: volumes are matched against the mount table by it
   * @param guard which targets may be mounted at
   * @param ops told of publishes, unpublishes and pulls ({@link NodeOps#NONE} for nobody)
   */
  public VolumeManager(Path volumesDir, Supplier<ModelPuller> puller, Mounter mounter,
      TargetGuard guard, Clock clock, VolumeSettings settings, NodeOps ops) {
    this.ops = new ObservedOps(ops);
    this.volumesDir = volumesDir;
    this.dirs = new VolumeDirs(volumesDir, mounter.table(), statuses);
    this.puller = puller;
    this.mounter = mounter;
    this.targets = new VolumeTargets(mounter, guard, statuses, clock);
    this.settings = settings;
    this.jobs = new PullJobs(clock);
    this.pulls = new PullRunner(dirs, statuses, jobs, puller, this.ops, clock, this::removeVolume);
    this.reaper = OrphanReaper.start(jobs, locks, settings.orphanTimeout(), this::removeVolume);
    this.staged = new StagedVolumes(this::volumeDir, locks, statuses, targets, mounter);
  }

  /** What staging adds: publishing a staged volume at a pod's target, its usage. */
  public StagedVolumes staged() {
    return staged;
  }

  public Path volumeDir(String volumeId) {
    return dirs.dir(volumeId);
  }

  /**
   * At start, before the layer store reads the volumes' records: finishes removals and drops
   * pulls that a previous process left unfinished (see {@link VolumeDirs#recover}).
   */
  public static void recover(Path volumesDir, MountTable mounts) throws IOException {
    new VolumeDirs(volumesDir, mounts, new StatusStore()).recover();
  }

  public Optional<VolumeStatus> status(String volumeId) {
    return statuses.read(volumeDir(volumeId));
  }

  /**
   * Pulls (unless already pulled or pulling) and mounts. Idempotent for the same volume and
   * target. Answers ABORTED with the progress while the pull takes longer than the publish wait.
   */
  public VolumeStatus publish(PublishRequest req) {
    try {
      return ops.observe("publish", req.volumeId(), req::reference, () -> publishNow(req));
    } catch (RuntimeException e) {
      ops.publishFailed(req, e);
      throw e;
    }
  }

  private VolumeStatus publishNow(PublishRequest req) {
    long start = System.nanoTime();
    Reference reference = req.parsedReference();
    targets.check(req.targetPath());
    Prepared prepared = locks.withLock(req.volumeId(), () -> prepare(req, reference));
    if (prepared instanceof Prepared.Mounted mounted) {
      ops.mounted(req, start, null);
      return mounted.status();
    }
    PullJob job = ((Prepared.Pulling) prepared).job(); // sealed: the only other outcome
    boolean finished;
    try {
      finished = job.await(settings.publishWait());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DriverException(ErrorKind.ABORTED, "volume " + req.volumeId()
          + ": interrupted while waiting for its pull", e);
    }
    if (!finished) {
      job.touch(req.targetPath().toString());
      pulls.recordProgress(job);
      ops.pullProgressed(req, job.progress);
      throw new DriverException(ErrorKind.ABORTED, "volume " + req.volumeId() + ": "
          + job.progressMessage());
    }
    VolumeStatus mounted = locks.withLock(req.volumeId(), () -> finish(req, job));
    ops.mounted(req, job.startNanos, job.progress.plan().orElse(null));
    return mounted;
  }

  /** What a publish found under the volume's lock: the volume served, or a pull to wait for. */
  private sealed interface Prepared {
    record Mounted(VolumeStatus status) implements Prepared {}

    record Pulling(PullJob job) implements Prepared {}
  }

  /**
   * Unmounts the volume's mount at the target and, once no target is left, deletes the
   * volume's data. Only what this driver published for this volume is touched: a target it
   * does not know, or where something else is mounted, is left exactly as it is (and the call
   * still succeeds, as CSI asks of a repeated unpublish). A running pull is cancelled only by
   * the unpublish of a target that asked for it.
   */
  public void unpublish(String volumeId, Path target) {
    // The reference for the log line comes from the status the unpublish reads anyway.
    AtomicReference<String> reference = new AtomicReference<>();
    ops.observe("unpublish", volumeId, reference::get,
        () -> unpublishNow(volumeId, target, reference));
  }

  private void unpublishNow(String volumeId, Path target, AtomicReference<String> reference) {
    locks.withLock(volumeId, () -> {
      PullJob job = jobs.get(volumeId);
      boolean pullForThisTarget = job != null && job.askedFor(target.toString());
      if (pullForThisTarget) {
        jobs.remove(job);
        if (!job.isDone()) {
          log.info("volume {}: unpublished while pulling; cancelling the pull", volumeId);
          job.cancelAndWait();
        }
      }
      Path volumeDir = volumeDir(volumeId);
      Optional<VolumeStatus> status = statuses.read(volumeDir);
      status.ifPresent(s -> reference.set(s.reference()));
      Optional<List<String>> remaining = targets.unmount(volumeId, volumeDir.resolve(MODEL_DIR),
          target, status);
      // Unused once its last target is gone, or when the pull this target asked for (finished
      // or cancelled, never mounted) was all it had.
      boolean unused = remaining.map(List::isEmpty).orElse(pullForThisTarget
          && status.map(s -> s.targetPaths().isEmpty()).orElse(true));
      if (unused && !jobs.has(volumeId)) {
        removeVolume(volumeId);
        log.info("volume {} unpublished from {} and removed", volumeId, target);
      }
      return null;
    });
  }

  /** Mounts the volume, or finds or starts the pull to wait for. Runs under the volume's lock. */
  private Prepared prepare(PublishRequest req, Reference reference) throws IOException {
    Path volumeDir = volumeDir(req.volumeId());
    Path modelDir = volumeDir.resolve(MODEL_DIR);
    String target = req.targetPath().toString();
    Optional<VolumeStatus> existing = statuses.read(volumeDir);

    if (existing.isPresent() && !existing.get().sameContent(req.reference(), req.filter())
        && !existing.get().targetPaths().isEmpty()) {
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "volume " + req.volumeId()
          + " is already published with reference " + existing.get().reference() + " ("
          + existing.get().filter() + "), not " + req.reference() + " (" + req.filter() + ")");
    }
    if (mounter.table().isMountPoint(req.targetPath())) {
      if (existing.isPresent() && existing.get().sameContent(req.reference(), req.filter())
          && mounter.isBindOf(modelDir, req.targetPath())) {
        log.info("volume {} is already published at {}", req.volumeId(), target);
        return new Prepared.Mounted(targets.remember(volumeDir, existing.get(), target));
      }
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "target path " + target
          + " is already a mount point that does not belong to volume " + req.volumeId());
    }
    targets.requireEmpty(req.targetPath());
    if (req.singleWriter() && existing.isPresent()
        && existing.get().targetPaths().stream().anyMatch(t -> !t.equals(target))) {
      throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + req.volumeId()
          + " has access mode SINGLE_NODE_SINGLE_WRITER and is already published at "
          + existing.get().targetPaths());
    }

    Optional<PullJob> running = jobs.join(req);
    if (running.isPresent()) {
      return new Prepared.Pulling(running.get());
    }
    if (existing.isPresent() && existing.get().hasModel()
        && existing.get().sameContent(req.reference(), req.filter())
        && Files.isDirectory(modelDir)) {
      Optional<String> mismatch = req.writable() ? Optional.empty()
          : puller.get().checkPlaced(volumeDir, modelDir, existing.get().manifestDigest());
      if (mismatch.isEmpty()) {
        return new Prepared.Mounted(mount(req, existing.get()));
      }
      // Never mount a tree that is not what its record says (a crash, a disk, a hand).
      log.warn("volume {}: its files do not match its record ({}); pulling it again",
          req.volumeId(), mismatch.get());
      removeVolume(req.volumeId());
    }
    return new Prepared.Pulling(pulls.start(req, reference, volumeDir, modelDir));
  }

  /** Collects a finished pull: its error once, or a mount. Runs under the volume's lock. */
  private VolumeStatus finish(PublishRequest req, PullJob job) throws IOException {
    jobs.remove(job);
    VolumeStatus pulled = job.outcome();
    Optional<VolumeStatus> current = statuses.read(volumeDir(req.volumeId()));
    if (current.isPresent() && current.get().targetPaths().contains(req.targetPath().toString())
        && mounter.isBindOf(volumeDir(req.volumeId()).resolve(MODEL_DIR), req.targetPath())) {
      return current.get(); // a concurrent call for the same target mounted it already
    }
    return mount(req, current.orElse(pulled));
  }

  /** Bind-mounts the pulled model at the request's target. Runs under the volume's lock. */
  private VolumeStatus mount(PublishRequest req, VolumeStatus status) throws IOException {
    Path volumeDir = volumeDir(req.volumeId());
    try {
      VolumeStatus mounted = targets.mount(req, volumeDir, status);
      log.info("volume {} serves {} at {}", req.volumeId(), req.reference(), req.targetPath());
      return mounted;
    } catch (IOException | RuntimeException e) {
      if (status.targetPaths().isEmpty()) {
        removeVolume(req.volumeId());
      }
      throw e;
    }
  }

  /** Deletes the volume's directory (crash-safely) and drops its references to the store. */
  private void removeVolume(String volumeId) throws IOException {
    try {
      dirs.remove(volumeId);
    } finally {
      puller.get().release(volumeId);
    }
  }

  /** How many volumes have a lock now (held or waited for); for tests. */
  int volumesWithLocks() {
    return locks.size();
  }

  /**
   * A read-only view of the volume: its status.json plus the live progress of a running pull.
   * Empty for a volume this node does not know.
   */
  public Optional<VolumeView> describe(String volumeId) {
    return VolumeView.of(volumeId, status(volumeId), jobs.get(volumeId));
  }

  /** How many pulls run now (started and not yet ended), for metrics. */
  public int pullsInFlight() {
    return jobs.running();
  }

  /**
   * How many volumes of {@code kind} serve a model at one target or more, for metrics: reads
   * their status.json files, so it is for a scrape, not for a hot path.
   */
  public int mountedVolumes(VolumeKind kind) {
    return statuses.countMounted(volumesDir, kind);
  }

  /** Cancels every running pull at once, then waits for each to clean up. */
  @Override
  public void close() {
    reaper.close();
    jobs.close();
  }
}

package org.modelpack.csi.volume;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.mount.MountEntry;
import org.modelpack.csi.mount.Mounter;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.pull.PullPlan;
import org.modelpack.csi.registry.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the lifecycle of inline volumes: pull the model into {@code <root>/volumes/<id>/model},
 * bind-mount it read-only at each target, and remove everything when the last target goes.
 * One operation per volume runs at a time; a concurrent one is refused with ABORTED so kubelet
 * retries later instead of piling up.
 */
public final class VolumeManager {
  private static final Logger log = LoggerFactory.getLogger(VolumeManager.class);
  static final String MODEL_DIR = "model";

  private final Path volumesDir;
  private final Supplier<ModelPuller> puller;
  private final Mounter mounter;
  private final StatusStore statuses = new StatusStore();
  private final Clock clock;
  private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  public VolumeManager(Path volumesDir, Supplier<ModelPuller> puller, Mounter mounter,
      Clock clock) {
    this.volumesDir = volumesDir;
    this.puller = puller;
    this.mounter = mounter;
    this.clock = clock;
  }

  public Path volumeDir(String volumeId) {
    VolumeIds.requireSafe(volumeId);
    return volumesDir.resolve(volumeId);
  }

  public Optional<VolumeStatus> status(String volumeId) {
    return statuses.read(volumeDir(volumeId));
  }

  /** Pulls (unless already pulled) and mounts. Idempotent for the same volume and target. */
  public VolumeStatus publish(PublishRequest req) {
    Reference reference = parseReference(req.reference());
    return locked(req.volumeId(), () -> doPublish(req, reference));
  }

  /** Unmounts the target and, once no target is left, deletes the volume's data. Idempotent. */
  public void unpublish(String volumeId, Path target) {
    locked(volumeId, () -> {
      doUnpublish(volumeId, target);
      return null;
    });
  }

  private VolumeStatus doPublish(PublishRequest req, Reference reference) throws IOException {
    Path volumeDir = volumeDir(req.volumeId());
    Path modelDir = volumeDir.resolve(MODEL_DIR);
    String target = req.targetPath().toString();
    Optional<VolumeStatus> existing = statuses.read(volumeDir);

    if (existing.isPresent() && !existing.get().reference().equals(req.reference())
        && !existing.get().targetPaths().isEmpty()) {
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "volume " + req.volumeId()
          + " is already published with reference " + existing.get().reference()
          + ", not " + req.reference());
    }
    Optional<MountEntry> mounted = mounter.table().find(req.targetPath());
    if (mounted.isPresent()) {
      if (existing.isPresent() && existing.get().targetPaths().contains(target)
          && existing.get().reference().equals(req.reference())) {
        log.info("volume {} is already published at {}", req.volumeId(), target);
        return existing.get();
      }
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "target path " + target
          + " is already a mount point that does not belong to volume " + req.volumeId());
    }
    if (req.singleWriter() && existing.isPresent()
        && existing.get().targetPaths().stream().anyMatch(t -> !t.equals(target))) {
      throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + req.volumeId()
          + " has access mode SINGLE_NODE_SINGLE_WRITER and is already published at "
          + existing.get().targetPaths());
    }

    VolumeStatus status;
    boolean reuse = existing.isPresent() && existing.get().hasModel()
        && existing.get().reference().equals(req.reference()) && Files.isDirectory(modelDir);
    if (reuse) {
      status = existing.get();
    } else {
      status = pull(req, reference, volumeDir, modelDir);
    }

    long mountStart = System.nanoTime();
    boolean createdTarget = false;
    try {
      if (!Files.isDirectory(req.targetPath())) {
        Files.createDirectories(req.targetPath());
        createdTarget = true;
      }
      if (req.writable()) {
        mounter.bindWritable(modelDir, req.targetPath());
      } else {
        mounter.bindReadOnly(modelDir, req.targetPath());
      }
    } catch (IOException | RuntimeException e) {
      if (createdTarget) {
        Files.deleteIfExists(req.targetPath());
      }
      if (status.targetPaths().isEmpty()) {
        removeVolume(req.volumeId(), volumeDir);
      }
      throw new DriverException(ErrorKind.INTERNAL, "volume " + req.volumeId()
          + ": cannot mount the model at " + target + ": " + e.getMessage(), e);
    }
    long mountDone = System.nanoTime();
    VolumeStatus mountedStatus = status.addTarget(target, clock.instant());
    statuses.write(volumeDir, mountedStatus);
    log.debug("volume {}: mount {} ms, status {} ms", req.volumeId(),
        (mountDone - mountStart) / 1_000_000, (System.nanoTime() - mountDone) / 1_000_000);
    log.info("volume {} serves {} at {}", req.volumeId(), req.reference(), target);
    return mountedStatus;
  }

  private VolumeStatus pull(PublishRequest req, Reference reference, Path volumeDir,
      Path modelDir) throws IOException {
    FileTrees.delete(volumeDir);
    Files.createDirectories(volumeDir);
    VolumeStatus status = VolumeStatus.pulling(req.volumeId(), req.reference(), clock.instant());
    statuses.write(volumeDir, status);
    try {
      ModelPuller p = puller.get();
      long t0 = System.nanoTime();
      PullPlan plan = p.resolve(reference);
      log.debug("volume {}: resolved {} in {} ms", req.volumeId(), reference,
          (System.nanoTime() - t0) / 1_000_000);
      log.info("volume {}: pulling {} ({} layers, {} bytes, manifest {})", req.volumeId(),
          reference, plan.layers().size(), plan.totalBytes(), plan.manifestDigest());
      long t1 = System.nanoTime();
      p.materialize(plan, reference, req.volumeId(), volumeDir, modelDir, req.writable());
      log.debug("volume {}: layers in place in {} ms", req.volumeId(),
          (System.nanoTime() - t1) / 1_000_000);
      status = status.pulled(plan.manifestDigest(), clock.instant());
      statuses.write(volumeDir, status);
      return status;
    } catch (RuntimeException | IOException e) {
      // Nothing of a failed pull is kept: kubelet may never call unpublish for it.
      removeVolume(req.volumeId(), volumeDir);
      throw e;
    }
  }

  private void doUnpublish(String volumeId, Path target) throws IOException {
    Path volumeDir = volumeDir(volumeId);
    mounter.unmount(target);
    try {
      Files.deleteIfExists(target);
    } catch (DirectoryNotEmptyException e) {
      log.warn("target {} of volume {} is not empty after unmount; leaving it", target, volumeId);
    }
    Optional<VolumeStatus> status = statuses.read(volumeDir);
    List<String> remaining = new ArrayList<>(status.map(VolumeStatus::targetPaths)
        .orElse(List.of()));
    remaining.remove(target.toString());
    remaining.removeIf(t -> !mounter.table().isMountPoint(Path.of(t)));
    if (remaining.isEmpty()) {
      removeVolume(volumeId, volumeDir);
      log.info("volume {} unpublished from {} and removed", volumeId, target);
    } else {
      statuses.write(volumeDir, status.get().withTargets(remaining, clock.instant()));
      log.info("volume {} unpublished from {}; still published at {}", volumeId, target,
          remaining);
    }
  }

  /** Deletes the volume's directory and drops its references to the layer store. */
  private void removeVolume(String volumeId, Path volumeDir) throws IOException {
    FileTrees.delete(volumeDir);
    puller.get().release(volumeId);
  }

  private static Reference parseReference(String reference) {
    try {
      return Reference.parse(reference);
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT,
          "model reference '" + reference + "' is invalid: " + e.getMessage(), e);
    }
  }

  private interface VolumeOperation<T> {
    T run() throws IOException;
  }

  private <T> T locked(String volumeId, VolumeOperation<T> op) {
    VolumeIds.requireSafe(volumeId);
    ReentrantLock lock = locks.computeIfAbsent(volumeId, k -> new ReentrantLock());
    if (!lock.tryLock()) {
      throw new DriverException(ErrorKind.ABORTED,
          "an operation on volume " + volumeId + " is already in progress");
    }
    try {
      return op.run();
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "volume " + volumeId + ": " + e.getMessage(),
          e);
    } finally {
      lock.unlock();
    }
  }
}

package org.modelpack.csi.dynamic;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.modelpack.csi.csi.DynamicRootVolumes;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.mount.Mounter;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.volume.TargetGuard;
import org.modelpack.csi.volume.VolumeManager;
import org.modelpack.csi.volume.VolumeState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic volumes: a pod volume without a reference gets an empty workspace
 * ({@code <root>/volumes/<volume>/}, see {@link Workspace}) bind-mounted read-only and shared at
 * its target, and an API socket in it. Publish, unpublish and the re-creation of every live
 * volume's socket at start are here; the mounts themselves are {@link DynamicMounts}'.
 */
public final class DynamicVolumes implements DynamicRootVolumes, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DynamicVolumes.class);

  private final Path volumesDir;
  private final Mounter mounter;
  private final TargetGuard guard;
  private final VolumeManager volumes;
  private final Clock clock;
  private final Map<String, LiveRoot> live = new ConcurrentHashMap<>();
  /**
   * One monitor per volume id published here (a few bytes each), never removed, so no caller
   * waiting on one is ever handed a second.
   */
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private final DynamicMounts mounts;
  private final ApiSockets sockets;

  private DynamicVolumes(Path volumesDir, Mounter mounter, TargetGuard guard,
      VolumeManager volumes, Clock clock, Path root, RegistryClient registry) {
    this.volumesDir = volumesDir;
    this.mounter = mounter;
    this.guard = guard;
    this.volumes = volumes;
    this.clock = clock;
    this.mounts = new DynamicMounts(volumes, v -> Optional.ofNullable(live.get(v)),
        mounter.table());
    MountApi api = new MountApi(mounts, new ArtifactInspector(registry,
        root.resolve(ApiSockets.DIR)));
    this.sockets = ApiSockets.create(root, api);
    api.servedBy(sockets::volumeOf);
  }

  /**
   * Starts the API server and brings back every dynamic volume a previous process left: a
   * volume still mounted at its target gets its socket again and its mounts stay; one that is
   * not is removed. Call after {@link VolumeManager#recover}, before the CSI socket opens.
   *
   * @param volumesDir a real path, as the volume manager's
   */
  public static DynamicVolumes start(Path root, Path volumesDir, Mounter mounter,
      TargetGuard guard, VolumeManager volumes, RegistryClient registry, Clock clock)
      throws IOException {
    DynamicVolumes d = new DynamicVolumes(volumesDir, mounter, guard, volumes, clock, root,
        registry);
    try {
      d.sockets.clearLeftovers();
      d.recover();
    } catch (IOException | RuntimeException e) {
      d.close();
      throw e;
    }
    return d;
  }

  private Object lock(String volumeId) {
    return locks.computeIfAbsent(volumeId, k -> new Object());
  }

  @Override
  public void publish(String volumeId, Path target) {
    // The pod names its volume in API paths, which take only these characters.
    DynamicNames.require("volume_id of a dynamic volume", volumeId);
    guard.check(target);
    synchronized (lock(volumeId)) {
      try {
        publishLocked(volumeId, target);
      } catch (IOException e) {
        throw new DriverException(ErrorKind.INTERNAL, "volume " + volumeId + ": " + e, e);
      }
    }
  }

  private void publishLocked(String volumeId, Path target) throws IOException {
    Workspace ws = new Workspace(volumesDir, volumeId);
    Optional<RootStatus> existing = ws.status();
    if (existing.isPresent() && mounter.isBindOf(ws.dir, Path.of(existing.get().targetPath()))) {
      if (!existing.get().targetPath().equals(target.toString())) {
        throw new DriverException(ErrorKind.FAILED_PRECONDITION, "dynamic volume " + volumeId
            + " is already published at " + existing.get().targetPath()
            + "; a dynamic volume has one target");
      }
      sockets.open(volumeId, ws.socketLink());
      live.put(volumeId, new LiveRoot(ws, target));
      log.info("dynamic volume {} is already published at {}", volumeId, target);
      return;
    }
    if (existing.isPresent()) {
      // Its mount at the target is gone (unmounted by hand, a reboot): start afresh, but
      // first take down what it still had (mounts recorded by the volume manager, socket).
      log.info("dynamic volume {}: no longer mounted at {}; publishing it afresh", volumeId,
          existing.get().targetPath());
      remove(ws, existing.get());
    } else if (Files.exists(ws.dir) || volumes.status(volumeId).isPresent()) {
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "volume " + volumeId
          + " already holds a model on this node; it cannot also be a dynamic volume");
    }
    if (mounter.table().isMountPoint(target)) {
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "target path " + target
          + " is already a mount point that does not belong to volume " + volumeId);
    }
    guard.requireEmpty(target);
    ws.create();
    boolean created = false;
    try {
      created = guard.createIfMissing(target);
      RootStatus status = new RootStatus(volumeId, true, VolumeState.UMOUNTED,
          List.of(target.toString()), created, clock.instant());
      ws.write(status);
      sockets.open(volumeId, ws.socketLink());
      mounter.bindReadOnlyShared(ws.dir, target);
      ws.write(status.mounted());
    } catch (IOException | RuntimeException e) {
      undoPublish(volumeId, ws, target, created);
      throw e;
    }
    live.put(volumeId, new LiveRoot(ws, target));
    log.info("dynamic volume {} published at {}", volumeId, target);
  }

  /** Leaves nothing of a publish that failed half-way: socket, mount, target, workspace. */
  private void undoPublish(String volumeId, Workspace ws, Path target, boolean createdTarget) {
    try {
      sockets.close(volumeId, ws.socketLink());
      mounter.unmountBindOf(ws.dir, target);
      removeCreatedTarget(createdTarget, target);
      ws.delete();
    } catch (IOException | RuntimeException e) {
      log.warn("volume {}: cleanup after a failed publish failed: {}", volumeId, e.toString());
    }
  }

  @Override
  public boolean unpublishIfDynamic(String volumeId, Path target) {
    Workspace ws = new Workspace(volumesDir, volumeId);
    if (ws.status().isEmpty()) {
      return false;
    }
    synchronized (lock(volumeId)) {
      try {
        Optional<RootStatus> status = ws.status();
        if (status.isEmpty()) {
          return true; // a concurrent unpublish removed it
        }
        if (!status.get().targetPath().equals(target.toString())) {
          log.info("dynamic volume {}: not published at {}; nothing to do", volumeId, target);
          return true;
        }
        remove(ws, status.get());
        log.info("dynamic volume {} unpublished from {} and removed", volumeId, target);
      } catch (IOException e) {
        throw new DriverException(ErrorKind.INTERNAL, "volume " + volumeId + ": " + e, e);
      }
    }
    return true;
  }

  /** Its mounts, its socket, its mount at the target, the target if made here, the workspace. */
  private void remove(Workspace ws, RootStatus status) throws IOException {
    Path target = Path.of(status.targetPath());
    LiveRoot root = new LiveRoot(ws, target);
    live.remove(ws.volume); // the API refuses new mounts from now on
    mounts.removeAll(root);
    sockets.close(ws.volume, ws.socketLink());
    if (mounter.unmountBindOf(ws.dir, target) == Mounter.Unmount.COVERED) {
      throw new DriverException(ErrorKind.FAILED_PRECONDITION, "dynamic volume " + ws.volume
          + ": its mount at " + target + " is covered by another mount; unmount that first");
    }
    removeCreatedTarget(status.createdTarget(), target);
    if (mounter.table().isInUse(ws.dir)) {
      throw new DriverException(ErrorKind.FAILED_PRECONDITION, "dynamic volume " + ws.volume
          + " is still mounted somewhere; its workspace " + ws.dir + " is kept until it is not");
    }
    ws.delete();
  }

  private void removeCreatedTarget(boolean created, Path target) {
    if (!created || mounter.table().isMountPoint(target)) {
      return;
    }
    try {
      Files.deleteIfExists(target); // rmdir: a directory with anything in it stays
    } catch (IOException e) {
      log.warn("cannot remove target {}: {}", target, e.toString());
    }
  }

  private void recover() throws IOException {
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(volumesDir)) {
      for (Path dir : dirs) {
        String name = dir.getFileName().toString();
        if (name.startsWith(".") || !Files.isDirectory(dir)) {
          continue;
        }
        Workspace ws = new Workspace(volumesDir, name);
        Optional<RootStatus> status = ws.status();
        if (status.isEmpty()) {
          continue;
        }
        Path target = Path.of(status.get().targetPath());
        try {
          if (status.get().state() == VolumeState.MOUNTED && mounter.isBindOf(ws.dir, target)) {
            sockets.open(name, ws.socketLink());
            LiveRoot root = new LiveRoot(ws, target);
            live.put(name, root);
            mounts.recover(root);
            log.info("dynamic volume {}: API socket re-created at {}", name, ws.socketLink());
          } else {
            log.info("dynamic volume {}: no longer mounted at {}; removing it", name, target);
            remove(ws, status.get());
          }
        } catch (IOException | RuntimeException e) {
          log.warn("dynamic volume {}: cannot recover it: {}", name, e.toString());
        }
      }
    }
  }

  @Override
  public void close() {
    mounts.close();
    sockets.close();
  }
}

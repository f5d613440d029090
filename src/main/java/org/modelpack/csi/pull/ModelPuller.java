package org.modelpack.csi.pull;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.config.Mirror;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.registry.MirroredRegistry;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.auth.PodSecretCredentials;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.ManifestRecords;
import org.modelpack.csi.store.RecordedManifest;
import org.modelpack.csi.store.VolumeLayers;
import org.modelpack.csi.store.VolumeRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls a model into a volume: resolve the reference ({@link ManifestResolver}), check the
 * quota, have the store place each layer ({@link PlanPlacer}; the store downloads each once per
 * node and verifies it before any file from it becomes visible), then write the volume's
 * record. A failure removes the volume's references so nothing it asked for stays pinned.
 * Immutable: {@link #withPodCredentials} returns another puller.
 */
public final class ModelPuller {
  private static final Logger log = LoggerFactory.getLogger(ModelPuller.class);

  /** Runs the registry checks of warm pulls next to their placing; idle threads go away. */
  private static final ExecutorService CHECKS = Executors.newCachedThreadPool(
      DaemonThreads.named("manifest-check"));

  private final MirroredRegistry registry;
  private final ManifestResolver resolver;
  private final PlanPlacer placer;
  private final VolumeLayers volumes;
  private final ManifestRecords manifests;
  private final PlanCache plans;
  private final Clock clock;
  private final DiskQuota quota;

  public ModelPuller(RegistryClient client, LayerStore store, int concurrency, Clock clock) {
    this(new MirroredRegistry(client, Map.of()), store, concurrency, clock, DiskQuota.off(store));
  }

  /** @param registry the registry client with the node's mirrors */
  public ModelPuller(MirroredRegistry registry, LayerStore store, int concurrency, Clock clock,
      DiskQuota quota) {
    this(registry, new PlanPlacer(store, concurrency), store, store, new PlanCache(), clock,
        quota);
  }

  private ModelPuller(MirroredRegistry registry, PlanPlacer placer, VolumeLayers volumes,
      ManifestRecords manifests, PlanCache plans, Clock clock, DiskQuota quota) {
    this.registry = registry;
    this.resolver = new ManifestResolver(registry, plans);
    this.placer = placer;
    this.volumes = volumes;
    this.manifests = manifests;
    this.plans = plans;
    this.clock = clock;
    this.quota = quota;
  }

  /**
   * This puller with a pod's registry credentials (its node-publish secrets), which take
   * precedence over the node's for {@code registryHost}; itself when the pod gave none (null).
   */
  public ModelPuller withPodCredentials(PodSecretCredentials pod, String registryHost) {
    if (pod == null) {
      return this;
    }
    return new ModelPuller(registry.withCredentials(
        pod.over(registry.client().nodeCredentials(), registryHost)), placer, volumes, manifests,
        plans, clock, quota);
  }

  /**
   * Resolves the volume's reference, checks its quota and makes the model appear in its model
   * directory, then writes the volume's record. Returns the plan it pulled.
   *
   * <p>When the store holds every layer of the manifest this reference resolved to at its last
   * pull here, those layers are linked into the volume while the registry is asked what the
   * reference names now: a warm publish then costs one registry round trip, not a round trip
   * plus the placing. If the registry names another manifest (the tag moved), those links are
   * removed and the pull goes on from the registry's answer. Either way the record, and so the
   * mount, only follow the registry's answer (or the offline rule of the resolver).
   */
  public PullPlan pull(VolumePull v, PullProgress progress) {
    Optional<RecordedManifest> recorded = manifests.recordedManifest(v.reference().toString());
    // Only links are made before the registry answers: a writable volume's private copies
    // (the whole model's bytes) wait for its credentials to be accepted.
    Optional<PullPlan> stored = v.privateCopies() ? Optional.empty() : recorded
        .flatMap(r -> resolver.recordedPlan(r, v.reference(), v.filter()))
        .filter(placer::allStored);
    if (stored.isEmpty()) {
      ManifestResolver.Resolution resolved = resolver.resolve(v, recorded);
      try (DiskQuota.Reservation room = quota.check(resolved.plan(), v.checkQuota())) {
        place(resolved.plan(), v, progress);
      }
      record(resolved, v);
      return resolved.plan();
    }
    Future<ManifestResolver.Resolution> resolving = CHECKS.submit(
        () -> resolver.resolve(v, recorded));
    try {
      place(stored.get(), v, progress);
    } catch (RuntimeException e) {
      resolving.cancel(true);
      throw e;
    }
    ManifestResolver.Resolution resolved;
    PullPlan plan;
    DiskQuota.Reservation room;
    try {
      resolved = await(resolving, v);
      plan = resolved.plan();
      if (plan.manifestDigest().equals(stored.get().manifestDigest())) {
        // Every layer was stored when it was placed, and the volume holds it now: nothing to
        // add, so no quota to check (the check found nothing to add and copied the store's
        // whole key set to learn it).
        record(resolved, v);
        return plan;
      }
      log.info("volume {}: {} now names {}, not {} as at its last pull on this node",
          v.volumeId(), v.reference(), plan.manifestDigest(), stored.get().manifestDigest());
      // Released before the quota check, so the old layers count as evictable there.
      volumes.releaseVolume(v.volumeId());
      FileTrees.delete(v.modelDir());
      room = quota.check(plan, v.checkQuota());
    } catch (IOException e) {
      throw Failures.classify("model " + v.reference(), e);
    } catch (RuntimeException e) {
      volumes.releaseVolume(v.volumeId());
      throw e;
    }
    progress.restart();
    try (room) {
      place(plan, v, progress);
    }
    record(resolved, v);
    return plan;
  }

  private static ManifestResolver.Resolution await(Future<ManifestResolver.Resolution> resolving,
      VolumePull v) {
    try {
      return resolving.get();
    } catch (InterruptedException e) {
      resolving.cancel(true);
      Thread.currentThread().interrupt();
      throw new DriverException(ErrorKind.ABORTED, "model " + v.reference()
          + ": pull was interrupted", e);
    } catch (ExecutionException e) {
      throw Failures.classify("model " + v.reference(), e.getCause());
    }
  }

  /** Places the plan's layers from its registry; on failure the volume's references go. */
  private void place(PullPlan plan, VolumePull v, PullProgress progress) {
    boolean ok = false;
    try {
      placer.place(plan, v, registry.blobs(plan.reference()), progress);
      ok = true;
    } finally {
      if (!ok) {
        volumes.releaseVolume(v.volumeId());
      }
    }
  }

  /**
   * Writes the volume's record (one write per pull) and remembers what the reference resolved
   * to. On failure the volume's references are released.
   */
  private void record(ManifestResolver.Resolution resolved, VolumePull v) {
    PullPlan plan = resolved.plan();
    List<VolumeRecord.Layer> layers = plan.layers().stream()
        .map(l -> new VolumeRecord.Layer(l.layer().digest(), l.storeRequest().key().kind(),
            l.path() == null ? List.of() : List.of(l.path())))
        .toList();
    try {
      volumes.recordVolume(v.volumeDir(), new VolumeRecord(v.volumeId(),
          plan.reference().toString(), plan.manifestDigest(), clock.instant(), layers));
    } catch (IOException | RuntimeException e) {
      volumes.releaseVolume(v.volumeId());
      throw Failures.classify("model " + plan.reference(), e);
    }
    try {
      manifests.recordManifest(v.reference().toString(), plan.manifestDigest(),
          resolved.namedDigest(), plan.rawManifest(),
          registry.client().readableAnonymously(plan.reference()));
    } catch (IOException | RuntimeException e) {
      log.warn("could not record the manifest of {}: {}", v.reference(), e.getMessage());
    }
  }

  /** What keeps a pulled volume's files from matching its record; empty when they match. */
  public Optional<String> checkPlaced(Path volumeDir, Path modelDir, String manifestDigest)
      throws IOException {
    return volumes.checkPlaced(volumeDir, modelDir, manifestDigest);
  }

  /** The volume no longer uses anything from the store. */
  public void release(String volumeId) {
    volumes.releaseVolume(volumeId);
  }
}

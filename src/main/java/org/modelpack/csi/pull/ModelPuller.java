package org.modelpack.csi.pull;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.config.Mirror;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistryException;
import org.modelpack.csi.registry.ResolvedManifest;
import org.modelpack.csi.store.LayerRequest;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.PlacementMethod;
import org.modelpack.csi.store.RecordedManifest;
import org.modelpack.csi.store.StoreEntry;
import org.modelpack.csi.store.Ticket;
import org.modelpack.csi.store.VolumeRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls a model into a volume: resolve the reference, plan the layers, then get each layer from
 * the node's {@link LayerStore} (which downloads it once per node) and link it into the volume.
 * Every blob is verified before any file from it becomes visible; a failure removes the volume's
 * references so nothing it asked for stays pinned.
 */
public final class ModelPuller {
  private static final Logger log = LoggerFactory.getLogger(ModelPuller.class);
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** Runs the registry checks of warm pulls next to their placing; idle threads go away. */
  private static final ExecutorService CHECKS = Executors.newCachedThreadPool(
      DaemonThreads.named("manifest-check"));

  private final RegistryClient client;
  private final RegistryClient oneAttempt;
  private Map<String, List<Mirror>> mirrors = Map.of();
  private final LayerStore store;
  private final PlanCache plans;
  private final int concurrency;
  private final Clock clock;
  private final DiskQuota quota;

  public ModelPuller(RegistryClient client, LayerStore store, int concurrency, Clock clock) {
    this(client, store, concurrency, clock, DiskQuota.off(store));
  }

  public ModelPuller(RegistryClient client, LayerStore store, int concurrency, Clock clock,
      DiskQuota quota) {
    this(client, store, new PlanCache(), concurrency, clock, quota);
  }

  private ModelPuller(RegistryClient client, LayerStore store, PlanCache plans,
      int concurrency, Clock clock, DiskQuota quota) {
    this.client = client;
    this.oneAttempt = client.withoutRetries();
    this.store = store;
    this.plans = plans;
    this.concurrency = concurrency;
    this.clock = clock;
    this.quota = quota;
  }

  /**
   * Fetches the manifest and plans the layers {@code filter} keeps. When the registry cannot be
   * reached, the manifest this reference resolved to at its last successful pull on this node
   * ({@code recorded}) is used instead, so a model whose layers are all in the store still
   * mounts. With a record to fall back on, the registry gets one attempt (no backoff first): an
   * unreachable registry then costs nothing. Only a model its registry served without
   * credentials is served from the record: a volume's credentials cannot be checked while the
   * registry is away.
   */
  private Resolution resolve(Reference reference, LayerFilter filter,
      Optional<RecordedManifest> recorded) {
    for (Mirror m : mirrors.getOrDefault(reference.registry(), List.of())) {
      try {
        ResolvedManifest viaMirror = oneAttempt.fetchManifest(on(m, reference));
        return new Resolution(plans.plan(new ResolvedManifest(
            reference.withDigest(viaMirror.digest()), viaMirror.digest(), viaMirror.manifest(),
            viaMirror.raw()), filter), viaMirror.namedDigest());
      } catch (RegistryException e) {
        log.warn("mirror {} could not serve {} ({}); trying the next endpoint", m.host(),
            reference, e.getMessage());
      }
    }
    try {
      // One attempt only when the record could really stand in for the registry.
      RegistryClient c = recorded.isPresent() && recorded.get().anonymousReadable()
          ? oneAttempt : client;
      if (recorded.isPresent()) {
        Optional<PullPlan> unchanged = unchangedSinceRecorded(reference, recorded.get(),
            filter);
        if (unchanged.isPresent()) {
          return new Resolution(unchanged.get(), recorded.get().namedDigest());
        }
      }
      ResolvedManifest fetched = c.fetchManifest(reference);
      return new Resolution(plans.plan(fetched, filter), fetched.namedDigest());
    } catch (RegistryException e) {
      if (e.kind() == RegistryException.Kind.UNAVAILABLE && recorded.isPresent()) {
        if (!recorded.get().anonymousReadable()) {
          throw new DriverException(ErrorKind.UNAVAILABLE, "model " + reference + ": "
              + e.getMessage() + "; its repository needs credentials, which cannot be checked "
              + "while the registry is unreachable, so the copy on this node is not used", e);
        }
        Optional<PullPlan> offline = recordedPlan(recorded.get(), reference, filter);
        if (offline.isPresent()) {
          log.warn("registry unreachable for {} ({}); using the manifest {} recorded at the last "
              + "pull", reference, e.getMessage(), offline.get().manifestDigest());
          return new Resolution(offline.get(), recorded.get().namedDigest());
        }
      }
      throw Failures.classify("model " + reference, e);
    } catch (Exception e) {
      throw Failures.classify("model " + reference, e);
    }
  }

  /**
   * The recorded plan when a HEAD request says the reference still names the recorded manifest
   * (whose bytes were verified when they were recorded). Empty when it names another one, the
   * registry gives no digest, or the HEAD fails in any way: it is only a shortcut, so it gets
   * one attempt and every failure is left to the full fetch that follows, with its own retries,
   * error body and offline rule.
   */
  private Optional<PullPlan> unchangedSinceRecorded(Reference reference,
      RecordedManifest recorded, LayerFilter filter) {
    try {
      if (oneAttempt.headManifestDigest(reference).filter(recorded.namedDigest()::equals)
          .isEmpty()) {
        return Optional.empty();
      }
    } catch (RegistryException e) {
      log.debug("HEAD of {} failed ({}); fetching the manifest", reference, e.getMessage());
      return Optional.empty();
    }
    return recordedPlan(recorded, reference, filter);
  }

  /**
   * Endpoints tried, one attempt each, before a registry itself (mirrors, pull-through caches, a
   * Dragonfly dfdaemon proxy); any failure there falls through to the next and finally to the
   * registry. Set once at start.
   */
  public ModelPuller withMirrors(Map<String, List<Mirror>> mirrorsByRegistry) {
    this.mirrors = Map.copyOf(mirrorsByRegistry);
    return this;
  }

  /**
   * This puller with a pod's registry credentials (its node-publish secrets), which take
   * precedence over the node's; itself when the secrets hold none.
   */
  public ModelPuller withSecrets(java.util.Map<String, String> secrets, String registry) {
    return org.modelpack.csi.registry.auth.PodSecretCredentials
        .from(secrets, client.nodeCredentials(), registry)
        .map(creds -> new ModelPuller(client.withCredentials(creds), store, plans,
            concurrency, clock, quota).withMirrors(mirrors))
        .orElse(this);
  }

  /**
   * Refuses the plan with RESOURCE_EXHAUSTED, before any download, when the volume asked for a
   * quota check ({@code check-disk-quota}), quotas are enabled and the model does not fit;
   * else holds its room until the reservation is closed.
   */
  private DiskQuota.Reservation checkQuota(PullPlan plan, boolean requested) {
    return quota.check(plan, requested);
  }

  private Optional<PullPlan> recordedPlan(RecordedManifest recorded, Reference reference,
      LayerFilter filter) {
    Reference pinned = reference.withDigest(recorded.digest());
    try {
      return Optional.of(plans.plan(pinned, recorded.digest(), filter, () -> {
        try {
          return new ResolvedManifest(pinned, recorded.digest(),
              JSON.readValue(recorded.raw(), Manifest.class), recorded.raw());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    } catch (RuntimeException e) {
      log.warn("recorded manifest of {} is unusable: {}", reference, e.getMessage());
      return Optional.empty();
    }
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
   * mount, only follow the registry's answer (or the offline rule of {@code resolve}).
   */
  public PullPlan pull(VolumePull v, PullProgress progress) {
    Optional<RecordedManifest> recorded = store.recordedManifest(v.reference().toString());
    // Only links are made before the registry answers: a writable volume's private copies
    // (the whole model's bytes) wait for its credentials to be accepted.
    Optional<PullPlan> stored = v.privateCopies() ? Optional.empty() : recorded
        .flatMap(r -> recordedPlan(r, v.reference(), v.filter()))
        .filter(p -> p.layers().stream().allMatch(l -> store.isStored(request(l).key())));
    if (stored.isEmpty()) {
      Resolution resolved = resolveLogged(v, recorded);
      try (DiskQuota.Reservation room = checkQuota(resolved.plan(), v.checkQuota())) {
        place(resolved.plan(), v, progress);
      }
      record(resolved, v);
      return resolved.plan();
    }
    Future<Resolution> resolving = CHECKS.submit(() -> resolveLogged(v, recorded));
    try {
      place(stored.get(), v, progress);
    } catch (RuntimeException e) {
      resolving.cancel(true);
      throw e;
    }
    Resolution resolved;
    PullPlan plan;
    DiskQuota.Reservation room;
    try {
      resolved = await(resolving, v);
      plan = resolved.plan();
      if (plan.manifestDigest().equals(stored.get().manifestDigest())) {
        // Every layer was stored when it was placed: nothing to add, so nothing to hold.
        checkQuota(plan, v.checkQuota()).close();
        record(resolved, v);
        return plan;
      }
      log.info("volume {}: {} now names {}, not {} as at its last pull on this node",
          v.volumeId(), v.reference(), plan.manifestDigest(), stored.get().manifestDigest());
      // Released before the quota check, so the old layers count as evictable there.
      store.releaseVolume(v.volumeId());
      FileTrees.delete(v.modelDir());
      room = checkQuota(plan, v.checkQuota());
    } catch (IOException e) {
      throw Failures.classify("model " + v.reference(), e);
    } catch (RuntimeException e) {
      store.releaseVolume(v.volumeId());
      throw e;
    }
    progress.restart();
    try (room) {
      place(plan, v, progress);
    }
    record(resolved, v);
    return plan;
  }

  /** A plan, and the digest the reference named when it was resolved (an index's, maybe). */
  private record Resolution(PullPlan plan, String namedDigest) {}

  private Resolution resolveLogged(VolumePull v, Optional<RecordedManifest> recorded) {
    long started = System.nanoTime();
    Resolution resolved = resolve(v.reference(), v.filter(), recorded);
    PullPlan plan = resolved.plan();
    log.info("volume {}: pulling {} ({} layers, {} bytes, manifest {}{}; resolved in {} ms)",
        v.volumeId(), v.reference(), plan.layers().size(), plan.totalBytes(),
        plan.manifestDigest(), plan.filter().enabled() ? "; " + plan.excludedLayers()
            + " layers left out by " + plan.filter() : "",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return resolved;
  }

  private static Resolution await(Future<Resolution> resolving, VolumePull v) {
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

  /**
   * Makes every layer of {@code plan} appear in the volume's model directory. Layers already in
   * the store are linked on this thread (unless they are to be copied); the others are fetched
   * through the store, up to the pull's concurrency at once. On failure the volume's references
   * are released.
   */
  private void place(PullPlan plan, VolumePull v, PullProgress progress) {
    progress.total(plan.totalBytes());
    String context = "model " + plan.reference();
    ExecutorService pool = null;
    List<Future<Set<PlacementMethod>>> futures = new ArrayList<>();
    boolean ok = false;
    try {
      // Pods see the model directory's own mode through the mount; the umask has no say.
      Dirs.create(v.modelDir(), Dirs.SHARED);
      Map<PlacementMethod, Integer> methods = new EnumMap<>(PlacementMethod.class);
      // Results are taken in completion order, so the first failing layer fails the pull at once
      // instead of after every layer submitted before it.
      CompletionService<Set<PlacementMethod>> done = null;
      List<LayerPlan> stored = new ArrayList<>();
      for (LayerPlan layer : plan.layers()) {
        // A stored layer is a few links, placed here; private copies are real work, for the pool.
        if (!v.privateCopies() && store.isStored(request(layer).key())) {
          stored.add(layer);
          continue;
        }
        if (pool == null) {
          pool = Executors.newFixedThreadPool(Math.max(1,
              Math.min(concurrency, plan.layers().size())), DaemonThreads.named("pull"));
          done = new ExecutorCompletionService<>(pool);
        }
        futures.add(done.submit(() -> pullLayer(plan.reference(), layer, v, progress)));
      }
      // The downloads are under way; the stored layers are placed meanwhile, on this thread.
      for (LayerPlan layer : stored) {
        pullLayer(plan.reference(), layer, v, progress)
            .forEach(m -> methods.merge(m, 1, Integer::sum));
      }
      for (int i = 0; i < futures.size(); i++) {
        done.take().get().forEach(m -> methods.merge(m, 1, Integer::sum));
      }
      log.info("volume {}: {} layers of {} placed ({})", v.volumeId(), plan.layers().size(),
          plan.reference(), methods);
      ok = true;
    } catch (ExecutionException e) {
      throw Failures.classify(context, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DriverException(ErrorKind.ABORTED, context + ": pull was interrupted", e);
    } catch (IOException e) {
      throw Failures.classify(context, e);
    } finally {
      futures.forEach(f -> f.cancel(true));
      if (pool != null) {
        pool.shutdownNow();
        awaitQuietly(pool);
      }
      if (!ok) {
        store.releaseVolume(v.volumeId());
      }
    }
  }

  /**
   * Writes the volume's record (one write per pull) and remembers what the reference resolved
   * to. On failure the volume's references are released.
   */
  private void record(Resolution resolved, VolumePull v) {
    PullPlan plan = resolved.plan();
    List<VolumeRecord.Layer> layers = plan.layers().stream()
        .map(l -> new VolumeRecord.Layer(l.layer().digest(),
            request(l).key().kind(), l.path() == null ? List.of() : List.of(l.path())))
        .toList();
    try {
      store.recordVolume(v.volumeDir(), new VolumeRecord(v.volumeId(),
          plan.reference().toString(), plan.manifestDigest(), clock.instant(), layers));
    } catch (IOException | RuntimeException e) {
      store.releaseVolume(v.volumeId());
      throw Failures.classify("model " + plan.reference(), e);
    }
    recordManifest(v.reference(), resolved);
  }

  /** What keeps a pulled volume's files from matching its record; empty when they match. */
  public Optional<String> checkPlaced(Path volumeDir, Path modelDir, String manifestDigest)
      throws IOException {
    return store.checkPlaced(volumeDir, modelDir, manifestDigest);
  }

  /** The volume no longer uses anything from the store. */
  public void release(String volumeId) {
    store.releaseVolume(volumeId);
  }

  private Set<PlacementMethod> pullLayer(Reference ref, LayerPlan layer, VolumePull v,
      PullProgress progress) throws IOException, InterruptedException {
    long started = System.nanoTime();
    try {
      Set<PlacementMethod> used;
      StoreEntry entry = fetch(ref, layer, v, progress);
      try {
        used = store.materialize(entry, v.modelDir(), layer.path(), v.privateCopies());
      } catch (NoSuchFileException e) {
        // The entry's file went away: forgotten, so the fetch downloads it again (or finds the
        // copy another pull fetched meanwhile). One more try only.
        store.forgetIfVanished(entry);
        // Counted once already (as present): the progress does not count it twice.
        used = store.materialize(fetch(ref, layer, v, new PullProgress()), v.modelDir(),
            layer.path(), v.privateCopies());
      }
      log.debug("volume {}: {} ready in {} ms via {}", v.volumeId(), layer.describe(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), used);
      return used;
    } catch (IOException | RuntimeException e) {
      throw Failures.classify("model " + ref + ", " + layer.describe(), e);
    }
  }

  /** The layer's store entry: at hand, joined in flight, or downloaded now. */
  private StoreEntry fetch(Reference ref, LayerPlan layer, VolumePull v, PullProgress progress)
      throws IOException, InterruptedException {
    Ticket ticket = store.request(v.volumeId(), request(layer),
        dest -> download(ref, layer, dest));
    progress.track(ticket, layer.layer().size());
    return ticket.await();
  }

  private void download(Reference ref, LayerPlan layer, Path dest) throws IOException {
    for (Mirror m : mirrors.getOrDefault(ref.registry(), List.of())) {
      try {
        oneAttempt.downloadBlob(on(m, ref), layer.layer(), dest);
        return;
      } catch (RegistryException e) {
        log.warn("mirror {} could not serve {} of {} ({}); trying the next endpoint", m.host(),
            layer.layer().digest(), ref, e.getMessage());
      }
    }
    client.downloadBlob(ref, layer.layer(), dest);
  }

  /** {@code ref} as served by mirror {@code m}: same repository, other host. */
  private static Reference on(Mirror m, Reference ref) {
    return new Reference(m.host(), ref.repository(), ref.tag(), ref.digest());
  }

  static LayerRequest request(LayerPlan layer) {
    return new LayerRequest(layer.layer().digest(), layer.format(), layer.layer().size(),
        layer.metadata() != null && layer.metadata().executable(),
        layer.metadata() == null ? null : layer.metadata().mtime());
  }

  private void recordManifest(Reference requested, Resolution resolved) {
    PullPlan plan = resolved.plan();
    try {
      store.recordManifest(requested.toString(), plan.manifestDigest(), resolved.namedDigest(),
          plan.rawManifest(), client.readableAnonymously(plan.reference()));
    } catch (IOException | RuntimeException e) {
      log.warn("could not record the manifest of {}: {}", requested, e.getMessage());
    }
  }

  private static void awaitQuietly(ExecutorService pool) {
    try {
      if (!pool.awaitTermination(5, TimeUnit.MINUTES)) {
        log.warn("layer placement did not stop within 5 minutes after cancellation");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

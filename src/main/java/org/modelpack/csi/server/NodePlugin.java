package org.modelpack.csi.server;

import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.modelpack.csi.admin.StoreAdminService;
import org.modelpack.csi.admin.VolumeAdminService;
import org.modelpack.csi.config.DriverConfig;
import org.modelpack.csi.config.PullConfig;
import org.modelpack.csi.csi.ControllerService;
import org.modelpack.csi.csi.CsiServer;
import org.modelpack.csi.csi.IdentityService;
import org.modelpack.csi.csi.NodeService;
import org.modelpack.csi.dynamic.DynamicVolumes;
import org.modelpack.csi.events.PodEvents;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.metrics.DriverMetrics;
import org.modelpack.csi.mount.MountTable;
import org.modelpack.csi.mount.Mounter;
import org.modelpack.csi.pull.DiskQuota;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.registry.MirroredRegistry;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.registry.RetryPolicy;
import org.modelpack.csi.store.EvictionPolicy;
import org.modelpack.csi.store.ExpansionLimits;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreLayout;
import org.modelpack.csi.volume.NodeOps;
import org.modelpack.csi.volume.Prefetcher;
import org.modelpack.csi.volume.TargetGuard;
import org.modelpack.csi.volume.VolumeManager;
import org.modelpack.csi.volume.VolumeSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the node plugin together from a config and serves CSI until closed; with
 * {@code mode: all} the Controller is served on the same socket.
 */
public final class NodePlugin implements Plugin {
  private static final Logger log = LoggerFactory.getLogger(NodePlugin.class);
  /** The internal volumes of node prefetches, inside root_dir (docs/decisions/1141). */
  static final String PREFETCH_DIR = "prefetch";

  private final DriverConfig config;
  private final RegistryClient registry;
  private final LayerStore store;
  private final VolumeManager volumes;
  private final Prefetcher prefetcher;
  private final DynamicVolumes dynamic;
  private final CsiServer server;
  private final DriverMetrics.Serving metrics;
  /** Held while this plugin runs: no other driver may use its directories meanwhile. */
  private final List<AutoCloseable> locks;
  private final CompletableFuture<Boolean> publishPathWarmup;

  private NodePlugin(DriverConfig config, RegistryClient registry, LayerStore store,
      VolumeManager volumes, Prefetcher prefetcher, DynamicVolumes dynamic, CsiServer server,
      DriverMetrics.Serving metrics, List<AutoCloseable> locks,
      CompletableFuture<Boolean> publishPathWarmup) {
    this.publishPathWarmup = publishPathWarmup;
    this.dynamic = dynamic;
    this.locks = locks;
    this.metrics = metrics;
    this.config = config;
    this.registry = registry;
    this.store = store;
    this.volumes = volumes;
    this.prefetcher = prefetcher;
    this.server = server;
  }

  /** Sends Kubernetes Events on the pods it publishes to when it runs in a cluster. */
  public static NodePlugin start(DriverConfig config) throws IOException {
    return start(config, PodEvents.inCluster(config.serviceName(), config.nodeId()));
  }

  /** Sends the pods' Events through {@code events}, which the plugin closes when it closes. */
  public static NodePlugin start(DriverConfig config, PodEvents events) throws IOException {
    // root_dir first, and locked before anything in it is cleaned or listened on.
    List<AutoCloseable> locks = new ArrayList<>();
    // Closed with the locks, so after the volumes, which may still report to it.
    locks.add(events);
    try {
      Path root = Dirs.ownConfigured(config.rootDir(), Dirs.SHARED);
      locks.add(RootDirLock.take(root, "root_dir"));
      return start(config, root, locks, events);
    } catch (IOException | RuntimeException | Error e) {
      closeQuietly(locks);
      throw e;
    }
  }

  private static NodePlugin start(DriverConfig config, Path root, List<AutoCloseable> locks,
      PodEvents events) throws IOException {
    Path storeDir = Dirs.ownConfigured(config.cache().dir(), Dirs.PRIVATE);
    // Whatever its mode was: models pulled with credentials are nobody else's to read.
    Files.setPosixFilePermissions(storeDir, Dirs.PRIVATE);
    if (!storeDir.startsWith(root)) {
      locks.add(RootDirLock.take(storeDir, "cache.dir"));
    }
    // Real paths: the mount table shows real paths, and volumes are matched against it.
    Path volumesDir = Dirs.own(root.resolve(DriverConfig.VOLUMES_DIR), Dirs.PRIVATE)
        .toRealPath();
    Path stagingDir = Dirs.own(root.resolve("staging"), Dirs.PRIVATE);
    Path socketDir = Dirs.create(config.csiEndpoint().toAbsolutePath().getParent(),
        CsiServer.SOCKET_DIR).toRealPath();
    HashWarmup.startInBackground();
    MountTable mounts = new MountTable();
    // Clears staging mounts a previous process left, before they could make a volume look used.
    Mounter mounter = Mounter.forThisNode(mounts, stagingDir);
    VolumeManager.recover(volumesDir, mounts);
    PullConfig pull = config.pull();
    RegistryClient registry = new RegistryClient(new RegistrySettings(
        pull.dockerConfigDir(), pull.plainHttpRegistries(), pull.proxyUrl(),
        RegistrySettings.DEFAULT_CONNECT_TIMEOUT, Version.userAgent(),
        new RetryPolicy(pull.retryAttempts(), pull.retryInitialBackoff(),
            pull.retryMaxBackoff()),
        pull.stallTimeout(), pull.parallelDownloadThreshold(),
        pull.parallelDownloadConnections()));
    LayerStore store = LayerStore.open(new StoreLayout(storeDir), volumesDir,
        config.pull().nodeLayerConcurrency(), new EvictionPolicy(config.cache().maxSizeBytes(),
            config.cache().highWatermarkPercent(), config.cache().lowWatermarkPercent()),
        Clock.systemUTC(), new ExpansionLimits(pull.maxExpansionRatio(),
            config.features().diskUsageLimitBytes()));
    ModelPuller puller = new ModelPuller(
        new MirroredRegistry(registry, config.pull().mirrors()), store,
        config.pull().concurrency(), Clock.systemUTC(), new DiskQuota(store,
            config.features().checkDiskQuota(), config.features().diskUsageLimitBytes()));
    DriverMetrics driverMetrics = DriverMetrics.create(config.metricsAddr())
        .countDroppedEvents(events::dropped)
        .countRegistryRetries(registry.stats())
        .storeBudget(config.cache().maxSizeBytes());
    TargetGuard guard = new TargetGuard(List.of(root, storeDir, socketDir));
    VolumeManager volumes = new VolumeManager(volumesDir, () -> puller, mounter, guard,
        Clock.systemUTC(),
        new VolumeSettings(config.pull().publishWait(), config.pull().orphanTimeout()),
        NodeOps.both(driverMetrics.nodeOps(), events));
    DynamicVolumes dynamic;
    try {
      // Before the CSI socket: a live dynamic volume has its API socket again when kubelet
      // can call.
      dynamic = DynamicVolumes.start(root, volumesDir, mounter, guard, volumes, registry,
          Clock.systemUTC());
    } catch (IOException | RuntimeException e) {
      closeQuietly(List.of(volumes, store, registry));
      throw e;
    }
    // The store was rebuilt above, before the socket opens: Probe only ever sees a store that is
    // ready, and answers for the disks (docs/decisions/1040-health.md).
    Prefetcher prefetcher = Prefetcher.open(root.resolve(PREFETCH_DIR), () -> puller);
    BooleanSupplier ready = new WritableRoot(stagingDir, List.of(volumesDir, storeDir));
    List<BindableService> services = new ArrayList<>(List.of(
        new IdentityService(config.serviceName(), Version.get(), ready,
            config.mode().servesController()),
        new NodeService(config.nodeId(), config.serviceName(), volumes, dynamic),
        new StoreAdminService(store, prefetcher),
        new VolumeAdminService(volumes)));
    if (config.mode().servesController()) {
      services.add(new ControllerService(config.serviceName()));
    }
    DriverMetrics.Serving metrics = DriverMetrics.Serving.NOTHING;
    CsiServer server;
    try {
      metrics = driverMetrics.serve(store, volumes, ready);
      server = CsiServer.start(config.csiEndpoint(), services);
    } catch (IOException | RuntimeException e) {
      // A port or socket that cannot be had stops the start: release what is already open.
      closeQuietly(List.of(metrics, prefetcher, dynamic, volumes, store, registry));
      throw e;
    }
    CompletableFuture<Boolean> warmup = PublishPathWarmup.startInBackground(
        config.csiEndpoint());
    log.info("{} {} serving node {} with root_dir {}{}", config.serviceName(), Version.get(),
        config.nodeId(), config.rootDir(),
        config.mode().servesController() ? " and the controller" : "");
    return new NodePlugin(config, registry, store, volumes, prefetcher, dynamic, server, metrics,
        locks, warmup);
  }

  private static void closeQuietly(List<AutoCloseable> closeables) {
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("cannot release {}: {}", c, e.toString());
      }
    }
  }

  /** Completes once the background warm-up of the publish path ended: true if it ran fully. */
  public CompletableFuture<Boolean> publishPathWarmup() {
    return publishPathWarmup;
  }

  public DriverConfig config() {
    return config;
  }

  public LayerStore store() {
    return store;
  }

  public VolumeManager volumes() {
    return volumes;
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    store.stopping(); // the pulls cancelled below keep their downloads for the next start
    server.close();
    metrics.close();
    prefetcher.close();
    dynamic.close();
    volumes.close();
    store.close();
    registry.close();
    closeQuietly(locks);
  }
}

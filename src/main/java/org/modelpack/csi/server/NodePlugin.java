package org.modelpack.csi.server;

import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.modelpack.csi.admin.StoreAdminService;
import org.modelpack.csi.config.DriverConfig;
import org.modelpack.csi.config.PullConfig;
import org.modelpack.csi.csi.CsiServer;
import org.modelpack.csi.csi.IdentityService;
import org.modelpack.csi.csi.NodeService;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.mount.MountTable;
import org.modelpack.csi.mount.Mounter;
import org.modelpack.csi.pull.DiskQuota;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.registry.RetryPolicy;
import org.modelpack.csi.store.EvictionPolicy;
import org.modelpack.csi.store.ExpansionLimits;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreLayout;
import org.modelpack.csi.volume.StatusStore;
import org.modelpack.csi.volume.VolumeManager;
import org.modelpack.csi.volume.VolumeSettings;
import org.modelpack.csi.volume.VolumeState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the node plugin together from a config and serves CSI until closed. */
public final class NodePlugin implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodePlugin.class);

  private final DriverConfig config;
  private final RegistryClient registry;
  private final LayerStore store;
  private final VolumeManager volumes;
  private final CsiServer server;

  private NodePlugin(DriverConfig config, RegistryClient registry, LayerStore store,
      VolumeManager volumes, CsiServer server) {
    this.config = config;
    this.registry = registry;
    this.store = store;
    this.volumes = volumes;
    this.server = server;
  }

  public static NodePlugin start(DriverConfig config) throws IOException {
    // Real path: the mount table shows real paths, and volumes are matched against it.
    Path volumesDir = Files.createDirectories(config.volumesDir()).toRealPath();
    HashWarmup.startInBackground();
    MountTable mounts = new MountTable();
    // Clears staging mounts a previous process left, before they could make a volume look used.
    Mounter mounter = Mounter.forThisNode(mounts, config.rootDir().resolve("staging"));
    removeInterruptedPulls(volumesDir, mounts);
    PullConfig pull = config.pull();
    RegistryClient registry = new RegistryClient(new RegistrySettings(
        pull.dockerConfigDir(), pull.plainHttpRegistries(), pull.proxyUrl(),
        Duration.ofSeconds(30), "model-csi-driver/" + Version.get(),
        new RetryPolicy(pull.retryAttempts(), pull.retryInitialBackoff(),
            pull.retryMaxBackoff()),
        pull.stallTimeout(), pull.parallelDownloadThreshold(),
        pull.parallelDownloadConnections()));
    LayerStore store = LayerStore.open(new StoreLayout(config.cache().dir()), volumesDir,
        config.pull().nodeLayerConcurrency(), new EvictionPolicy(config.cache().maxSizeBytes(),
            config.cache().highWatermarkPercent(), config.cache().lowWatermarkPercent()),
        Clock.systemUTC(), new ExpansionLimits(pull.maxExpansionRatio(),
            config.features().diskUsageLimitBytes()));
    ModelPuller puller = new ModelPuller(registry, store, config.pull().concurrency(),
        Clock.systemUTC(), new DiskQuota(store, config.features().checkDiskQuota(),
            config.features().diskUsageLimitBytes())).withMirrors(config.pull().mirrors());
    VolumeManager volumes = new VolumeManager(volumesDir, () -> puller,
        mounter, Clock.systemUTC(), new VolumeSettings(config.pull().publishWait(),
            config.pull().orphanTimeout()));
    List<BindableService> services = List.of(
        new IdentityService(config.serviceName(), Version.get(),
            () -> Files.isDirectory(volumesDir) && Files.isWritable(volumesDir)),
        new NodeService(config.nodeId(), config.serviceName(), volumes),
        new StoreAdminService(store));
    CsiServer server = CsiServer.start(config.csiEndpoint(), services);
    log.info("{} {} serving node {} with root_dir {}", config.serviceName(), Version.get(),
        config.nodeId(), config.rootDir());
    return new NodePlugin(config, registry, store, volumes, server);
  }

  /**
   * A volume that never reached MOUNTED (its pull or mount was cut short by the previous
   * process) has nobody finishing it; kubelet's retry starts it afresh, so its data goes now
   * rather than lingering.
   */
  private static void removeInterruptedPulls(Path volumesDir, MountTable mounts)
      throws IOException {
    StatusStore statuses = new StatusStore();
    try (Stream<Path> dirs = Files.list(volumesDir)) {
      for (Path dir : dirs.toList()) {
        boolean interrupted = statuses.read(dir)
            .map(s -> s.state() != VolumeState.MOUNTED).orElse(true);
        if (interrupted && Files.isDirectory(dir) && !mounts.isInUse(dir)) {
          log.warn("removing {}: its pull was interrupted by a restart", dir);
          FileTrees.delete(dir);
        }
      }
    }
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

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    server.close();
    volumes.close();
    store.close();
    registry.close();
  }
}

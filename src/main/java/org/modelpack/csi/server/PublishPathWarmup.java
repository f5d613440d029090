package org.modelpack.csi.server;

import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.volume.VolumeStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs, once after the CSI socket opens and in the background, the code a publish of a model
 * already in the store runs, minus anything with an effect: without it the first publish after
 * a start loaded some 1,600 classes (the gRPC server's HTTP/2 and buffer code, protobuf, the CSI
 * messages, Jackson's serializers for the status file) and took 300-700 ms instead of ~25.
 *
 * <p>What it does: first, loads without initialising the jar classes further down a publish
 * ({@link PublishPathClasses}); then gRPC calls to its own socket that only read (plugin info
 * and capabilities, node info and capabilities: kubelet makes the same ones, nothing is counted
 * or changed; not Probe, which creates and deletes a file in root_dir to prove the disk
 * writable); a round trip through protobuf of a publish and an unpublish request (in memory,
 * never sent); a status record and a manifest through Jackson, in memory. It writes no file
 * (tests and operators compare root_dir before and after, and a scratch directory there would
 * show in between) and never publishes, mounts or touches a volume, the store or the registry.
 */
final class PublishPathWarmup {
  private static final Logger log = LoggerFactory.getLogger(PublishPathWarmup.class);
  /** Enough calls for every class on the path to load and the hottest methods to compile. */
  private static final int ROUNDS = 40;
  private static final String MANIFEST = """
      {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
       "artifactType":"application/vnd.cncf.model.manifest.v1+json",
       "config":{"mediaType":"application/vnd.cncf.model.config.v1+json",
        "digest":"sha256:%1$s","size":2},
       "layers":[{"mediaType":"application/vnd.cncf.model.weight.v1.raw",
        "digest":"sha256:%1$s","size":2,
        "annotations":{"org.cncf.model.filepath":"model.safetensors"}}]}
      """.formatted("0".repeat(64));

  private PublishPathWarmup() {}

  /** Starts the warm-up against the driver's socket; completes with whether it ran to its end. */
  static CompletableFuture<Boolean> startInBackground(Path socket) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    Thread t = new Thread(() -> done.complete(run(socket)), "publish-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
    return done;
  }

  private static boolean run(Path socket) {
    long start = System.nanoTime();
    try {
      // Classes first: a publish arriving as the socket opens loads the gRPC server's own
      // classes meanwhile, and finds these loaded when it gets to the plan and the mount.
      int missing = PublishPathClasses.load();
      messages();
      records();
      calls(socket);
      log.info("publish path warmed up in {} ms{}", (System.nanoTime() - start) / 1_000_000,
          missing == 0 ? "" : " (" + missing + " listed classes not found)");
      return true;
    } catch (Exception | LinkageError e) {
      // Not a warning: only the first publish is slower for it, and a driver stopped within
      // its first seconds closes the socket under the warm-up's calls.
      log.info("publish path warm-up stopped early: {}", e.toString());
      return false;
    }
  }

  private static void messages() throws IOException {
    for (int i = 0; i < ROUNDS; i++) {
      NodePublishVolumeRequest publish = NodePublishVolumeRequest.newBuilder()
          .setVolumeId("warmup").setTargetPath("/warmup").setReadonly(true)
          .setVolumeCapability(VolumeCapability.newBuilder()
              .setMount(VolumeCapability.MountVolume.getDefaultInstance())
              .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                  .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_READER_ONLY)))
          .putVolumeContext("csi.storage.k8s.io/ephemeral", "true")
          .putVolumeContext("model.csi.modelpack.org/reference", "registry.invalid/m:v1")
          .build();
      NodePublishVolumeRequest.parseFrom(publish.toByteArray());
      NodeUnpublishVolumeRequest.parseFrom(NodeUnpublishVolumeRequest.newBuilder()
          .setVolumeId("warmup").setTargetPath("/warmup").build().toByteArray());
    }
  }

  private static void records() throws IOException {
    Instant now = Instant.now();
    for (int i = 0; i < ROUNDS; i++) {
      VolumeStatus status = VolumeStatus.pulling("warmup", "registry.invalid/m:v1", now)
          .pulled("sha256:" + "0".repeat(64), now).addTarget("/warmup", true, now);
      Json.mapper().readValue(Json.mapper().writeValueAsBytes(status), VolumeStatus.class);
      Manifest.parse(MANIFEST.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void calls(Path socket) {
    try (CsiClient client = new CsiClient(socket)) {
      for (int i = 0; i < ROUNDS; i++) {
        var identity = client.identity().withDeadlineAfter(10, TimeUnit.SECONDS);
        var node = client.node().withDeadlineAfter(10, TimeUnit.SECONDS);
        identity.getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
        identity.getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance());
        node.nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
        node.nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance());
      }
    }
  }
}

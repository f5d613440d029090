package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.NodeUnstageVolumeRequest;
import csi.v1.Csi.Volume;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.dynamic.DynamicApiClient;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.Scrape;
import org.modelpack.csi.testing.TestNode;

/**
 * The three volume kinds on one node (controller and node on one socket, a real registry, real
 * mounts): an inline volume, a PVC and a dynamic mount of the same model share the node's layer
 * store, so the registry serves each layer once, and each is counted in its kind's gauge.
 */
class OneStoreForEveryVolumeKindIT extends NodesWithRegistry {
  private static final String REFERENCE = CsiRequests.REFERENCE_KEY;

  @Test
  void aModelUsedByAnInlineVolumeAPvcAndADynamicMountIsDownloadedOnceAndCountedByKind() throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-kinds"))
        .rawFile("model.safetensors", 3_000_000, 7).rawFile("config.json", 400, 8)
        .push(pusher, ref("models/kinds:v1"));
    String weights = "sha256:" + model.file("model.safetensors").sha256();
    String config = "sha256:" + model.file("config.json").sha256();
    int port = Scrape.freePort();
    TestNode node = startNode("kinds", "", "mode: all\nmetrics_addr: tcp://127.0.0.1:" + port);
    URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");

    Path inline = target("csi-inline-kinds");
    node.csi.node().nodePublishVolume(CsiRequests.publish("csi-inline-kinds", inline,
        model.reference().toString()).build());

    Volume pvc = node.csi.controller().createVolume(CreateVolumeRequest.newBuilder()
        .setName("pvc-kinds").addVolumeCapabilities(CsiRequests.mountCapability(
            Mode.MULTI_NODE_READER_ONLY))
        .putParameters(REFERENCE, model.reference().toString()).build()).getVolume();
    Path staging = Files.createDirectories(tmp.resolve("kubelet/pv/pvc-kinds/globalmount"));
    node.csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
        .setVolumeId(pvc.getVolumeId()).setStagingTargetPath(staging.toString())
        .setVolumeCapability(CsiRequests.mountCapability(Mode.MULTI_NODE_READER_ONLY))
        .putAllVolumeContext(pvc.getVolumeContextMap()).build());
    Path pvcTarget = target("pvc-kinds-pod");
    node.csi.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder()
        .setVolumeId(pvc.getVolumeId()).setStagingTargetPath(staging.toString())
        .setTargetPath(pvcTarget.toString()).setReadonly(true)
        .setVolumeCapability(CsiRequests.mountCapability(Mode.MULTI_NODE_READER_ONLY))
        .putAllVolumeContext(pvc.getVolumeContextMap()).build());

    Path dynamic = target("csi-dyn-kinds");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-kinds", dynamic));
    try (DynamicApiClient api = DynamicApiClient.connect(dynamic.resolve("csi/csi.sock"))) {
      DynamicApiClient.Answer mounted = api.send("POST",
          "/api/v1/volumes/csi-dyn-kinds/mounts", "{\"mount_id\": \"m\", \"reference\": \""
              + model.reference() + "\"}", Duration.ofSeconds(60));
      assertThat(mounted.status()).as(mounted.body()).isEqualTo(201);
    }

    for (Path modelDir : List.of(inline, pvcTarget, dynamic.resolve("models/m/model"))) {
      assertThat(CsiRequests.sha256(modelDir.resolve("model.safetensors"))).as("%s", modelDir)
          .isEqualTo(model.file("model.safetensors").sha256());
    }
    assertThat(registry.countBlobGets(weights)).as("blob GETs of the weights").isEqualTo(1);
    assertThat(registry.countBlobGets(config)).as("blob GETs of config.json").isEqualTo(1);
    assertThat(node.plugin.store().stats().snapshot().misses())
        .as("layers the store had to download").isEqualTo(2);
    Scrape scrape = Scrape.of(metrics);
    assertThat(scrape.value("model_csi_node_mounted_inline_models")).hasValue(1);
    assertThat(scrape.value("model_csi_node_mounted_pvc_models")).hasValue(1);
    assertThat(scrape.value("model_csi_node_mounted_dynamic_models")).hasValue(1);

    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-dyn-kinds", dynamic));
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish(pvc.getVolumeId(), pvcTarget));
    node.csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
        .setVolumeId(pvc.getVolumeId()).setStagingTargetPath(staging.toString()).build());
    node.csi.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
        .setVolumeId(pvc.getVolumeId()).build());
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-inline-kinds", inline));
    assertThat(mountsUnder(tmp)).isEmpty();
    Scrape after = Scrape.of(metrics);
    assertThat(after.value("model_csi_node_mounted_inline_models")).hasValue(0);
    assertThat(after.value("model_csi_node_mounted_pvc_models")).hasValue(0);
    assertThat(after.value("model_csi_node_mounted_dynamic_models")).hasValue(0);
    try (Stream<Path> volumes = Files.list(node.root.resolve("volumes"))) {
      assertThat(volumes).isEmpty();
    }
  }

  private static List<String> mountsUnder(Path dir) throws Exception {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
      return lines.filter(l -> l.contains(dir.toString())).toList();
    }
  }
}

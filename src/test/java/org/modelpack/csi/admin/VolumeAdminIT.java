package org.modelpack.csi.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import csi.v1.Csi.NodePublishVolumeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.admin.v1.GetVolumeRequest;
import org.modelpack.csi.admin.v1.GetVolumeResponse;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/** GetVolume: what a client waiting for a publish, or unpublishing, learns about a volume. */
class VolumeAdminIT extends NodesWithRegistry {
  private static final String NO_WAIT = """
      pull_config:
        docker_config_dir: %s
        publish_wait_seconds: 0
        stall_timeout: 2s
        retry_initial_backoff: 100ms
      """;

  private TestNode node(String name) throws Exception {
    return closeAfterTest(TestNode.start(tmp.resolve(name), tmp,
        NO_WAIT.formatted(tmp.resolve("no-docker-config"))));
  }

  private static GetVolumeResponse get(TestNode node, String volumeId) {
    return node.csi.volumeAdmin().getVolume(GetVolumeRequest.newBuilder()
        .setVolumeId(volumeId).build());
  }

  private static Status.Code publishCode(TestNode node, NodePublishVolumeRequest req) {
    return CsiRequests.statusOf(() -> node.csi.node().nodePublishVolume(req)).getCode();
  }

  @Test
  void aRunningPullIsDescribedWithItsLiveProgressAndAMountedVolumeWithItsTarget()
      throws Exception {
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a-progress"))
        .rawFile("model.safetensors", 3_000_000, 1)
        .push(pusher, ref("models/progress:v1"));
    long total = a.files().stream().mapToLong(f -> f.size()).sum();
    FaultProxy proxy = closeAfterTest(FaultProxy.start(registry.host()));
    // The weights stop after 1 MB until the driver's stall timeout resumes them: a pull
    // caught in the middle.
    proxy.inject(FaultProxy.on("sha256:" + a.files().get(0).sha256()).stallAfter(1_000_000));
    TestNode node = node("progress");
    Path target = target("csi-progress");
    NodePublishVolumeRequest req = publish("csi-progress", target,
        proxy.host() + "/models/progress:v1").build();

    assertThat(publishCode(node, req)).isEqualTo(Status.Code.ABORTED);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      GetVolumeResponse v = get(node, "csi-progress");
      assertThat(v.getState()).isEqualTo("PULLING");
      assertThat(v.getTotalBytes()).isEqualTo(total);
      assertThat(v.getDoneBytes()).isPositive().isLessThan(total);
    });

    await().atMost(Duration.ofSeconds(60)).until(() -> publishCode(node, req) == Status.Code.OK);
    GetVolumeResponse mounted = get(node, "csi-progress");
    assertThat(mounted.getState()).isEqualTo("MOUNTED");
    assertThat(mounted.getReference()).isEqualTo(proxy.host() + "/models/progress:v1");
    assertThat(mounted.getTargetPathsList()).containsExactly(target.toString());
    node.csi.node().nodeUnpublishVolume(unpublish("csi-progress", target));
  }

  @Test
  void aFailedPullIsDescribedWithItsErrorUntilAPublishCollectsIt() throws Exception {
    TestNode node = node("failed");
    NodePublishVolumeRequest req = publish("csi-failed", target("csi-failed"),
        registry.host() + "/models/absent:v1").build();
    assertThat(publishCode(node, req)).isEqualTo(Status.Code.ABORTED);

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      GetVolumeResponse v = get(node, "csi-failed");
      assertThat(v.getState()).isEqualTo("PULL_FAILED");
      assertThat(v.getError()).contains("models/absent:v1");
    });
    assertThat(publishCode(node, req)).isEqualTo(Status.Code.NOT_FOUND);
    assertThatThrownBy(() -> get(node, "csi-failed"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void anUnknownVolumeIsNotFoundAndAnUnsafeIdIsInvalid() throws Exception {
    TestNode node = node("unknown");
    assertThatThrownBy(() -> get(node, "csi-never"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("csi-never");
        });
    assertThatThrownBy(() -> get(node, "../etc"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
            e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }
}

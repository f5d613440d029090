package org.modelpack.csi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import csi.v1.Csi.NodePublishVolumeRequest;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.RegistryServer;

/**
 * Pulls that outlive the RPC, as kubelet experiences them: with a publish wait of zero every
 * publish that finds its pull unfinished answers ABORTED, and kubelet's retries collect it.
 */
class BackgroundPullIT {
  @TempDir static Path tmp;
  static RegistryServer registry;
  static RegistryClient pusher;
  static NodePlugin plugin;
  static CsiClient csi;
  static Path root;

  @BeforeAll
  static void start() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")));
    root = tmp.resolve("root");
    plugin = NodePlugin.start(new ConfigLoader(Map.of(), () -> "node", tmp).parse("""
        root_dir: %s
        csi_endpoint: unix://%s/csi.sock
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 0
          orphan_timeout: 2s
        """.formatted(root, root, tmp.resolve("docker"))));
    csi = new CsiClient(plugin.config().csiEndpoint());
  }

  @AfterAll
  static void stop() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    Closeables.closeAll(csi, plugin, pusher, registry);
  }

  static PushedArtifact push(String name, long size, long seed) throws Exception {
    return ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", size, seed).rawFile("config.json", 100, seed + 1)
        .push(pusher, Reference.parse(registry.host() + "/models/" + name + ":v1"));
  }

  static Status callPublish(NodePublishVolumeRequest req) {
    return org.modelpack.csi.testing.CsiRequests.statusOf(() -> csi.node().nodePublishVolume(req));
  }

  @Test
  void publishShorterThanThePullAnswersAbortedAndARetryMountsOnceItIsDone() throws Exception {
    PushedArtifact a = push("deadline", 20_000_000, 1);
    Path target = tmp.resolve("pods/deadline/model");
    NodePublishVolumeRequest req = publish("csi-deadline", target,
        registry.host() + "/models/deadline:v1").build();

    Status first = callPublish(req);
    assertThat(first.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(first.getDescription()).contains("pull in progress");

    List<Status> answers = new ArrayList<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Status s = callPublish(req);
      answers.add(s);
      return s.isOk();
    });
    assertThat(answers).allMatch(s -> s.isOk() || s.getCode() == Status.Code.ABORTED);
    assertThat(isMountPoint(target)).isTrue();
    for (PushedFile f : a.files()) {
      assertThat(sha256(target.resolve(f.path()))).isEqualTo(f.sha256());
      assertThat(registry.countBlobGets("sha256:" + f.sha256())).isEqualTo(1);
    }
    csi.node().nodeUnpublishVolume(unpublish("csi-deadline", target));
    assertThat(root.resolve("volumes/csi-deadline")).doesNotExist();
    // Every call above took the volume's lock; none keeps it once done.
    assertThat(plugin.volumes().volumesWithLocks()).isZero();
  }

  @Test
  void aFailedPullIsReportedWithItsRealErrorAndLeavesNothing() {
    Path target = tmp.resolve("pods/missing/model");
    NodePublishVolumeRequest req = publish("csi-missing", target,
        registry.host() + "/models/missing:v1").build();
    List<Status> answers = new ArrayList<>();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Status s = callPublish(req);
      answers.add(s);
      return s.getCode() == Status.Code.NOT_FOUND;
    });
    assertThat(answers.get(answers.size() - 1).getDescription()).contains("models/missing:v1");
    assertThat(root.resolve("volumes/csi-missing")).doesNotExist();
    assertThat(target).doesNotExist();
  }

  @Test
  void unpublishDuringAPullCancelsItAndCleansUp() throws Exception {
    push("cancel", 30_000_000, 5);
    Path target = tmp.resolve("pods/cancel/model");
    NodePublishVolumeRequest req = publish("csi-cancel", target,
        registry.host() + "/models/cancel:v1").build();
    assertThat(callPublish(req).getCode()).isEqualTo(Status.Code.ABORTED);
    csi.node().nodeUnpublishVolume(unpublish("csi-cancel", target));
    assertThat(root.resolve("volumes/csi-cancel")).doesNotExist();
    assertThat(target).doesNotExist();
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
        .until(() -> !root.resolve("volumes/csi-cancel").toFile().exists());
  }

  @Test
  void unpublishAfterAPullFinishedButBeforeItsMountRemovesTheVolume() throws Exception {
    push("finished", 100_000, 7);
    Path target = tmp.resolve("pods/finished/model");
    Status first = callPublish(publish("csi-finished", target,
        registry.host() + "/models/finished:v1").build());
    assertThat(first.getCode()).isEqualTo(Status.Code.ABORTED);
    Path status = root.resolve("volumes/csi-finished/status.json");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
        .until(() -> Files.exists(status) && Files.readString(status).contains("PULL_SUCCEEDED"));

    csi.node().nodeUnpublishVolume(unpublish("csi-finished", target));

    assertThat(root.resolve("volumes/csi-finished")).doesNotExist();
    assertThat(plugin.store().entries()).allMatch(e -> !e.volumes().contains("csi-finished"));
  }

  @Test
  void aPullNobodyAsksAboutAgainIsRemovedAfterTheOrphanTimeout() throws Exception {
    push("orphan", 5_000_000, 9);
    Path target = tmp.resolve("pods/orphan/model");
    Status first = callPublish(publish("csi-orphan", target,
        registry.host() + "/models/orphan:v1").build());
    assertThat(first.getCode()).isEqualTo(Status.Code.ABORTED);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> !root.resolve("volumes/csi-orphan").toFile().exists());
    assertThat(isMountPoint(target)).isFalse();
    // The reaper renames the directory aside, deletes it, and only then drops the store's
    // references: the directory can be gone a moment before them.
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(plugin.store()
        .entries()).allMatch(e -> !e.volumes().contains("csi-orphan")));
  }
}

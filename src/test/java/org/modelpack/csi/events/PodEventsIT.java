package org.modelpack.csi.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.statusOf;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import csi.v1.Csi.NodePublishVolumeRequest;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.NodesWithRegistry;

/**
 * The node plugin with Events on, against a real registry and fabric8's mock API server (CRUD):
 * what the pod's owner sees in {@code kubectl describe pod}. Requires root.
 */
@EnableKubernetesMockClient(crud = true)
class PodEventsIT extends NodesWithRegistry {
  static KubernetesClient client;
  static PushedArtifact model;

  @BeforeAll
  static void pushModel() throws Exception {
    model = ModelArtifactBuilder.create(tmp.resolve("a1"))
        .rawFile("model.safetensors", 2_000_000, 1)
        .rawFile("config.json", 300, 2)
        .push(pusher, ref("models/events:v1"));
  }

  /** A node at {@code tmp/name} reporting to {@code events}, and its client; closed after. */
  CsiClient startNode(String name, PodEvents events) throws IOException {
    Path root = tmp.resolve(name);
    NodePlugin node = closeAfterTest(NodePlugin.start(new ConfigLoader(Map.of(),
        () -> "test-node", tmp).parse("""
        root_dir: %s
        csi_endpoint: unix://%s/csi.sock
        pull_config:
          docker_config_dir: %s
        """.formatted(root, root, tmp.resolve("no-docker-config"))), events));
    return closeAfterTest(new CsiClient(node.config().csiEndpoint()));
  }

  static NodePublishVolumeRequest podPublish(String volumeId, Path target, String reference,
      String pod) {
    return publish(volumeId, target, reference)
        .putVolumeContext("csi.storage.k8s.io/pod.name", pod)
        .putVolumeContext("csi.storage.k8s.io/pod.namespace", "ml")
        .putVolumeContext("csi.storage.k8s.io/pod.uid", "uid-" + pod)
        .build();
  }

  static List<Event> eventsOn(String pod) {
    return client.v1().events().inNamespace("ml").list().getItems().stream()
        .filter(e -> e.getInvolvedObject().getName().equals(pod)).toList();
  }

  @Test
  void aColdPublishReportsPullStartedAndMountedAndAMissingTagFailedNamingNotFound()
      throws Exception {
    // The sink only borrows the extension's client: the node's close must not close it.
    KubeEventSink kube = new KubeEventSink(client, "model.csi.modelpack.org", "test-node");
    CsiClient csi = startNode("node-a", PodEvents.sendingTo(kube::send, 64, System::nanoTime));
    Path target = target("ev-1");
    csi.node().nodePublishVolume(podPublish("ev-1", target, model.reference().toString(),
        "inference-0"));

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
        eventsOn("inference-0")).extracting(Event::getReason)
        .contains("PullStarted", "Mounted"));
    for (Event e : eventsOn("inference-0")) {
      assertThat(e.getType()).isEqualTo("Normal");
      assertThat(e.getInvolvedObject().getKind()).isEqualTo("Pod");
      assertThat(e.getInvolvedObject().getNamespace()).isEqualTo("ml");
      assertThat(e.getInvolvedObject().getUid()).isEqualTo("uid-inference-0");
      assertThat(e.getMessage()).contains(model.reference().toString());
    }
    assertThat(eventsOn("inference-0")).filteredOn(e -> e.getReason().equals("PullStarted"))
        .extracting(Event::getMessage).singleElement().asString()
        .contains("2 layers", "0 of them");
    assertThat(eventsOn("inference-0")).filteredOn(e -> e.getReason().equals("Mounted"))
        .extracting(Event::getMessage).singleElement().asString()
        .contains("downloaded", "0 B reused");

    String missing = ref("models/events:no-such-tag").toString();
    Path target2 = target("ev-2");
    await().atMost(Duration.ofSeconds(60)).until(() -> statusOf(() -> csi.node()
        .nodePublishVolume(podPublish("ev-2", target2, missing, "inference-1"))).getCode(),
        code -> code != Status.Code.ABORTED);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
        eventsOn("inference-1")).extracting(Event::getReason).contains("Failed"));
    Event failed = eventsOn("inference-1").stream()
        .filter(e -> e.getReason().equals("Failed")).findFirst().orElseThrow();
    assertThat(failed.getType()).isEqualTo("Warning");
    assertThat(failed.getMessage()).contains("NOT_FOUND", missing);

    csi.node().nodeUnpublishVolume(unpublish("ev-1", target));
  }

  @Test
  void aPublishCompletesWhileTheEventSenderIsStuckInTheApiServer() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    PodEvents stuck = PodEvents.sendingTo(e -> {
      entered.countDown();
      release.await(); // an API server that never answers
    }, 4, System::nanoTime);
    try {
      CsiClient csi = startNode("node-b", stuck);
      Path target = target("ev-3");
      long started = System.nanoTime();
      csi.node().nodePublishVolume(podPublish("ev-3", target, model.reference().toString(),
          "inference-2"));
      long took = System.nanoTime() - started;

      assertThat(isMountPoint(target)).isTrue();
      assertThat(entered.await(10, TimeUnit.SECONDS)).as("the sender got the first event")
          .isTrue();
      assertThat(release.getCount()).as("and is still stuck in it").isEqualTo(1);
      assertThat(Duration.ofNanos(took)).isLessThan(Duration.ofSeconds(30));
      // PullStarted is in the sink, Mounted in the queue (capacity 4): nothing dropped yet.
      assertThat(stuck.dropped()).isZero();
      csi.node().nodeUnpublishVolume(unpublish("ev-3", target));
    } finally {
      release.countDown();
    }
  }
}

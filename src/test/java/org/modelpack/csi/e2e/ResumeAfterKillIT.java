package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.FaultProxy.Exchange;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.RegistryServer;

/**
 * Issue 12 goal 5 end to end: the packaged driver is killed with SIGKILL (or stopped with
 * SIGTERM, as an upgrade does) halfway through a pull,
 * started again on the same root_dir, and kubelet's retry finishes the pull from the bytes the
 * killed process left in the store's ingest directory (decision 1250). The registry is reached
 * through a proxy that counts every body byte it serves, and paces each connection so that the
 * kill lands mid-blob.
 */
class ResumeAfterKillIT {
  private static final long MIB = 1 << 20;
  private static final long WEIGHTS = 48 * MIB;

  @TempDir Path tmp;
  private RegistryServer registry;
  private FaultProxy proxy;
  private DriverProcess driver;

  @AfterEach
  void stopAll() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    if (driver != null) {
      driver.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"SIGKILL", "SIGTERM"})
  void aPullStoppedHalfwayGoesOnFromTheBytesOnDiskAfterTheRestart(String signal)
      throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    PushedArtifact artifact;
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")))) {
      artifact = ModelArtifactBuilder.create(tmp.resolve("artifact"))
          .rawFile("model.safetensors", WEIGHTS, 1)
          .rawFile("config.json", 300, 2)
          .push(pusher, Reference.parse(registry.host() + "/models/resume:v1"));
    }
    proxy = FaultProxy.start(registry.host()).bandwidthLimit(16 * MIB);
    PushedFile weights = artifact.file("model.safetensors");
    String digest = "sha256:" + weights.sha256();
    String reference = proxy.host() + "/models/resume:v1";
    Path root = tmp.resolve("root");
    Path config = Files.writeString(tmp.resolve("driver.yaml"), """
        root_dir: %s
        csi_endpoint: unix://%s/plugin/csi.sock
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 1
        """.formatted(root, root, tmp.resolve("docker")));
    Path socket = root.resolve("plugin/csi.sock");
    Path target = tmp.resolve("kubelet/pods/uid-1/volumes/kubernetes.io~csi/model/mount");
    Path partial = root.resolve("store/ingest/sha256-" + weights.sha256() + ".partial");

    driver = DriverProcess.start(config, socket, tmp.resolve("driver-1.log"), null);
    publishOnce(target, reference); // ABORTED after a second; the pull goes on
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(() -> Files.exists(partial) && Files.size(partial) >= WEIGHTS / 2);
    if (signal.equals("SIGKILL")) {
      driver.kill();
    } else {
      driver.stop(); // an upgrade: the pulls are cancelled, their downloads kept
    }
    long keptAtKill = Files.size(partial);

    driver = DriverProcess.start(config, socket, tmp.resolve("driver-2.log"), null);
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> publishOnce(target, reference));

    for (PushedFile f : artifact.files()) {
      assertThat(sha256(target.resolve(f.path()))).as(f.path()).isEqualTo(f.sha256());
    }
    await().atMost(Duration.ofSeconds(10))
        .until(() -> proxy.requestsFor(digest).stream().allMatch(Exchange::done));
    List<Exchange> served = proxy.requestsFor(digest);
    long total = served.stream().mapToLong(Exchange::bodyBytes).sum();
    assertThat(total).as("bytes of the %d MiB blob served in all, in %s", WEIGHTS / MIB, served)
        .isLessThanOrEqualTo((long) (WEIGHTS * 1.05));
    assertThat(served).as("the restarted driver asked for the rest only")
        .anySatisfy(e -> {
          assertThat(e.status()).isEqualTo(206);
          assertThat(e.range()).matches("bytes=\\d+-");
          assertThat(Long.parseLong(e.range().substring(6, e.range().length() - 1)))
              .isEqualTo(keptAtKill);
        });
    assertThat(Files.readString(tmp.resolve("driver-2.log"))).contains("resuming " + digest);
    assertThat(partial).doesNotExist();

    driver.csi().node().nodeUnpublishVolume(unpublish("csi-resume", target));
  }

  /** One NodePublishVolume as kubelet sends it: true once it succeeded, false on ABORTED. */
  private boolean publishOnce(Path target, String reference) {
    try {
      driver.csi().node().withDeadlineAfter(30, TimeUnit.SECONDS)
          .nodePublishVolume(publish("csi-resume", target, reference).build());
      return true;
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).as(e.toString())
          .isEqualTo(io.grpc.Status.Code.ABORTED);
      return false;
    }
  }
}

package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;

import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.RegistryServer;
import org.modelpack.csi.testing.TestNode;

/** The CLI (in this JVM) against a node plugin serving its socket, as an operator uses it. */
class CliAgainstDriverIT extends NodesWithRegistry {
  /** Publish waits 1 s for a pull; a stalled transfer resumes after 3 s. */
  private static final String SHORT_WAITS = """
      pull_config:
        docker_config_dir: %s
        publish_wait_seconds: 1
        stall_timeout: 3s
        retry_initial_backoff: 100ms
      """;

  private TestNode node(String name) throws Exception {
    return closeAfterTest(TestNode.start(tmp.resolve(name), tmp,
        SHORT_WAITS.formatted(tmp.resolve("no-docker-config"))));
  }

  private static String endpoint(TestNode node) {
    return "unix://" + node.plugin.config().csiEndpoint();
  }

  /** A 3 MiB model whose bytes stall after 1 MiB for the driver's stall timeout (a proxy). */
  private String slowModel(String name) throws Exception {
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 3 << 20, 1)
        .push(pusher, ref("models/" + name + ":v1"));
    FaultProxy proxy = closeAfterTest(FaultProxy.start(registry.host()));
    proxy.inject(FaultProxy.on("sha256:" + a.file("model.safetensors").sha256())
        .stallAfter(1 << 20));
    return proxy.host() + "/models/" + name + ":v1";
  }

  private static String smallModel(String name) throws Exception {
    ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 100_000, 3)
        .rawFile("config.json", 200, 4)
        .push(pusher, ref("models/" + name + ":v1"));
    return registry.host() + "/models/" + name + ":v1";
  }

  @Test
  void publishRetriesWhileTheDriverAnswersAbortedAndShowsThePullsProgress() throws Exception {
    TestNode node = node("progress");
    String reference = slowModel("slow");
    Path target = target("csi-slow");

    CliRun run = CliRun.of("publish", "--endpoint", endpoint(node), "--volume-id", "csi-slow",
        "--target", target.toString(), "--reference", reference, "--timeout", "60");

    // The pull outlasts the driver's 1 s wait (it stalls for 3 s): only calls repeated after
    // ABORTED can have mounted it.
    assertThat(run.exitCode()).as("%s", run).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out().lines().toList())
        .anyMatch(l -> l.matches("csi-slow: pulling [0-9.]+ (B|KiB|MiB) of 3\\.0 MiB "
            + "\\(\\d{1,2}%\\)"))
        .contains("csi-slow: pulled 3.0 MiB")
        .last().asString().startsWith("published csi-slow at " + target + " in ");
    assertThat(isMountPoint(target)).isTrue();
    assertThatThrownBy(() -> Files.writeString(target.resolve("config.json"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");

    CliRun.of("unpublish", "--endpoint", endpoint(node), "--volume-id", "csi-slow",
        "--target", target.toString());
    assertThat(isMountPoint(target)).isFalse();
  }

  @Test
  void publishThatOutlastsItsTimeoutSaysTheVolumeIsStillPulling() throws Exception {
    // The driver waits for the pull longer than the CLI, and the pull stalls longer still.
    TestNode node = closeAfterTest(TestNode.start(tmp.resolve("timeout"), tmp, """
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 100
          stall_timeout: 60s
        """.formatted(tmp.resolve("no-docker-config"))));
    String reference = slowModel("stuck");

    CliRun.of("publish", "--endpoint", endpoint(node), "--volume-id", "csi-stuck", "--target",
        target("csi-stuck").toString(), "--reference", reference, "--timeout", "5")
        .failedWithOneLine(1, "publish", "volume csi-stuck is still pulling (",
            "1.0 MiB of 3.0 MiB) after --timeout 5 s; publish again to wait for it");
    assertThat(isMountPoint(target("csi-stuck"))).isFalse();
  }

  @Test
  void writablePublishMountsAVolumeThePodCanWriteTo() throws Exception {
    TestNode node = node("writable");
    Path target = target("csi-writable");

    CliRun run = CliRun.of("publish", "--endpoint", endpoint(node), "--volume-id",
        "csi-writable", "--target", target.toString(), "--reference", smallModel("writable"),
        "--writable");

    assertThat(run.exitCode()).as("%s", run).isZero();
    Files.writeString(target.resolve("config.json"), "changed by the pod");
    Files.writeString(target.resolve("new-file"), "added by the pod");
    assertThat(target.resolve("new-file")).hasContent("added by the pod");
    CliRun.of("unpublish", "--endpoint", endpoint(node), "--volume-id", "csi-writable",
        "--target", target.toString());
  }

  @Test
  void unpublishOfWhatWasNeverPublishedExitsOneSayingNothingWasUnmounted() throws Exception {
    TestNode node = node("unpublish");
    Path target = target("csi-real");
    assertThat(CliRun.of("publish", "--endpoint", endpoint(node), "--volume-id", "csi-real",
        "--target", target.toString(), "--reference", smallModel("real")).exitCode()).isZero();
    Path elsewhere = target("csi-elsewhere");

    CliRun.of("unpublish", "--endpoint", endpoint(node), "--volume-id", "csi-never",
        "--target", elsewhere.toString())
        .failedWithOneLine(1, "unpublish",
            "volume csi-never is not published at " + elsewhere + "; nothing was unmounted");
    CliRun.of("unpublish", "--endpoint", endpoint(node), "--volume-id", "csi-real",
        "--target", elsewhere.toString())
        .failedWithOneLine(1, "unpublish",
            "volume csi-real is not published at " + elsewhere + "; nothing was unmounted");
    CliRun.of("unpublish", "--endpoint", endpoint(node), "--volume-id", "csi-never",
        "--target", target.toString())
        .failedWithOneLine(1, "unpublish", "volume csi-never is not published at " + target
            + "; nothing was unmounted");
    assertThat(isMountPoint(target)).isTrue(); // csi-real's mount: the driver left it

    CliRun done = CliRun.of("unpublish", "--endpoint", endpoint(node), "--volume-id",
        "csi-real", "--target", target.toString());
    assertThat(done.exitCode()).as("%s", done).isZero();
    assertThat(done.out()).isEqualTo("unpublished csi-real from " + target + "\n");
    assertThat(isMountPoint(target)).isFalse();
  }

  @Test
  void aRefusalOfTheDriverIsOneLineWithItsCode() throws Exception {
    TestNode node = node("refusal");
    CliRun.of("publish", "--endpoint", endpoint(node), "--volume-id", "csi-absent",
        "--target", target("csi-absent").toString(), "--reference",
        registry.host() + "/models/absent:v1")
        .failedWithOneLine(1, "publish", "NOT_FOUND: ", "models/absent:v1", "not found");
  }

  @Test
  void pushWithoutTheCredentialsARegistryDemandsIsOneLine() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("push-model"));
    Files.writeString(dir.resolve("config.json"), "{}");
    try (RegistryServer locked = RegistryServer.startWithHtpasswd(tmp.resolve("locked"),
        "alice", "secret")) {
      CliRun.of("push", dir.toString(), locked.host() + "/models/locked:v1",
          "--docker-config", tmp.resolve("no-docker-config").toString())
          .failedWithOneLine(1, "push", "cannot push " + locked.host() + "/models/locked:v1: ");
    }
  }
}

package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.RegistryServer;

/**
 * The CLI as a user runs it: the packaged jar as its own process, its real stdout and stderr
 * (log lines included), against a driver that is the packaged jar too.
 */
class PackagedCliIT {
  @TempDir Path tmp;
  RegistryServer registry;
  FaultProxy proxy;
  Process driver;

  @AfterEach
  void stopAll() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    if (driver != null && driver.isAlive()) {
      driver.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    Closeables.closeAll(proxy, registry);
  }

  @Test
  void mistakesAreOneLineOnStderrWithoutAStackTrace() throws Exception {
    CliRun.ofJar("info", "--endpoint", "/path")
        .failedWithOneLine(2, "info", "'/path' is not a unix socket URL");
    Path socket = tmp.resolve("csi.sock");
    CliRun.ofJar("info", "--endpoint", "unix://" + socket)
        .failedWithOneLine(1, "info", "no driver socket at " + socket);
    CliRun.ofJar("push", tmp.resolve("model").toString(), "127.0.0.1:5000/models/demo:v1")
        .failedWithOneLine(1, "push", "directory " + tmp.resolve("model") + " does not exist");
  }

  @Test
  void publishPrintsProgressLinesUntilMountedAndServeLogsItsStop() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    PushedArtifact a;
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")))) {
      a = ModelArtifactBuilder.create(tmp.resolve("artifact"))
          .rawFile("model.safetensors", 3 << 20, 1)
          .push(pusher, Reference.parse(registry.host() + "/models/cli:v1"));
    }
    proxy = FaultProxy.start(registry.host());
    proxy.inject(FaultProxy.on("sha256:" + a.file("model.safetensors").sha256())
        .stallAfter(1 << 20));
    Path log = tmp.resolve("driver.log");
    Path socket = startDriver(log);
    String endpoint = "unix://" + socket;
    Path target = tmp.resolve("pods/uid/volumes/model");

    CliRun publish = CliRun.ofJar("publish", "--endpoint", endpoint, "--volume-id", "csi-cli",
        "--target", target.toString(), "--reference", proxy.host() + "/models/cli:v1");

    assertThat(publish.exitCode()).as("%s", publish).isZero();
    assertThat(publish.err()).isEmpty();
    assertThat(publish.out()).doesNotContain("\r");
    assertThat(publish.out().lines().toList())
        .anyMatch(l -> l.matches("csi-cli: pulling .* of 3\\.0 MiB \\(\\d+%\\)"))
        .contains("csi-cli: pulled 3.0 MiB");
    assertThat(isMountPoint(target)).isTrue();

    CliRun.ofJar("unpublish", "--endpoint", endpoint, "--volume-id", "csi-never", "--target",
        tmp.resolve("pods/none").toString())
        .failedWithOneLine(1, "unpublish", "volume csi-never is not published at "
            + tmp.resolve("pods/none") + "; nothing was unmounted");
    CliRun unpublish = CliRun.ofJar("unpublish", "--endpoint", endpoint, "--volume-id",
        "csi-cli", "--target", target.toString());
    assertThat(unpublish.out()).isEqualTo("unpublished csi-cli from " + target + "\n");
    assertThat(isMountPoint(target)).isFalse();

    driver.destroy(); // SIGTERM, as kubelet's pod deletion sends it
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();
    List<String> lines = Files.readAllLines(log);
    assertThat(lines).anyMatch(l -> l.contains("stopping: closing the socket"));
    assertThat(lines.get(lines.size() - 1)).endsWith(" - stopped");
  }

  @Test
  void storePullWarmsThePackagedDriversStoreWithProgressLines() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    PushedArtifact a;
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")))) {
      a = ModelArtifactBuilder.create(tmp.resolve("artifact"))
          .rawFile("model.safetensors", 3 << 20, 11)
          .push(pusher, Reference.parse(registry.host() + "/models/warm:v1"));
    }
    proxy = FaultProxy.start(registry.host());
    proxy.inject(FaultProxy.on("sha256:" + a.file("model.safetensors").sha256())
        .stallAfter(1 << 20));
    String endpoint = "unix://" + startDriver(tmp.resolve("driver.log"));
    String reference = proxy.host() + "/models/warm:v1";

    CliRun pull = CliRun.ofJar("store", "pull", "--endpoint", endpoint, reference);

    assertThat(pull.exitCode()).as("%s", pull).isZero();
    assertThat(pull.err()).isEmpty();
    assertThat(pull.out().lines().toList())
        .anyMatch(l -> l.startsWith(reference + ": pulling ") && l.contains(" of 3.0 MiB ("))
        .contains(reference + ": pulled 3.0 MiB")
        .last().asString().startsWith("prefetched " + reference + " (" + a.manifestDigest()
            + ", 1 layers, 0 already on the node) in ");
    CliRun list = CliRun.ofJar("store", "list", "--endpoint", endpoint);
    assertThat(list.out().lines().toList())
        .anyMatch(l -> l.startsWith("sha256:" + a.file("model.safetensors").sha256())
            && l.endsWith(" -"));
    CliRun.ofJar("store", "pull", "--endpoint", endpoint, registry.host() + "/models/absent:v1")
        .failedWithOneLine(1, "store pull", "NOT_FOUND: ", "models/absent:v1", "not found");
  }

  private Path startDriver(Path log) throws Exception {
    Path root = tmp.resolve("root");
    Path config = Files.writeString(tmp.resolve("driver.yaml"), """
        root_dir: %s
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 1
          stall_timeout: 3s
          retry_initial_backoff: 100ms
        """.formatted(root, tmp.resolve("docker")));
    Path jar = Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
    driver = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Xmx256m", "-jar", jar.toString(), "serve", "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Path socket = root.resolve("csi/csi.sock");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      assertThat(driver.isAlive()).as("driver exited; log:\n%s", Files.readString(log)).isTrue();
      return Files.exists(socket);
    });
    return socket;
  }
}

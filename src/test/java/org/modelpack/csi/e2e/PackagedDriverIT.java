package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import com.fasterxml.jackson.databind.JsonNode;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.GetPluginInfoResponse;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.ProbeRequest;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.RegistryServer;

/**
 * End to end: the packaged jar runs as its own process, exactly as a node would run it, and a
 * CSI client plays kubelet over the unix socket.
 */
class PackagedDriverIT {
  @TempDir Path tmp;
  RegistryServer registry;
  Process driver;
  Path log;

  @BeforeEach
  void startRegistry() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
  }

  @AfterEach
  void stopAll() throws Exception {
    org.modelpack.csi.testing.CsiRequests.unmountAllUnder(tmp);
    if (driver != null && driver.isAlive()) {
      driver.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    registry.close();
  }

  private Path startDriver(Path root, String... moreArgs) throws Exception {
    Path jar = Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
    assertThat(jar).as("packaged driver jar (run via mvn verify)").exists();
    Path config = Files.writeString(tmp.resolve("driver.yaml"), """
        service_name: model.csi.modelpack.org
        root_dir: %s
        csi_endpoint: unix://%s/plugin/csi.sock
        pull_config:
          docker_config_dir: %s
          concurrency: 3
        """.formatted(root, root, tmp.resolve("docker")));
    Path socket = root.resolve("plugin/csi.sock");
    log = tmp.resolve("driver.log");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
        "bin", "java").toString(), "-Xmx256m", "-jar", jar.toString(), "serve", "--config",
        config.toString()));
    command.addAll(List.of(moreArgs));
    driver = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      assertThat(driver.isAlive()).as("driver exited; log:\n%s", Files.readString(log)).isTrue();
      return Files.exists(socket);
    });
    return socket;
  }

  /** Pushes {@code artifact} to the test registry as {@code repoAndTag}. */
  private PushedArtifact push(ModelArtifactBuilder artifact, String repoAndTag) throws Exception {
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")))) {
      return artifact.push(pusher, Reference.parse(registry.host() + "/" + repoAndTag));
    }
  }

  @Test
  void packagedDriverServesAModelReadOnlyAndCleansUpCompletely() throws Exception {
    PushedArtifact artifact = push(ModelArtifactBuilder.create(tmp.resolve("artifact"))
        .rawFile("model-00001-of-00002.safetensors", 8_000_000, 1)
        .rawFile("model-00002-of-00002.safetensors", 6_000_000, 2)
        .rawFile("config.json", 300, 3)
        .tarLayer(Compression.NONE, TarEntry.file("tokenizer/tokenizer.json", 40_000, 4),
            TarEntry.file("tokenizer/vocab.txt", 9_000, 5)), "models/e2e:v1");
    Path root = tmp.resolve("root");
    Path socket = startDriver(root);
    assertThat(Files.getPosixFilePermissions(socket).stream().map(Enum::name))
        .noneMatch(p -> p.startsWith("OTHERS"));
    Path target = tmp.resolve("kubelet/pods/uid-1/volumes/kubernetes.io~csi/model/mount");

    try (CsiClient csi = new CsiClient(socket)) {
      GetPluginInfoResponse info = csi.identity().getPluginInfo(
          GetPluginInfoRequest.getDefaultInstance());
      assertThat(info.getName()).isEqualTo("model.csi.modelpack.org");
      assertThat(info.getVendorVersion()).isNotBlank();
      assertThat(csi.identity().probe(ProbeRequest.getDefaultInstance()).getReady().getValue())
          .isTrue();
      assertThat(csi.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId())
          .isNotBlank();

      csi.node().withDeadlineAfter(2, TimeUnit.MINUTES).nodePublishVolume(
          publish("csi-e2e", target, artifact.reference().toString()).build());

      assertThat(isMountPoint(target)).isTrue();
      try (Stream<Path> files = Files.walk(target)) {
        assertThat(files.filter(Files::isRegularFile).count())
            .isEqualTo(artifact.files().size());
      }
      for (PushedFile f : artifact.files()) {
        assertThat(sha256(target.resolve(f.path()))).as(f.path()).isEqualTo(f.sha256());
      }
      assertThatThrownBy(() -> Files.writeString(target.resolve("config.json"), "tampered"))
          .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
      assertThatThrownBy(() -> Files.createFile(target.resolve("new-file")))
          .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");

      csi.node().nodeUnpublishVolume(unpublish("csi-e2e", target));

      String missing = registry.host() + "/models/e2e:missing";
      assertThatThrownBy(() -> csi.node().withDeadlineAfter(2, TimeUnit.MINUTES)
          .nodePublishVolume(publish("csi-missing", tmp.resolve("kubelet/pods/uid-2/m"), missing)
              .build())).hasMessageContaining("NOT_FOUND");
      // One line per publish and unpublish: volume, reference, outcome, time taken.
      String ref = artifact.reference().toString();
      assertThat(Files.readString(log))
          .containsPattern(" - publish volume=csi-e2e reference=\\Q" + ref
              + "\\E outcome=succeeded time_ms=\\d+\n")
          .containsPattern("unpublish volume=csi-e2e reference=\\Q" + ref
              + "\\E outcome=succeeded time_ms=\\d+\n")
          .containsPattern(" - publish volume=csi-missing reference=\\Q" + missing
              + "\\E outcome=failed time_ms=\\d+ error=NOT_FOUND: .+\n");
    }

    assertThat(isMountPoint(target)).isFalse();
    assertThat(target).doesNotExist();
    try (Stream<String> mounts = Files.lines(Path.of("/proc/self/mountinfo"))) {
      assertThat(mounts.filter(l -> l.contains(tmp.toString()))).isEmpty();
    }
    try (Stream<Path> left = Files.list(root.resolve("volumes"))) {
      assertThat(left).isEmpty();
    }

    driver.destroy();
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(socket).as("socket removed on shutdown").doesNotExist();
  }

  /**
   * The dynamic-volume API runs on Jetty's unix-domain connector, whose service files and native
   * bits must survive the shading into the one jar: the packaged driver serves a pod's workspace
   * socket, and the packaged in-pod CLI mounts and unmounts a model through it.
   */
  @Test
  void packagedDriverServesADynamicVolumesSocketThatThePackagedCliMountsThrough()
      throws Exception {
    PushedArtifact artifact = push(ModelArtifactBuilder.create(tmp.resolve("artifact"))
        .rawFile("model.safetensors", 300_000, 11)
        .rawFile("config.json", 200, 12), "models/e2e-dynamic:v1");
    Path root = tmp.resolve("root");
    Path socket = startDriver(root);
    Path workdir = tmp.resolve("kubelet/pods/uid-3/volumes/kubernetes.io~csi/models/mount");

    try (CsiClient csi = new CsiClient(socket)) {
      csi.node().nodePublishVolume(
          org.modelpack.csi.testing.CsiRequests.publishDynamic("csi-dyn", workdir));

      String mounted = runCli("mount", "--workdir", workdir.toString(), "--reference",
          artifact.reference().toString(), "--mount-id", "llm");
      assertThat(mounted).contains("mounted ");
      for (PushedFile f : artifact.files()) {
        assertThat(sha256(workdir.resolve("models/llm/model").resolve(f.path())))
            .as(f.path()).isEqualTo(f.sha256());
      }
      assertThat(runCli("list", "--workdir", workdir.toString())).contains("llm");
      assertThat(runCli("umount", "--workdir", workdir.toString(), "llm"))
          .isEqualTo("unmounted llm\n");
      assertThat(workdir.resolve("models/llm")).doesNotExist();

      csi.node().nodeUnpublishVolume(unpublish("csi-dyn", workdir));
    }
    assertThat(workdir).doesNotExist();
    try (Stream<String> mounts = Files.lines(Path.of("/proc/self/mountinfo"))) {
      assertThat(mounts.filter(l -> l.contains(tmp.toString()))).isEmpty();
    }
  }

  /** Runs the packaged jar's CLI; returns its standard output, failing on a non-zero exit. */
  private static String runCli(String... args) throws Exception {
    Path jar = Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
        "bin", "java").toString(), "-jar", jar.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", command, out).isZero();
    return out;
  }

  @Test
  void jsonLogFormatWritesOneJsonObjectPerLineWithTimeLevelLoggerThreadAndMessage()
      throws Exception {
    Path socket = startDriver(tmp.resolve("root"), "--log-format", "json");
    try (CsiClient csi = new CsiClient(socket)) {
      assertThat(csi.identity().probe(ProbeRequest.getDefaultInstance()).getReady().getValue())
          .isTrue();
    }
    driver.destroy();
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();

    List<String> lines = Files.readAllLines(log);
    assertThat(lines).as("driver output").isNotEmpty();
    List<JsonNode> objects = new ArrayList<>();
    for (String line : lines) {
      objects.add(Json.mapper().readTree(line));
    }
    assertThat(objects).allSatisfy(o -> {
      assertThat(o.isObject()).as(o.toString()).isTrue();
      assertThat(o.path("timestamp").isIntegralNumber()).as(o.toString()).isTrue();
      assertThat(o.path("level").asText()).as(o.toString()).isIn("INFO", "WARN", "ERROR");
      assertThat(o.path("loggerName").asText()).as(o.toString()).startsWith("org.modelpack.csi");
      assertThat(o.path("threadName").asText()).as(o.toString()).isNotBlank();
      assertThat(o.path("formattedMessage").isTextual()).as(o.toString()).isTrue();
    });
    assertThat(objects).extracting(o -> o.path("formattedMessage").asText())
        .anySatisfy(m -> assertThat(m).contains("serving node"))
        .contains("stopped");
  }

  @Test
  void invalidConfigStopsTheDriverWithAMessageNamingTheKey() throws Exception {
    Path jar = Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
    Path config = Files.writeString(tmp.resolve("bad.yaml"), "pull_config:\n  concurrency: many\n");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-jar", jar.toString(), "serve", "--config", config.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(out).contains("pull_config.concurrency");
  }
}

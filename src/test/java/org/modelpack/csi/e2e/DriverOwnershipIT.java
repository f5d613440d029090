package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import csi.v1.Csi.ProbeRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.RegistryServer;

/**
 * The packaged driver owns its directories whatever its environment: started with umask 000 it
 * still makes nothing writable or readable by others, a second driver on the same root_dir
 * stops without touching the first, and store entries it did not write are never served.
 */
class DriverOwnershipIT {
  @TempDir Path tmp;
  RegistryServer registry;
  RegistryClient pusher;
  final List<Process> drivers = new ArrayList<>();
  Path root;
  Path socket;
  Path config;

  @BeforeEach
  void start() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")));
    root = tmp.resolve("root");
    socket = root.resolve("csi/csi.sock");
    config = Files.writeString(tmp.resolve("driver.yaml"), """
        root_dir: %s
        pull_config:
          docker_config_dir: %s
        cache:
          high_watermark: 100
          low_watermark: 100
        """.formatted(root, tmp.resolve("docker")));
  }

  @AfterEach
  void stop() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    for (Process p : drivers) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    pusher.close();
    registry.close();
  }

  /** The packaged jar under {@code umask}, as a node would start it; its output in {@code log}. */
  private Process launch(String umask, Path log) throws IOException {
    Path jar = Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
    Process p = new ProcessBuilder("/bin/sh", "-c", "umask " + umask + " && exec \"$@\"", "sh",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar",
        jar.toString(), "serve", "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    drivers.add(p);
    return p;
  }

  /** Starts a driver and waits until it answers on its socket. */
  private CsiClient startServing(String umask, String logName) throws IOException {
    Path log = tmp.resolve(logName);
    Process p = launch(umask, log);
    CsiClient client = new CsiClient(socket);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .ignoreExceptionsInstanceOf(StatusRuntimeException.class).until(() -> {
          assertThat(p.isAlive()).as("driver exited; log:\n%s", Files.readString(log)).isTrue();
          return Files.exists(socket) && client.identity().withDeadlineAfter(5, TimeUnit.SECONDS)
              .probe(ProbeRequest.getDefaultInstance()).getReady().getValue();
        });
    return client;
  }

  private PushedArtifact push(String name, long seed) throws IOException {
    return ModelArtifactBuilder.create(tmp.resolve("artifact-" + name))
        .rawFile("model.safetensors", 200_000, seed)
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/vocab.txt", 10_000, seed + 1))
        .push(pusher, Reference.parse(registry.host() + "/models/" + name + ":v1"));
  }

  private static void assertServes(Path target, PushedArtifact artifact) throws IOException {
    for (PushedFile f : artifact.files()) {
      assertThat(sha256(target.resolve(f.path()))).as(f.path()).isEqualTo(f.sha256());
    }
  }

  @Test
  void underUmask000NothingTheDriverMakesIsWritableByOthersAndTheStoreIsPrivate()
      throws Exception {
    PushedArtifact model = push("umask", 1);
    Path target = tmp.resolve("pods/p1/mount");
    try (CsiClient csi = startServing("000", "driver.log")) {
      csi.node().nodePublishVolume(publish("csi-umask", target, model.reference().toString())
          .build());
      assertServes(target, model);

      List<String> problems = new ArrayList<>();
      try (Stream<Path> all = Files.walk(root)) {
        for (Path p : all.toList()) {
          if (Files.isSymbolicLink(p) || p.equals(socket)) {
            continue; // a link's mode means nothing; the socket is 0660 on purpose
          }
          Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p,
              LinkOption.NOFOLLOW_LINKS);
          if (perms.contains(PosixFilePermission.OTHERS_WRITE)
              || perms.contains(PosixFilePermission.GROUP_WRITE)) {
            problems.add(root.relativize(p) + " " + PosixFilePermissions.toString(perms));
          }
        }
      }
      assertThat(problems).isEmpty();
      for (String dir : List.of("store", "volumes", "staging", "store/blobs", "store/trees",
          "store/ingest", "store/refs", "store/manifests", "store/blobs/sha256",
          "volumes/csi-umask")) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(dir))))
            .as(dir).isEqualTo("rwx------");
      }
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
          root.resolve("volumes/csi-umask/model")))).isEqualTo("rwxr-xr-x");
      csi.node().nodeUnpublishVolume(unpublish("csi-umask", target));
    }
  }

  @Test
  void aSecondDriverOnTheSameRootDirStopsWithAMessageAndTheFirstKeepsServing()
      throws Exception {
    try (CsiClient first = startServing("022", "first.log")) {
      Object socketInode = Files.readAttributes(socket,
          java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      Path log = tmp.resolve("second.log");

      Process second = launch("022", log);

      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(second.exitValue()).isNotZero();
      assertThat(Files.readString(log)).contains("another model-csi-driver (pid "
          + drivers.get(0).pid() + ") is running with root_dir").doesNotContain("\tat ");
      assertThat(Files.readAttributes(socket, java.nio.file.attribute.BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS).fileKey()).isEqualTo(socketInode);
      assertThat(first.identity().probe(ProbeRequest.getDefaultInstance()).getReady().getValue())
          .isTrue();
    }
  }

  @Test
  void storeEntriesTheDriverDidNotWriteAreNeverServedAfterARestartOrLive() throws Exception {
    PushedArtifact atStart = push("planted-at-start", 10);
    PushedArtifact liveForeign = push("planted-live-foreign", 20);
    PushedArtifact liveRoot = push("planted-live-root", 30);
    Path blobs = root.resolve("store/blobs/sha256");
    try (CsiClient csi = startServing("022", "driver-1.log")) {
      csi.node().nodePublishVolume(publish("csi-warm", tmp.resolve("pods/warm/mount"),
          atStart.reference().toString()).build()); // makes the store and its directories
      csi.node().nodeUnpublishVolume(unpublish("csi-warm", tmp.resolve("pods/warm/mount")));
    }
    drivers.get(0).destroy();
    assertThat(drivers.get(0).waitFor(30, TimeUnit.SECONDS)).isTrue();
    String digest = atStart.file("model.safetensors").sha256();
    Files.delete(blobs.resolve(digest));
    plant(blobs.resolve(digest), 65534);

    try (CsiClient csi = startServing("022", "driver-2.log")) {
      assertThat(blobs.resolve(digest)).doesNotExist(); // quarantined by the start
      Path t1 = tmp.resolve("pods/p1/mount");
      csi.node().nodePublishVolume(publish("csi-1", t1, atStart.reference().toString()).build());
      assertServes(t1, atStart);

      plant(blobs.resolve(liveForeign.file("model.safetensors").sha256()), 65534);
      plant(blobs.resolve(liveRoot.file("model.safetensors").sha256()), 0);
      Path t2 = tmp.resolve("pods/p2/mount");
      Path t3 = tmp.resolve("pods/p3/mount");
      csi.node().nodePublishVolume(publish("csi-2", t2, liveForeign.reference().toString())
          .build());
      csi.node().nodePublishVolume(publish("csi-3", t3, liveRoot.reference().toString())
          .build());
      assertServes(t2, liveForeign);
      assertServes(t3, liveRoot);
      assertThat(Files.readString(tmp.resolve("driver-2.log")))
          .contains("was not written by the driver");
    }
  }

  /** A read-only file of the wrong content, owned by {@code uid}, where a store entry goes. */
  private static void plant(Path where, int uid) throws IOException, InterruptedException {
    Files.writeString(where, "planted, not the model");
    Commands.run("chown", uid + ":" + uid, where.toString());
    Files.setPosixFilePermissions(where, PosixFilePermissions.fromString("r--r--r--"));
  }
}

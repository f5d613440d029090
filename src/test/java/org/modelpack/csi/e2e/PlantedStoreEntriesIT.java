package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.RegistryServer;

/**
 * A store entry's name says what it should hold, not who put it there: files planted in the
 * packaged driver's store (another user's, or root's with the wrong content) are never served,
 * whether they were there at start or appear while it runs.
 */
class PlantedStoreEntriesIT {
  @TempDir Path tmp;
  RegistryServer registry;
  RegistryClient pusher;
  DriverProcess driver;
  Path root;
  Path config;

  @BeforeEach
  void start() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")));
    root = tmp.resolve("root");
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
    Closeables.closeAll(driver, pusher, registry);
  }

  private DriverProcess startDriver(String logName) throws IOException {
    return DriverProcess.start(config, root.resolve("csi/csi.sock"), tmp.resolve(logName), null);
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
  void storeEntriesTheDriverDidNotWriteAreNeverServedAfterARestartOrLive() throws Exception {
    PushedArtifact atStart = push("planted-at-start", 10);
    PushedArtifact liveForeign = push("planted-live-foreign", 20);
    PushedArtifact liveRoot = push("planted-live-root", 30);
    Path blobs = root.resolve("store/blobs/sha256");
    Path warm = tmp.resolve("pods/warm/mount");
    driver = startDriver("driver-1.log");
    driver.csi().node().nodePublishVolume(publish("csi-warm", warm,
        atStart.reference().toString()).build()); // makes the store and its directories
    driver.csi().node().nodeUnpublishVolume(unpublish("csi-warm", warm));
    driver.kill();
    String digest = atStart.file("model.safetensors").sha256();
    Files.delete(blobs.resolve(digest));
    plant(blobs.resolve(digest), 65534);

    driver = startDriver("driver-2.log");
    assertThat(blobs.resolve(digest)).doesNotExist(); // quarantined by the start
    Path t1 = tmp.resolve("pods/p1/mount");
    driver.csi().node().nodePublishVolume(publish("csi-1", t1, atStart.reference().toString())
        .build());
    assertServes(t1, atStart);

    plant(blobs.resolve(liveForeign.file("model.safetensors").sha256()), 65534);
    plant(blobs.resolve(liveRoot.file("model.safetensors").sha256()), 0);
    Path t2 = tmp.resolve("pods/p2/mount");
    Path t3 = tmp.resolve("pods/p3/mount");
    driver.csi().node().nodePublishVolume(publish("csi-2", t2,
        liveForeign.reference().toString()).build());
    driver.csi().node().nodePublishVolume(publish("csi-3", t3, liveRoot.reference().toString())
        .build());
    assertServes(t2, liveForeign);
    assertServes(t3, liveRoot);
    assertThat(Files.readString(tmp.resolve("driver-2.log")))
        .contains("was not written by the driver");
  }

  /** A read-only file of the wrong content, owned by {@code uid}, where a store entry goes. */
  private static void plant(Path where, int uid) throws IOException, InterruptedException {
    Files.writeString(where, "planted, not the model");
    Commands.run("chown", uid + ":" + uid, where.toString());
    Files.setPosixFilePermissions(where, PosixFilePermissions.fromString("r--r--r--"));
  }
}

package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import java.nio.file.Path;
import java.time.Duration;
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
import org.modelpack.csi.testing.RegistryServer;

/**
 * A second docker-registry in pull-through mode is configured as the origin's mirror: pulls go
 * through it, and with the mirror down they fall back to the origin.
 */
class MirrorIT {
  @TempDir static Path tmp;
  static RegistryServer origin;
  static RegistryServer mirror;
  static RegistryClient pusher;
  static NodePlugin plugin;
  static CsiClient csi;

  @BeforeAll
  static void start() throws Exception {
    origin = RegistryServer.start(tmp.resolve("origin"));
    mirror = RegistryServer.startPullThroughMirror(tmp.resolve("mirror"), origin.host());
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")));
    Path root = tmp.resolve("root");
    plugin = NodePlugin.start(new ConfigLoader(Map.of(), () -> "node", tmp).parse("""
        root_dir: %s
        csi_endpoint: unix://%s/csi.sock
        pull_config:
          docker_config_dir: %s
          retry_attempts: 2
          mirrors:
            "%s": ["http://%s"]
        """.formatted(root, root, tmp.resolve("docker"), origin.host(), mirror.host())));
    csi = new CsiClient(plugin.config().csiEndpoint());
  }

  @AfterAll
  static void stop() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    Closeables.closeAll(csi, plugin, pusher, mirror, origin);
  }

  static PushedArtifact push(String name, long seed) throws Exception {
    return ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 300_000, seed).rawFile("config.json", 100, seed + 1)
        .push(pusher, Reference.parse(origin.host() + "/models/" + name + ":v1"));
  }

  @Test
  void pullsGoThroughTheMirrorAndFallBackToTheOriginWhenItIsDown() throws Exception {
    PushedArtifact a = push("through-mirror", 1);
    Path ta = tmp.resolve("pods/a/model");
    csi.node().nodePublishVolume(publish("csi-mirror-a", ta,
        origin.host() + "/models/through-mirror:v1").build());
    String weights = "sha256:" + a.file("model.safetensors").sha256();
    assertThat(sha256(ta.resolve("model.safetensors")))
        .isEqualTo(a.file("model.safetensors").sha256());
    await().atMost(Duration.ofSeconds(10)).until(() -> mirror.countBlobGets(weights) == 1);

    mirror.close();
    PushedArtifact b = push("origin-fallback", 7);
    Path tb = tmp.resolve("pods/b/model");
    csi.node().nodePublishVolume(publish("csi-mirror-b", tb,
        origin.host() + "/models/origin-fallback:v1").build());
    assertThat(sha256(tb.resolve("model.safetensors")))
        .isEqualTo(b.file("model.safetensors").sha256());
    String weightsB = "sha256:" + b.file("model.safetensors").sha256();
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.countBlobGets(weightsB) == 1);

    csi.node().nodeUnpublishVolume(unpublish("csi-mirror-a", ta));
    csi.node().nodeUnpublishVolume(unpublish("csi-mirror-b", tb));
  }
}

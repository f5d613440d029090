package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.RegistryServer;

/** Publishing from an htpasswd-protected registry with credentials from docker config.json. */
class AuthenticatedPublishIT {
  static final String USER = "modeluser";
  static final String PASSWORD = "s3cret-Pa55word";

  @TempDir static Path tmp;
  static RegistryServer registry;
  static PushedArtifact artifact;

  @BeforeAll
  static void start() throws Exception {
    registry = RegistryServer.startWithHtpasswd(tmp.resolve("registry"), USER, PASSWORD);
    Path good = dockerConfig("good", USER, PASSWORD);
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(good))) {
      artifact = ModelArtifactBuilder.create(tmp.resolve("artifact"))
          .rawFile("weights.safetensors", 500_000, 1)
          .push(pusher, Reference.parse(registry.host() + "/private/model:v1"));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    org.modelpack.csi.testing.CsiRequests.unmountAllUnder(tmp);
    if (registry != null) {
      registry.close();
    }
  }

  static Path dockerConfig(String name, String user, String password) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("docker-" + name));
    String auth = Base64.getEncoder().encodeToString((user + ":" + password)
        .getBytes(StandardCharsets.UTF_8));
    Files.writeString(dir.resolve("config.json"),
        "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}");
    return dir;
  }

  static NodePlugin plugin(String name, Path dockerConfig) throws Exception {
    Path root = tmp.resolve("root-" + name);
    return NodePlugin.start(new ConfigLoader(Map.of(), () -> "node", tmp).parse("""
        root_dir: %s
        csi_endpoint: unix://%s/csi.sock
        pull_config: {docker_config_dir: %s}
        """.formatted(root, root, dockerConfig)));
  }

  @Test
  void credentialsFromDockerConfigLetThePullThrough() throws Exception {
    try (NodePlugin p = plugin("good", dockerConfig("good", USER, PASSWORD));
        CsiClient csi = new CsiClient(p.config().csiEndpoint())) {
      Path target = tmp.resolve("pods/good/model");
      csi.node().nodePublishVolume(publish("csi-auth", target,
          artifact.reference().toString()).build());
      assertThat(sha256(target.resolve("weights.safetensors")))
          .isEqualTo(artifact.files().get(0).sha256());
      csi.node().nodeUnpublishVolume(unpublish("csi-auth", target));
      assertThat(target).doesNotExist();
    }
  }

  @Test
  void withoutCredentialsThePublishIsUnauthenticated() throws Exception {
    try (NodePlugin p = plugin("none", Files.createDirectories(tmp.resolve("docker-none")));
        CsiClient csi = new CsiClient(p.config().csiEndpoint())) {
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(publish("csi-anon",
              tmp.resolve("pods/none/model"), artifact.reference().toString()).build()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(p.config().volumesDir().resolve("csi-anon")).doesNotExist();
    }
  }

  @Test
  void aWrongPasswordIsUnauthenticatedAndNeverEchoed() throws Exception {
    String wrong = "wrong-Pa55word-xyz";
    try (NodePlugin p = plugin("wrong", dockerConfig("wrong", USER, wrong));
        CsiClient csi = new CsiClient(p.config().csiEndpoint())) {
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(publish("csi-wrong",
              tmp.resolve("pods/wrong/model"), artifact.reference().toString()).build()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(e.getStatus().getDescription()).doesNotContain(wrong)
          .doesNotContain(Base64.getEncoder().encodeToString((USER + ":" + wrong).getBytes()));
    }
  }
}

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

  @Test
  void aPodsOwnSecretUnlocksThePullAndAPodWithoutOneIsRefusedEvenWithTheLayersStored()
      throws Exception {
    try (NodePlugin p = plugin("pod-secrets", Files.createDirectories(tmp.resolve("docker-empty")));
        CsiClient csi = new CsiClient(p.config().csiEndpoint())) {
      Path withSecret = tmp.resolve("pods/secret/model");
      csi.node().nodePublishVolume(publish("csi-secret", withSecret,
          artifact.reference().toString()).putSecrets("username", USER)
          .putSecrets("password", PASSWORD).build());
      assertThat(sha256(withSecret.resolve("weights.safetensors")))
          .isEqualTo(artifact.files().get(0).sha256());

      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(publish("csi-nosecret",
              tmp.resolve("pods/nosecret/model"), artifact.reference().toString()).build()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(p.config().volumesDir().resolve("csi-nosecret")).doesNotExist();

      String dockerConfigJson = "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\""
          + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes()) + "\"}}}";
      Path viaDockerConfig = tmp.resolve("pods/dockerconfigjson/model");
      csi.node().nodePublishVolume(publish("csi-dcj", viaDockerConfig,
          artifact.reference().toString()).putSecrets(".dockerconfigjson", dockerConfigJson)
          .build());
      assertThat(sha256(viaDockerConfig.resolve("weights.safetensors")))
          .isEqualTo(artifact.files().get(0).sha256());
      csi.node().nodeUnpublishVolume(unpublish("csi-dcj", viaDockerConfig));
      csi.node().nodeUnpublishVolume(unpublish("csi-secret", withSecret));
    }
  }

  @Test
  void aMalformedPodSecretIsInvalidArgumentWithoutEchoingIt() throws Exception {
    try (NodePlugin p = plugin("bad-secret", Files.createDirectories(tmp.resolve("docker-empty2")));
        CsiClient csi = new CsiClient(p.config().csiEndpoint())) {
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(publish("csi-bad",
              tmp.resolve("pods/bad/model"), artifact.reference().toString())
              .putSecrets(".dockerconfigjson", "{broken s3cret-value").build()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).contains(".dockerconfigjson")
          .doesNotContain("s3cret-value");
    }
  }

  @Test
  void withTheRegistryDownAModelThatNeededCredentialsIsNotServedUncheckedFromTheStore()
      throws Exception {
    RegistryServer own = RegistryServer.startWithHtpasswd(tmp.resolve("registry-offline"), USER,
        PASSWORD);
    PushedArtifact a;
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker-none3")))) {
      a = ModelArtifactBuilder.create(tmp.resolve("artifact-offline"))
          .rawFile("weights.safetensors", 100_000, 7)
          .push(pusher.withCredentials(r -> org.modelpack.csi.registry.auth.Credentials
              .basic(USER, PASSWORD)), Reference.parse(own.host() + "/private/offline:v1"));
    }
    String tag = own.host() + "/private/offline:v1";
    try (NodePlugin p = plugin("offline", Files.createDirectories(tmp.resolve("docker-none2")));
        CsiClient csi = new CsiClient(p.config().csiEndpoint())) {
      Path first = tmp.resolve("pods/offline-1/model");
      csi.node().nodePublishVolume(publish("csi-off-1", first, tag)
          .putSecrets("username", USER).putSecrets("password", PASSWORD).build());
      csi.node().nodeUnpublishVolume(unpublish("csi-off-1", first));
      own.close();

      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(publish("csi-off-2",
              tmp.resolve("pods/offline-2/model"), tag).putSecrets("username", USER)
              .putSecrets("password", PASSWORD).build()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription()).contains("needs credentials");
      assertThat(p.store().entries()).anyMatch(en -> en.key().digest()
          .equals("sha256:" + a.files().get(0).sha256()));
    } finally {
      own.close();
    }
  }
}

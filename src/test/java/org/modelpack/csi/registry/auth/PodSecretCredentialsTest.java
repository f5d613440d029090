package org.modelpack.csi.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodSecretCredentialsTest {
  private static final CredentialStore NODE = registry -> Credentials.basic("node", "node-pw");

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void dockerConfigJsonSecretAnswersForItsRegistriesAndTheNodeForOthers() throws Exception {
    CredentialStore c = PodSecretCredentials.parse(Map.of(".dockerconfigjson",
        "{\"auths\":{\"https://registry.example.com/v1/\":{\"auth\":\"" + b64("pod:pod-pw")
            + "\"}}}")).orElseThrow().over(NODE, null);
    assertThat(c.lookup("registry.example.com").username()).isEqualTo("pod");
    assertThat(c.lookup("registry.example.com").password()).isEqualTo("pod-pw");
    assertThat(c.lookup("other.example.com").username()).isEqualTo("node");
  }

  @Test
  void usernameAndPasswordKeysApplyToEveryRegistryOfThePull() throws Exception {
    CredentialStore c = PodSecretCredentials.parse(Map.of("username", "u", "password", "p"))
        .orElseThrow().over(NODE, null);
    assertThat(c.lookup("a.example.com").username()).isEqualTo("u");
    assertThat(c.lookup("b.example.com:5000").password()).isEqualTo("p");
  }

  @Test
  void secretsWithoutKnownKeysMeanNoPodCredentials() {
    assertThat(PodSecretCredentials.parse(Map.of("token", "x"))).isEmpty();
    assertThat(PodSecretCredentials.parse(Map.of())).isEmpty();
  }

  @Test
  void malformedSecretsAreRefusedWithoutEchoingTheirValue() {
    assertThatThrownBy(() -> PodSecretCredentials.parse(
        Map.of(".dockerconfigjson", "{not json s3cret")))
        .hasMessageContaining(".dockerconfigjson").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> PodSecretCredentials.parse(Map.of("username", "u")))
        .hasMessageContaining("password");
  }

  @Test
  void toStringNeverShowsTheSecret() {
    CredentialStore c = PodSecretCredentials.parse(Map.of("username", "u", "password", "hunter2"))
        .orElseThrow().over(NODE, null);
    assertThat(c.toString()).doesNotContain("hunter2");
  }

  @Test
  void usernameAndPasswordNeverGoToAMirrorOrAnotherHost() throws Exception {
    CredentialStore c = PodSecretCredentials.parse(Map.of("username", "u", "password", "p"))
        .orElseThrow().over(NODE, "registry.example.com");
    assertThat(c.lookup("registry.example.com").username()).isEqualTo("u");
    assertThat(c.lookup("mirror.example.com:5000").username()).isEqualTo("node");
  }
}

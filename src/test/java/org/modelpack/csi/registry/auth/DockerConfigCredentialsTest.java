package org.modelpack.csi.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.registry.RegistryException;

class DockerConfigCredentialsTest {
  @TempDir Path dir;

  private DockerConfigCredentials store(String json) throws IOException {
    Files.writeString(dir.resolve("config.json"), json);
    return new DockerConfigCredentials(dir, List.of(dir.resolve("bin")));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void missingConfigFileMeansAnonymous() throws Exception {
    DockerConfigCredentials s = new DockerConfigCredentials(dir.resolve("nope"), List.of());
    assertThat(s.lookup("reg.example.com").isAnonymous()).isTrue();
    assertThat(s.serverScheme("reg.example.com")).isEmpty();
    assertThat(new DockerConfigCredentials(null, List.of()).lookup("x").isAnonymous()).isTrue();
  }

  @Test
  void authIsDecodedAndSplitAtTheFirstColon() throws Exception {
    DockerConfigCredentials s = store(
        "{\"auths\":{\"reg.example.com:5000\":{\"auth\":\"" + b64("bob:pa:ss") + "\"}}}");
    Credentials c = s.lookup("reg.example.com:5000");
    assertThat(c.username()).isEqualTo("bob");
    assertThat(c.password()).isEqualTo("pa:ss");
  }

  @Test
  void keysWithSchemeAndPathMatchTheBareHost() throws Exception {
    DockerConfigCredentials s = store("{\"auths\":{"
        + "\"https://a.example.com/\":{\"username\":\"ua\",\"password\":\"pa\"},"
        + "\"http://b.example.com:8080/v1/\":{\"auth\":\"" + b64("ub:pb") + "\"}}}");
    assertThat(s.lookup("a.example.com").username()).isEqualTo("ua");
    assertThat(s.lookup("a.example.com").password()).isEqualTo("pa");
    assertThat(s.lookup("b.example.com:8080").username()).isEqualTo("ub");
    assertThat(s.lookup("b.example.com").isAnonymous()).isTrue();
  }

  @Test
  void dockerHubIndexKeyMatchesDockerIo() throws Exception {
    DockerConfigCredentials s = store("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\""
        + b64("hub:pw") + "\"}}}");
    assertThat(s.lookup("docker.io").username()).isEqualTo("hub");
    assertThat(s.lookup("registry-1.docker.io").username()).isEqualTo("hub");
  }

  @Test
  void identityTokenRegistryTokenAndServerSchemeAreRead() throws Exception {
    DockerConfigCredentials s = store("{\"auths\":{\"r.io\":{\"identitytoken\":\"idt\","
        + "\"registrytoken\":\"rt\",\"serverscheme\":\"HTTP\"}}}");
    Credentials c = s.lookup("r.io");
    assertThat(c.identityToken()).isEqualTo("idt");
    assertThat(c.registryToken()).isEqualTo("rt");
    assertThat(s.serverScheme("r.io")).contains("http");
  }

  @Test
  void invalidJsonIsRejectedWithoutQuotingTheFile() throws Exception {
    DockerConfigCredentials s = store("{\"auths\": {\"r.io\": {\"auth\": \"SECRETVALUE\" ");
    assertThatThrownBy(() -> s.lookup("r.io"))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("not valid JSON")
        .hasMessageNotContaining("SECRETVALUE");
  }

  @Test
  void invalidBase64AuthIsRejectedWithoutQuotingIt() throws Exception {
    DockerConfigCredentials s = store("{\"auths\":{\"r.io\":{\"auth\":\"!!SECRET!!\"}}}");
    assertThatThrownBy(() -> s.lookup("r.io"))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("base64")
        .hasMessageNotContaining("SECRET");
  }

  private void fakeHelper(String suffix, String script) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path exe = bin.resolve("docker-credential-" + suffix);
    Files.writeString(exe, "#!/bin/sh\n" + script);
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /** Echoes the server it was asked about as username so tests can check what was sent. */
  private static final String ECHO_HELPER = """
      [ "$1" = get ] || exit 3
      server=$(cat)
      case "$server" in
        *unknown*) echo "credentials not found in native keychain"; exit 1 ;;
        *broken*) echo "boom SECRET"; exit 7 ;;
      esac
      printf '{"ServerURL":"%s","Username":"%s","Secret":"s3cret"}' "$server" "$server"
      """;

  @Test
  void credHelperForTheHostIsRunWithTheServerOnStdin() throws Exception {
    fakeHelper("test", ECHO_HELPER);
    DockerConfigCredentials s = store(
        "{\"credHelpers\":{\"reg.example.com\":\"test\"},"
            + "\"auths\":{\"reg.example.com\":{\"auth\":\"" + b64("plain:pw") + "\"}}}");
    Credentials c = s.lookup("reg.example.com");
    assertThat(c.username()).isEqualTo("reg.example.com");
    assertThat(c.password()).isEqualTo("s3cret");
  }

  @Test
  void credsStoreIsUsedForEveryHostAndDockerHubUsesTheIndexUrl() throws Exception {
    fakeHelper("test", ECHO_HELPER);
    DockerConfigCredentials s = store("{\"credsStore\":\"test\"}");
    assertThat(s.lookup("docker.io").username()).isEqualTo("https://index.docker.io/v1/");
    assertThat(s.lookup("other.io:443").username()).isEqualTo("other.io:443");
  }

  @Test
  void helperSayingCredentialsNotFoundMeansFallBackToAuthsOrAnonymous() throws Exception {
    fakeHelper("test", ECHO_HELPER);
    DockerConfigCredentials s = store("{\"credsStore\":\"test\",\"auths\":{\"unknown.io\":"
        + "{\"auth\":\"" + b64("plain:pw") + "\"}}}");
    assertThat(s.lookup("unknown.io").username()).isEqualTo("plain");
    assertThat(s.lookup("unknown2.io").isAnonymous()).isTrue();
  }

  @Test
  void helperTokenUsernameMeansIdentityToken() throws Exception {
    fakeHelper("tok", "cat >/dev/null; echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\","
        + "\"Secret\":\"refresh-1\"}'\n");
    DockerConfigCredentials s = store("{\"credHelpers\":{\"r.io\":\"tok\"}}");
    Credentials c = s.lookup("r.io");
    assertThat(c.identityToken()).isEqualTo("refresh-1");
    assertThat(c.username()).isNull();
    assertThat(c.hasBasic()).isFalse();
  }

  @Test
  void failingHelperIsAnErrorThatDoesNotQuoteItsOutput() throws Exception {
    fakeHelper("test", ECHO_HELPER);
    DockerConfigCredentials s = store("{\"credsStore\":\"test\"}");
    assertThatThrownBy(() -> s.lookup("broken.io"))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("docker-credential-test")
        .hasMessageContaining("exit 7")
        .hasMessageNotContaining("SECRET");
  }

  @Test
  void missingHelperIsAnError() throws Exception {
    DockerConfigCredentials s = store("{\"credsStore\":\"absent\"}");
    assertThatThrownBy(() -> s.lookup("r.io"))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("docker-credential-absent not found");
  }

  @Test
  void helperSuffixWithPathSeparatorsIsRefused() throws Exception {
    DockerConfigCredentials s = store("{\"credsStore\":\"../../bin/sh\"}");
    assertThatThrownBy(() -> s.lookup("r.io"))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("not allowed");
  }
}

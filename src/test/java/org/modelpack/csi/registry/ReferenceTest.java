package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReferenceTest {
  private static final String D = "sha256:" + "a".repeat(64);

  @Test
  void hostWithPortRepositoryAndTagAreSplit() {
    Reference r = Reference.parse("127.0.0.1:5000/ns/model:v1");
    assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
    assertThat(r.repository()).isEqualTo("ns/model");
    assertThat(r.tag()).isEqualTo("v1");
    assertThat(r.digest()).isNull();
    assertThat(r.identifier()).isEqualTo("v1");
    assertThat(r.apiHost()).isEqualTo("127.0.0.1:5000");
    assertThat(r).hasToString("127.0.0.1:5000/ns/model:v1");
  }

  @Test
  void ipv6HostWithPortIsARegistry() {
    Reference r = Reference.parse("[::1]:5000/ns/model:v1");
    assertThat(r.registry()).isEqualTo("[::1]:5000");
    assertThat(r.repository()).isEqualTo("ns/model");
    assertThat(r.tag()).isEqualTo("v1");
  }

  @Test
  void localhostWithoutPortIsARegistryAndDefaultsToLatest() {
    Reference r = Reference.parse("localhost/model");
    assertThat(r.registry()).isEqualTo("localhost");
    assertThat(r.repository()).isEqualTo("model");
    assertThat(r.tag()).isEqualTo("latest");
    assertThat(Reference.parse("localhost:5000/a/b").registry()).isEqualTo("localhost:5000");
  }

  @Test
  void digestOnlyReferenceHasNoTagAndUsesDigestAsIdentifier() {
    Reference r = Reference.parse("reg.example.com/ns/model@" + D);
    assertThat(r.tag()).isNull();
    assertThat(r.digest()).isEqualTo(D);
    assertThat(r.identifier()).isEqualTo(D);
    assertThat(r).hasToString("reg.example.com/ns/model@" + D);
  }

  @Test
  void tagAndDigestAreBothKeptAndDigestWins() {
    Reference r = Reference.parse("reg.example.com:443/ns/model:v2@" + D);
    assertThat(r.tag()).isEqualTo("v2");
    assertThat(r.identifier()).isEqualTo(D);
    assertThat(r).hasToString("reg.example.com:443/ns/model:v2@" + D);
  }

  @ParameterizedTest
  @CsvSource({
      "ubuntu, docker.io, library/ubuntu, latest",
      "ubuntu:22.04, docker.io, library/ubuntu, 22.04",
      "someone/model, docker.io, someone/model, latest",
      "docker.io/ubuntu, docker.io, library/ubuntu, latest",
      "index.docker.io/x/y:t, docker.io, x/y, t",
  })
  void dockerHubNamesAreNormalised(String in, String registry, String repo, String tag) {
    Reference r = Reference.parse(in);
    assertThat(r.registry()).isEqualTo(registry);
    assertThat(r.repository()).isEqualTo(repo);
    assertThat(r.tag()).isEqualTo(tag);
    assertThat(r.apiHost()).isEqualTo("registry-1.docker.io");
  }

  @Test
  void withDigestPinsTheReferenceAndKeepsTheTag() {
    Reference r = Reference.parse("127.0.0.1:5000/ns/model:v1").withDigest(D);
    assertThat(r.identifier()).isEqualTo(D);
    assertThat(r.tag()).isEqualTo("v1");
  }

  @Test
  void canonicalStringParsesBackToTheSameReference() {
    Reference r = Reference.parse("ubuntu");
    assertThat(Reference.parse(r.toString())).isEqualTo(r);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''| empty",
      "'   '| empty",
      "reg.io/NS/Model:v1| invalid repository 'NS/Model' (must be lowercase)",
      "reg.io/ns/-model| invalid repository",
      "reg.io/ns//model| invalid repository",
      "reg.io/ns/model:-bad| invalid tag '-bad'",
      "reg.io/ns/model:| invalid tag ''",
      "reg.io/ns/model@sha256:abc| invalid digest",
      "reg.io/ns/model@md5:" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "| invalid digest",
      ":v1| no repository",
      "reg_io:5000/x/y| invalid registry host",
  })
  void invalidReferencesAreRejectedWithAMessageNamingTheProblem(String in, String expected) {
    assertThatThrownBy(() -> Reference.parse(in))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(expected);
  }

  @Test
  void tooLongTagIsRejected() {
    assertThatThrownBy(() -> Reference.parse("reg.io/a:" + "t".repeat(129)))
        .hasMessageContaining("invalid tag");
  }
}

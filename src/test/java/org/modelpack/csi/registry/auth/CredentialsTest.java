package org.modelpack.csi.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CredentialsTest {

  @Test
  void toStringNeverShowsSecrets() {
    Credentials c = new Credentials("alice", "pw-SECRET", "id-SECRET", "reg-SECRET");
    assertThat(c.toString()).contains("alice").doesNotContain("SECRET");
  }

  @Test
  void anonymousHasNothing() {
    assertThat(Credentials.ANONYMOUS.isAnonymous()).isTrue();
    assertThat(Credentials.basic("u", "p").hasBasic()).isTrue();
    assertThat(new Credentials("u", null, null, null).isAnonymous()).isTrue();
  }
}
